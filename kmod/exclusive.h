/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hmm_mirror device-exclusive access (make_device_exclusive) and the device
 * atomics it allows. Needs CONFIG_DEVICE_PRIVATE; elsewhere the stubs below
 * report -EOPNOTSUPP, so callers carry no #ifdef.
 */
#ifndef HMM_MIRROR_EXCLUSIVE_H
#define HMM_MIRROR_EXCLUSIVE_H

#include <linux/errno.h>
#include <linux/mmu_notifier.h>
#include <linux/mutex.h>
#include <linux/types.h>

struct hmm_mirror;

/*
 * The grant in flight of one mirror, for kernels whose
 * make_device_exclusive_range() drops the folio's rmap (before 6.15, see
 * compat.h): there folio_mapped() cannot tell that a zap removed the entry
 * after the grant, so the invalidation callback flags a zap of the page
 * being granted instead. Unused on newer kernels.
 */
struct hmm_mirror_excl {
	/* serialises the grants of the mirror: one page in flight */
	struct mutex lock;
	unsigned long addr;	/* page being granted, 0: none; under mirror->lock */
	bool zapped;		/* a zap hit @addr; under mirror->lock */
};

#if IS_ENABLED(CONFIG_DEVICE_PRIVATE)

void hmm_mirror_excl_init(struct hmm_mirror_excl *excl);
void hmm_mirror_excl_invalidate(struct hmm_mirror *mirror,
				const struct mmu_notifier_range *range);
int hmm_mirror_exclusive(struct hmm_mirror *mirror, unsigned long start,
			 unsigned long npages, u64 *done);
int hmm_mirror_atomic_add(struct hmm_mirror *mirror, unsigned long addr,
			  u64 value, u64 *old);

#else /* !CONFIG_DEVICE_PRIVATE */

static inline void hmm_mirror_excl_init(struct hmm_mirror_excl *excl)
{
}

static inline void
hmm_mirror_excl_invalidate(struct hmm_mirror *mirror,
			   const struct mmu_notifier_range *range)
{
}

static inline int hmm_mirror_exclusive(struct hmm_mirror *mirror,
				       unsigned long start,
				       unsigned long npages, u64 *done)
{
	return -EOPNOTSUPP;
}

static inline int hmm_mirror_atomic_add(struct hmm_mirror *mirror,
					unsigned long addr, u64 value,
					u64 *old)
{
	return -EOPNOTSUPP;
}

#endif /* CONFIG_DEVICE_PRIVATE */

#endif /* HMM_MIRROR_EXCLUSIVE_H */
