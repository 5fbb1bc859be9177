// SPDX-License-Identifier: GPL-2.0
/*
 * hmm_mirror device-exclusive access: make_device_exclusive() replaces the
 * CPU's mapping of a page by a device-exclusive entry, so that the device
 * may do atomics on it until the CPU (or another device) touches the page
 * and revokes the grant through the mirror's invalidation callback. The
 * grant is mapped in the device page table as HMM_MIRROR_PT_EXCLUSIVE.
 */
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/sched/mm.h>

#include "compat.h"
#include "mirror.h"

void hmm_mirror_excl_init(struct hmm_mirror_excl *excl)
{
	mutex_init(&excl->lock);
	excl->addr = 0;
	excl->zapped = false;
}

/*
 * From the invalidation callback, under mirror->lock: notes a zap of the
 * page being granted, on kernels where folio_mapped() cannot tell.
 */
void hmm_mirror_excl_invalidate(struct hmm_mirror *mirror,
				const struct mmu_notifier_range *range)
{
	struct hmm_mirror_excl *excl = &mirror->excl;

	lockdep_assert_held(&mirror->lock);
	if (HMM_MIRROR_EXCLUSIVE_KEEPS_RMAP || !excl->addr)
		return;
	if (range->start <= excl->addr && excl->addr < range->end &&
	    (range->event == MMU_NOTIFY_CLEAR || range->event == MMU_NOTIFY_UNMAP))
		excl->zapped = true;
}

/* Names the page about to be granted, for hmm_mirror_excl_invalidate(). */
static void hmm_mirror_excl_track(struct hmm_mirror *mirror, unsigned long addr)
{
	if (HMM_MIRROR_EXCLUSIVE_KEEPS_RMAP)
		return;
	mutex_lock(&mirror->lock);
	mirror->excl.addr = addr;
	mirror->excl.zapped = false;
	mutex_unlock(&mirror->lock);
}

/*
 * Under mirror->lock, after the grant: whether a zap removed the
 * device-exclusive entry of @folio since; ends the tracking.
 */
static bool hmm_mirror_excl_lost(struct hmm_mirror *mirror, struct folio *folio)
{
	bool zapped;

	lockdep_assert_held(&mirror->lock);
	if (HMM_MIRROR_EXCLUSIVE_KEEPS_RMAP)
		return !folio_mapped(folio);
	zapped = mirror->excl.zapped;
	mirror->excl.addr = 0;
	return zapped;
}

/* Adds @value to the 64-bit word at @addr of @page; the old value in *@old. */
static void hmm_mirror_excl_add(struct hmm_mirror *mirror, struct page *page,
				unsigned long addr, u64 value, u64 *old)
{
	void *kaddr = kmap_local_page(page);
	atomic64_t *w = kaddr + offset_in_page(addr);

	*old = atomic64_fetch_add(value, w);
	kunmap_local(kaddr);
	atomic64_inc(&mirror->stats.device_atomics);
}

/*
 * Makes the page at @addr device-exclusive for @mirror and maps it in the
 * device page table. When @word is set, also adds @value to the 64-bit word
 * at @addr (storing the old value in *@old) before anyone can revoke the
 * grant: the folio lock and mirror->lock are both held, and the CPU (or
 * another device) needs them to take the page back.
 */
static int __hmm_mirror_exclusive_page(struct hmm_mirror *mirror,
				       unsigned long addr, bool word,
				       u64 value, u64 *old)
{
	struct mm_struct *mm = mirror->mm;
	struct hmm_mirror_retry r;
	int ret;

	hmm_mirror_retry_init(&r, mirror);
	for (;;) {
		struct vm_area_struct *vma;
		struct folio *folio;
		struct page *page;
		bool retry;

		ret = hmm_mirror_retry_next(&r);
		if (ret)
			return ret;
		/* held until the entry is in: munmap cannot run meanwhile */
		mmap_read_lock(mm);
		vma = vma_lookup(mm, addr);
		if (!vma || !(vma->vm_flags & VM_WRITE)) {
			/* atomics write: like a device write, a read-only mapping refuses */
			mmap_read_unlock(mm);
			return vma ? -EPERM : -EFAULT;
		}
		hmm_mirror_excl_track(mirror, addr & PAGE_MASK);
		page = hmm_mirror_make_device_exclusive(mm, addr & PAGE_MASK,
							mirror, &folio);
		if (IS_ERR(page)) {
			hmm_mirror_excl_track(mirror, 0);
			mmap_read_unlock(mm);
			return PTR_ERR(page);
		}
		/*
		 * The folio is locked: neither the CPU nor another device can
		 * take the page back until we unlock it, so the sequence is
		 * sampled only now. Only a zap (e.g. MADV_DONTNEED) can still
		 * remove the entry: hmm_mirror_excl_lost() tells one before
		 * the sample, the sequence any later one.
		 */
		hmm_mirror_retry_sample(&r);
		mutex_lock(&mirror->lock);
		retry = hmm_mirror_excl_lost(mirror, folio);
		retry = retry || hmm_mirror_retry_stale(&r);
		if (!retry) {
			ret = hmm_mirror_pt_store(&mirror->pt, addr, page,
						  HMM_MIRROR_PT_EXCLUSIVE);
			if (!ret) {
				atomic64_inc(&mirror->stats.exclusive_grants);
				if (word)
					hmm_mirror_excl_add(mirror, page, addr,
							    value, old);
			}
		}
		mutex_unlock(&mirror->lock);
		mmap_read_unlock(mm);
		folio_unlock(folio);
		folio_put(folio);
		if (!retry)
			return ret;
	}
}

static int hmm_mirror_exclusive_page(struct hmm_mirror *mirror,
				     unsigned long addr, bool word, u64 value,
				     u64 *old)
{
	int ret;

	if (HMM_MIRROR_EXCLUSIVE_KEEPS_RMAP)
		return __hmm_mirror_exclusive_page(mirror, addr, word, value, old);

	/* one grant at a time: excl.addr names the page in flight */
	mutex_lock(&mirror->excl.lock);
	ret = __hmm_mirror_exclusive_page(mirror, addr, word, value, old);
	mutex_unlock(&mirror->excl.lock);
	return ret;
}

int hmm_mirror_exclusive(struct hmm_mirror *mirror, unsigned long start,
			 unsigned long npages, u64 *done)
{
	unsigned long i;
	int ret = 0;

	if (!mmget_not_zero(mirror->mm))
		return -ESRCH;
	for (i = 0; i < npages; i++) {
		ret = hmm_mirror_exclusive_page(mirror, start + (i << PAGE_SHIFT),
						false, 0, NULL);
		if (ret)
			break;
		(*done)++;
	}
	mmput(mirror->mm);
	return ret;
}

int hmm_mirror_atomic_add(struct hmm_mirror *mirror, unsigned long addr,
			  u64 value, u64 *old)
{
	enum hmm_mirror_pt_access access;
	struct page *page;
	int ret;

	/* fast path: the page is still exclusive for this mirror */
	mutex_lock(&mirror->lock);
	page = hmm_mirror_pt_lookup(&mirror->pt, addr, &access);
	if (page && access == HMM_MIRROR_PT_EXCLUSIVE) {
		hmm_mirror_excl_add(mirror, page, addr, value, old);
		mutex_unlock(&mirror->lock);
		return 0;
	}
	mutex_unlock(&mirror->lock);

	if (!mmget_not_zero(mirror->mm))
		return -ESRCH;
	ret = hmm_mirror_exclusive_page(mirror, addr, true, value, old);
	mmput(mirror->mm);
	return ret;
}
