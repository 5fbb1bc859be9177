/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hmm_mirror device page table: what the simulated device may access, one
 * entry per page. Only pt.c touches the XArray behind it.
 */
#ifndef HMM_MIRROR_PT_H
#define HMM_MIRROR_PT_H

#include <linux/mutex.h>
#include <linux/xarray.h>

struct page;

/*
 * What the device may do with a page. The values are the XArray pointer
 * tags of the entries, which is why EXCLUSIVE is 3: the XArray allows tags
 * 0, 1 and 3 only (tag 2 marks its internal entries, and walking or erasing
 * such an entry loops or reads garbage). An exclusive entry is writable too.
 */
enum hmm_mirror_pt_access {
	HMM_MIRROR_PT_READ = 0,
	HMM_MIRROR_PT_WRITE = 1,
	HMM_MIRROR_PT_EXCLUSIVE = 3,
};

/*
 * Entries hold no page reference: that is valid because the mirror's
 * invalidation callback clears them before the kernel frees or moves the
 * page, under the same lock as every store.
 */
struct hmm_mirror_pt {
	/* addr >> PAGE_SHIFT -> tagged struct page *; changed under *@lock */
	struct xarray entries;
	/* the owning mirror's update lock: held for every call but destroy */
	struct mutex *lock;
};

void hmm_mirror_pt_init(struct hmm_mirror_pt *pt, struct mutex *lock);
void hmm_mirror_pt_destroy(struct hmm_mirror_pt *pt);
int hmm_mirror_pt_store(struct hmm_mirror_pt *pt, unsigned long addr,
			struct page *page, enum hmm_mirror_pt_access access);
struct page *hmm_mirror_pt_lookup(struct hmm_mirror_pt *pt, unsigned long addr,
				  enum hmm_mirror_pt_access *access);
unsigned long hmm_mirror_pt_clear(struct hmm_mirror_pt *pt, unsigned long start,
				  unsigned long end, unsigned long *exclusive);
unsigned long hmm_mirror_pt_count(struct hmm_mirror_pt *pt, unsigned long start,
				  unsigned long end,
				  bool (*match)(struct page *page),
				  unsigned long *first);

#endif /* HMM_MIRROR_PT_H */
