/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hmm_mirror planted bugs: a test aid, off by default. The module
 * parameter plant_bug makes the module misbehave in one known way, so
 * that a test can check that the explorer (model-based testing from
 * userspace) finds the bug and shrinks it to a short reproducer. Every
 * planted bug keeps the kernel safe: no device entry ever outlives the
 * CPU's reference to its page.
 *
 * planted.c owns them: the module's paths call one hook each, which says
 * whether the planted bug acts there (never when none is planted).
 */
#ifndef HMM_MIRROR_PLANTED_H
#define HMM_MIRROR_PLANTED_H

#include <linux/types.h>

struct hmm_mirror;
struct hmm_range;
struct mmu_notifier_range;

enum hmm_mirror_bug {
	HMM_MIRROR_BUG_NONE = 0,
	/* protection changes (mprotect, fork) leave the device's entries */
	HMM_MIRROR_BUG_KEEP_WRITE = 1,
	/* every second invalidation that removed entries goes unreported */
	HMM_MIRROR_BUG_LOSE_EVENT = 2,
	/* migration to the device zeroes the last page of a chunk */
	HMM_MIRROR_BUG_SKIP_COPY = 3,
	/* closing a mirror leaves one of its pages in device memory */
	HMM_MIRROR_BUG_CLOSE_LEAVES_PAGE = 4,
	/*
	 * a read fault commits without the sequence re-check (a race: only
	 * concurrent runs find it); read-only entries, so the device never
	 * writes through a stale one
	 */
	HMM_MIRROR_BUG_STALE_READ_FAULT = 5,
	HMM_MIRROR_BUG_MAX = HMM_MIRROR_BUG_STALE_READ_FAULT,
};

int hmm_mirror_planted_check(void);
bool hmm_mirror_planted_any(void);

/* The hooks, one per planted bug (see planted.c). */
bool hmm_mirror_planted_keeps_entries(const struct mmu_notifier_range *range);
bool hmm_mirror_planted_loses_event(struct hmm_mirror *mirror,
				    unsigned long pages);
bool hmm_mirror_planted_skips_copy(unsigned long i, unsigned long n);
bool hmm_mirror_planted_leaves_page(const struct hmm_mirror *only);
bool hmm_mirror_planted_commits_stale(const struct hmm_range *range,
				      bool snapshot);
void hmm_mirror_planted_fault_window(const struct hmm_range *range,
				     bool snapshot);

#endif /* HMM_MIRROR_PLANTED_H */
