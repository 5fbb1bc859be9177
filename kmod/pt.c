// SPDX-License-Identifier: GPL-2.0
/*
 * hmm_mirror device page table: an XArray indexed by page number whose
 * entries are struct page pointers tagged with the device's access
 * (enum hmm_mirror_pt_access). The caller holds the mirror's update lock
 * (pt->lock) for every operation but destroy; stores never sleep, since
 * they run in paths that reclaim's invalidation callback waits for.
 */
#include <linux/bug.h>
#include <linux/lockdep.h>
#include <linux/mm.h>

#include "pt.h"

void hmm_mirror_pt_init(struct hmm_mirror_pt *pt, struct mutex *lock)
{
	xa_init(&pt->entries);
	pt->lock = lock;
}

/* Frees the XArray's nodes; the mirror is gone, nobody else can look. */
void hmm_mirror_pt_destroy(struct hmm_mirror_pt *pt)
{
	xa_destroy(&pt->entries);
}

/* Maps @page at @addr (page aligned); 0 or a negative errno (-ENOMEM). */
int hmm_mirror_pt_store(struct hmm_mirror_pt *pt, unsigned long addr,
			struct page *page, enum hmm_mirror_pt_access access)
{
	void *old;

	lockdep_assert_held(pt->lock);
	if (WARN_ON_ONCE(!page || (access != HMM_MIRROR_PT_READ &&
				   access != HMM_MIRROR_PT_WRITE &&
				   access != HMM_MIRROR_PT_EXCLUSIVE)))
		return -EINVAL;
	/* no sleeping allocation: reclaim could call our notifier */
	old = xa_store(&pt->entries, addr >> PAGE_SHIFT,
		       xa_tag_pointer(page, access), GFP_ATOMIC);
	return xa_err(old);
}

/* The page mapped at @addr and its access, or NULL when there is none. */
struct page *hmm_mirror_pt_lookup(struct hmm_mirror_pt *pt, unsigned long addr,
				  enum hmm_mirror_pt_access *access)
{
	void *entry;

	lockdep_assert_held(pt->lock);
	entry = xa_load(&pt->entries, addr >> PAGE_SHIFT);
	if (!entry)
		return NULL;
	*access = xa_pointer_tag(entry);
	return xa_untag_pointer(entry);
}

/*
 * Removes the entries of [@start, @end); returns how many there were, and
 * in *@exclusive how many of those were device-exclusive.
 */
unsigned long hmm_mirror_pt_clear(struct hmm_mirror_pt *pt, unsigned long start,
				  unsigned long end, unsigned long *exclusive)
{
	unsigned long index, n = 0;
	void *entry;

	lockdep_assert_held(pt->lock);
	*exclusive = 0;
	xa_for_each_range(&pt->entries, index, entry, start >> PAGE_SHIFT,
			  (end - 1) >> PAGE_SHIFT) {
		if (xa_pointer_tag(entry) == HMM_MIRROR_PT_EXCLUSIVE)
			(*exclusive)++;
		xa_erase(&pt->entries, index);
		n++;
	}
	return n;
}

/*
 * How many pages mapped in [@start, @end) @match says yes to; the address
 * of the first in *@first (untouched when none).
 */
unsigned long hmm_mirror_pt_count(struct hmm_mirror_pt *pt, unsigned long start,
				  unsigned long end,
				  bool (*match)(struct page *page),
				  unsigned long *first)
{
	unsigned long index, n = 0;
	void *entry;

	lockdep_assert_held(pt->lock);
	xa_for_each_range(&pt->entries, index, entry, start >> PAGE_SHIFT,
			  (end - 1) >> PAGE_SHIFT) {
		if (!match(xa_untag_pointer(entry)))
			continue;
		if (!n++)
			*first = index << PAGE_SHIFT;
	}
	return n;
}
