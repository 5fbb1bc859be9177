// SPDX-License-Identifier: GPL-2.0
/*
 * hmm_mirror planted bugs (planted.h): the plant_bug module parameter and
 * the hooks through which the module's paths misbehave when it names
 * their bug. With plant_bug=0 (the default) every hook returns false.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/delay.h>
#include <linux/errno.h>
#include <linux/hmm.h>
#include <linux/lockdep.h>
#include <linux/memremap.h>
#include <linux/mmu_notifier.h>
#include <linux/moduleparam.h>
#include <linux/printk.h>

#include "mirror.h"
#include "planted.h"

/* read-only after load: the bug a test planted, for the module's lifetime */
static unsigned int plant_bug;
module_param(plant_bug, uint, 0444);
MODULE_PARM_DESC(plant_bug, "test aid, default 0 (none): plant a known bug for the explorer to find: 1 protection changes keep device entries, 2 every second invalidation that removed entries goes unreported, 3 migration to the device zeroes the last page of a chunk, 4 closing a mirror leaves a page in device memory, 5 a read fault commits without the sequence re-check");

/* At load: 0, or -EINVAL for a value that names no bug. */
int hmm_mirror_planted_check(void)
{
	if (plant_bug > HMM_MIRROR_BUG_MAX) {
		pr_err("plant_bug=%u names no planted bug (0-%d)\n", plant_bug,
		       HMM_MIRROR_BUG_MAX);
		return -EINVAL;
	}
	if (plant_bug)
		pr_notice("test aid: planted bug %u is active\n", plant_bug);
	return 0;
}

/* Whether a planted bug is armed (the contract checks then stand aside). */
bool hmm_mirror_planted_any(void)
{
	return plant_bug != HMM_MIRROR_BUG_NONE;
}

static bool hmm_mirror_planted(enum hmm_mirror_bug bug)
{
	return plant_bug == bug;
}

/*
 * Planted bug 1, in the invalidation callback: a protection change leaves
 * the device's entries. Safe to plant: the CPU keeps mapping the same
 * pages.
 */
bool hmm_mirror_planted_keeps_entries(const struct mmu_notifier_range *range)
{
	return hmm_mirror_planted(HMM_MIRROR_BUG_KEEP_WRITE) &&
	       (range->event == MMU_NOTIFY_PROTECTION_VMA ||
		range->event == MMU_NOTIFY_PROTECTION_PAGE);
}

/*
 * Planted bug 2, in the invalidation callback: every second invalidation
 * that removed @pages device entries goes unreported. Under mirror->lock
 * (it counts in @planted_count).
 */
bool hmm_mirror_planted_loses_event(struct hmm_mirror *mirror,
				    unsigned long pages)
{
	lockdep_assert_held(&mirror->lock);
	if (!pages || !hmm_mirror_planted(HMM_MIRROR_BUG_LOSE_EVENT))
		return false;
	return mirror->planted_count++ & 1;
}

/*
 * Planted bug 3, in a migration to the device: page @i of a chunk of @n
 * is not copied (the device page reads as zeroes) when it is the last.
 */
bool hmm_mirror_planted_skips_copy(unsigned long i, unsigned long n)
{
	return i == n - 1 && hmm_mirror_planted(HMM_MIRROR_BUG_SKIP_COPY);
}

/*
 * Planted bug 4, in the eviction when mirror @only closes (NULL: the
 * device goes away, and all pages come back): the first of its pages
 * stays in device memory.
 */
bool hmm_mirror_planted_leaves_page(const struct hmm_mirror *only)
{
	return only && hmm_mirror_planted(HMM_MIRROR_BUG_CLOSE_LEAVES_PAGE);
}

/* Planted bug 5 acts on read faults only (not on snapshots). */
static bool hmm_mirror_planted_read_fault(const struct hmm_range *range,
					  bool snapshot)
{
	return !snapshot && !(range->default_flags & HMM_PFN_REQ_WRITE) &&
	       hmm_mirror_planted(HMM_MIRROR_BUG_STALE_READ_FAULT);
}

/*
 * Planted bug 5, in the fault path: a read fault commits what
 * hmm_range_fault() returned in @range even when an invalidation ran
 * since (never a @snapshot). Read faults of system pages only: the entry
 * is read-only, so a stale one can be read through (a freed system page
 * stays in the direct map) but never written. A stale entry of a
 * device-private page would be worse than stale data: once the page is
 * freed, its zone_device_data links the free list, and a copy would kmap
 * another device page (an oops seen in CI when the race migrated pages
 * under the planted bug).
 */
bool hmm_mirror_planted_commits_stale(const struct hmm_range *range,
				      bool snapshot)
{
	unsigned long npages = (range->end - range->start) >> PAGE_SHIFT;
	unsigned long i;

	if (!hmm_mirror_planted_read_fault(range, snapshot))
		return false;
	for (i = 0; i < npages; i++) {
		unsigned long pfn = range->hmm_pfns[i];

		if ((pfn & HMM_PFN_VALID) &&
		    is_device_private_page(hmm_pfn_to_page(pfn)))
			return false;
	}
	return true;
}

/*
 * Planted bug 5's window, in the fault path between hmm_range_fault() and
 * the sequence re-check (no lock held): a read fault sleeps there for
 * about a millisecond. Without it the window is a few instructions wide,
 * and on one CPU a kernel that does not preempt there runs no other task
 * inside it: the race mode found the bug in 10,000 device reads on one
 * run and not in 34,000 on the next (x86-64 under TCG), and never on a
 * one-vCPU arm64 guest. A fault that sleeps there is what a preempted
 * fault on a busy machine does; the bug stays the missing re-check.
 */
void hmm_mirror_planted_fault_window(const struct hmm_range *range,
				     bool snapshot)
{
	if (hmm_mirror_planted_read_fault(range, snapshot))
		usleep_range(1000, 2000);
}
