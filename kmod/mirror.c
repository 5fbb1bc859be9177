// SPDX-License-Identifier: GPL-2.0
/*
 * hmm_mirror device page table: an interval notifier over the whole
 * address space keeps it coherent with the CPU page table, and the fault
 * path fills it with hmm_range_fault() following Documentation/mm/hmm.rst.
 */
#include <linux/delay.h>
#include <linux/highmem.h>
#include <linux/hmm.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "mirror.h"

/* Pages handled by one hmm_range_fault() call. */
#define HMM_MIRROR_FAULT_CHUNK 64UL

static bool hmm_mirror_invalidate(struct mmu_interval_notifier *mni,
				  const struct mmu_notifier_range *range,
				  unsigned long cur_seq)
{
	struct hmm_mirror *mirror = container_of(mni, struct hmm_mirror, notifier);
	unsigned long first = range->start >> PAGE_SHIFT;
	unsigned long last = (range->end - 1) >> PAGE_SHIFT;
	unsigned long index;
	u64 pages = 0;
	void *entry;

	/*
	 * Our own exclusive grant: the entry is installed by the grant itself,
	 * under the sequence check of hmm_mirror_exclusive_page().
	 */
	if (range->event == MMU_NOTIFY_EXCLUSIVE && range->owner == mirror)
		return true;

	if (mmu_notifier_range_blockable(range))
		mutex_lock(&mirror->lock);
	else if (!mutex_trylock(&mirror->lock))
		return false;

	/* a slow device cannot be waited for where sleeping is not allowed */
	if (mirror->delay_us && !mmu_notifier_range_blockable(range)) {
		mutex_unlock(&mirror->lock);
		return false;
	}

	mmu_interval_set_seq(mni, cur_seq);
#ifndef HMM_MIRROR_HAVE_MAKE_DEVICE_EXCLUSIVE
	if (mirror->excl_addr && range->start <= mirror->excl_addr &&
	    mirror->excl_addr < range->end &&
	    (range->event == MMU_NOTIFY_CLEAR || range->event == MMU_NOTIFY_UNMAP))
		mirror->excl_zapped = true;
#endif

	if (mirror->delay_us)
		fsleep(mirror->delay_us);

	xa_for_each_range(&mirror->pt, index, entry, first, last) {
		if (xa_pointer_tag(entry) == HMM_MIRROR_PT_EXCLUSIVE)
			atomic64_inc(&mirror->stats.exclusive_revocations);
		xa_erase(&mirror->pt, index);
		pages++;
	}
	atomic64_inc(&mirror->stats.invalidations);
	atomic64_add(pages, &mirror->stats.pages_invalidated);
	hmm_mirror_events_record(mirror, range, cur_seq, pages);
	mutex_unlock(&mirror->lock);
	return true;
}

static const struct mmu_interval_notifier_ops hmm_mirror_notifier_ops = {
	.invalidate = hmm_mirror_invalidate,
};

int hmm_mirror_init_mirror(struct hmm_mirror *mirror, struct mm_struct *mm)
{
	int ret;

	mutex_init(&mirror->lock);
#ifndef HMM_MIRROR_HAVE_MAKE_DEVICE_EXCLUSIVE
	mutex_init(&mirror->excl_lock);
#endif
	xa_init(&mirror->pt);
	ret = hmm_mirror_events_init(&mirror->events);
	if (ret)
		return ret;
	mirror->mm = mm;
	mmgrab(mm);
	ret = mmu_interval_notifier_insert(&mirror->notifier, mm, 0,
					   ULONG_MAX & PAGE_MASK,
					   &hmm_mirror_notifier_ops);
	if (ret) {
		mmdrop(mm);
		hmm_mirror_events_fini(&mirror->events);
		return ret;
	}
	return 0;
}

void hmm_mirror_fini_mirror(struct hmm_mirror *mirror)
{
	/* bring back whatever this mirror moved to device memory */
	hmm_mirror_dmem_evict(mirror->mdev, mirror);
	mmu_interval_notifier_remove(&mirror->notifier);
	xa_destroy(&mirror->pt);
	mmdrop(mirror->mm);
	hmm_mirror_events_fini(&mirror->events);
}

void hmm_mirror_set_delay(struct hmm_mirror *mirror, u64 delay_us)
{
	mutex_lock(&mirror->lock);
	mirror->delay_us = delay_us;
	mutex_unlock(&mirror->lock);
}

/* Stores a successful hmm_range_fault() result; called under mirror->lock. */
static int hmm_mirror_commit(struct hmm_mirror *mirror, struct hmm_range *range)
{
	unsigned long npages = (range->end - range->start) >> PAGE_SHIFT;
	unsigned long i;

	lockdep_assert_held(&mirror->lock);
	for (i = 0; i < npages; i++) {
		unsigned long pfn = range->hmm_pfns[i];
		struct page *page;
		void *entry;

		if (!(pfn & HMM_PFN_VALID))
			return -EFAULT;
		page = hmm_pfn_to_page(pfn);
		entry = page;
		if (pfn & HMM_PFN_WRITE)
			entry = xa_tag_pointer(entry, HMM_MIRROR_PT_WRITE);
		/* no sleeping allocation: reclaim could call our notifier */
		entry = xa_store(&mirror->pt, (range->start >> PAGE_SHIFT) + i,
				 entry, GFP_ATOMIC);
		if (xa_is_err(entry))
			return xa_err(entry);
	}
	return 0;
}

static int hmm_mirror_fault_chunk(struct hmm_mirror *mirror,
				  unsigned long start, unsigned long end,
				  unsigned long *pfns, bool write)
{
	struct mm_struct *mm = mirror->mm;
	struct hmm_range range = {
		.notifier = &mirror->notifier,
		.start = start,
		.end = end,
		.hmm_pfns = pfns,
		.default_flags = HMM_PFN_REQ_FAULT |
				 (write ? HMM_PFN_REQ_WRITE : 0),
		/* our devices' private pages are mapped, not migrated back */
		.dev_private_owner = &hmm_mirror_pgmap_owner,
	};
	unsigned int attempt;
	int ret;

	for (attempt = 0; attempt < HMM_MIRROR_FAULT_RETRIES; attempt++) {
		if (fatal_signal_pending(current))
			return -EINTR;
		memset(pfns, 0, ((end - start) >> PAGE_SHIFT) * sizeof(*pfns));
		range.notifier_seq = mmu_interval_read_begin(range.notifier);
		mmap_read_lock(mm);
		ret = hmm_range_fault(&range);
		mmap_read_unlock(mm);
		if (ret == -EBUSY) {
			atomic64_inc(&mirror->stats.fault_retries);
			continue;
		}
		if (ret)
			return ret;

		mutex_lock(&mirror->lock);
		if (mmu_interval_read_retry(range.notifier, range.notifier_seq)) {
			mutex_unlock(&mirror->lock);
			atomic64_inc(&mirror->stats.fault_retries);
			continue;
		}
		ret = hmm_mirror_commit(mirror, &range);
		mutex_unlock(&mirror->lock);
		if (!ret) {
			atomic64_inc(&mirror->stats.faults);
			atomic64_add((end - start) >> PAGE_SHIFT,
				     &mirror->stats.pages_faulted);
		}
		return ret;
	}
	return -EBUSY;
}

int hmm_mirror_fault(struct hmm_mirror *mirror, unsigned long start,
		     unsigned long npages, bool write, u64 *faulted)
{
	unsigned long end = start + (npages << PAGE_SHIFT);
	unsigned long *pfns;
	unsigned long addr;
	int ret = 0;

	if (!mmget_not_zero(mirror->mm))
		return -ESRCH;
	pfns = kmalloc_array(HMM_MIRROR_FAULT_CHUNK, sizeof(*pfns), GFP_KERNEL);
	if (!pfns) {
		ret = -ENOMEM;
		goto out_put;
	}
	for (addr = start; addr < end; addr += HMM_MIRROR_FAULT_CHUNK << PAGE_SHIFT) {
		unsigned long next = min(end, addr + (HMM_MIRROR_FAULT_CHUNK << PAGE_SHIFT));

		ret = hmm_mirror_fault_chunk(mirror, addr, next, pfns, write);
		if (ret)
			break;
		*faulted += (next - addr) >> PAGE_SHIFT;
		cond_resched();
	}
	kfree(pfns);
out_put:
	mmput(mirror->mm);
	return ret;
}

/*
 * Copies one page between the device's view and @bounce. The page is only
 * touched while its device page table entry exists, under mirror->lock, so
 * that an invalidation (which removes the entry first) can never leave the
 * device reading or writing a page the CPU has moved on from.
 * Returns 0, or -ENOENT when the entry is missing (or read-only for a write).
 */
static int hmm_mirror_copy_page(struct hmm_mirror *mirror, unsigned long addr,
				void *bounce, bool write)
{
	struct page *page;
	void *entry;
	void *kaddr;

	mutex_lock(&mirror->lock);
	entry = xa_load(&mirror->pt, addr >> PAGE_SHIFT);
	if (!entry || (write && !xa_pointer_tag(entry))) {
		mutex_unlock(&mirror->lock);
		return -ENOENT;
	}
	page = xa_untag_pointer(entry);
	if (is_device_private_page(page)) {
		/* device memory: the data lives in its backing page */
		page = hmm_mirror_dmem_backing(page);
		if (!write)
			atomic64_inc(&mirror->stats.device_private_reads);
	}
	kaddr = kmap_local_page(page);
	if (write)
		memcpy(kaddr, bounce, PAGE_SIZE);
	else
		memcpy(bounce, kaddr, PAGE_SIZE);
	kunmap_local(kaddr);
	mutex_unlock(&mirror->lock);
	return 0;
}

static int hmm_mirror_access(struct hmm_mirror *mirror, unsigned long start,
			     unsigned long npages, void __user *ubuf,
			     bool write, u64 *faulted)
{
	unsigned long i;
	void *bounce;
	int ret = 0;

	bounce = kmalloc(PAGE_SIZE, GFP_KERNEL);
	if (!bounce)
		return -ENOMEM;
	for (i = 0; i < npages; i++) {
		unsigned long addr = start + (i << PAGE_SHIFT);
		void __user *u = ubuf + (i << PAGE_SHIFT);
		unsigned int attempt;

		/* user copies happen outside mirror->lock: they may fault */
		if (write && copy_from_user(bounce, u, PAGE_SIZE)) {
			ret = -EFAULT;
			break;
		}
		for (attempt = 0; attempt < HMM_MIRROR_FAULT_RETRIES; attempt++) {
			ret = hmm_mirror_copy_page(mirror, addr, bounce, write);
			if (ret != -ENOENT)
				break;
			ret = hmm_mirror_fault(mirror, addr, 1, write, faulted);
			if (ret)
				break;
			ret = -ENOENT;
		}
		if (ret == -ENOENT)
			ret = -EBUSY;
		if (ret)
			break;
		if (!write && copy_to_user(u, bounce, PAGE_SIZE)) {
			ret = -EFAULT;
			break;
		}
		atomic64_inc(write ? &mirror->stats.device_writes :
				     &mirror->stats.device_reads);
		cond_resched();
	}
	kfree(bounce);
	return ret;
}

int hmm_mirror_read(struct hmm_mirror *mirror, unsigned long start,
		    unsigned long npages, void __user *buf, u64 *faulted)
{
	return hmm_mirror_access(mirror, start, npages, buf, false, faulted);
}

int hmm_mirror_write(struct hmm_mirror *mirror, unsigned long start,
		     unsigned long npages, const void __user *buf,
		     u64 *faulted)
{
	return hmm_mirror_access(mirror, start, npages, (void __user *)buf,
				 true, faulted);
}

static u8 hmm_mirror_page_state(struct hmm_mirror *mirror, unsigned long addr,
				unsigned long pfn)
{
	void *entry;
	u8 state = 0;

	if (pfn & HMM_PFN_ERROR)
		return HMM_MIRROR_PAGE_ERROR;
	if (pfn & HMM_PFN_VALID) {
		struct page *page = hmm_pfn_to_page(pfn);

		state |= HMM_MIRROR_PAGE_READ;
		if (pfn & HMM_PFN_WRITE)
			state |= HMM_MIRROR_PAGE_WRITE;
		if (hmm_pfn_to_map_order(pfn) > 0)
			state |= HMM_MIRROR_PAGE_HUGE;
		if (is_zero_pfn(page_to_pfn(page)))
			state |= HMM_MIRROR_PAGE_ZERO;
		if (is_device_private_page(page))
			state |= hmm_mirror_page_device(page) == mirror->mdev ?
				 HMM_MIRROR_PAGE_KIND_PRIVATE :
				 HMM_MIRROR_PAGE_KIND_REMOTE;
	}
	entry = xa_load(&mirror->pt, addr >> PAGE_SHIFT);
	if (entry) {
		state |= HMM_MIRROR_PAGE_DEV_READ;
		if (xa_pointer_tag(entry))
			state |= HMM_MIRROR_PAGE_DEV_WRITE;
		if (xa_pointer_tag(entry) == HMM_MIRROR_PT_EXCLUSIVE)
			state = (state & ~HMM_MIRROR_PAGE_KIND_MASK) |
				HMM_MIRROR_PAGE_KIND_EXCLUSIVE;
	}
	return state;
}

int hmm_mirror_snapshot(struct hmm_mirror *mirror, unsigned long start,
			unsigned long npages, u8 __user *states)
{
	struct mm_struct *mm = mirror->mm;
	unsigned long *pfns;
	u8 *out;
	unsigned long addr, end = start + (npages << PAGE_SHIFT);
	int ret = 0;

	if (!mmget_not_zero(mm))
		return -ESRCH;
	pfns = kmalloc_array(HMM_MIRROR_FAULT_CHUNK, sizeof(*pfns), GFP_KERNEL);
	out = kmalloc(HMM_MIRROR_FAULT_CHUNK, GFP_KERNEL);
	if (!pfns || !out) {
		ret = -ENOMEM;
		goto out;
	}
	for (addr = start; addr < end; addr += HMM_MIRROR_FAULT_CHUNK << PAGE_SHIFT) {
		unsigned long next = min(end, addr + (HMM_MIRROR_FAULT_CHUNK << PAGE_SHIFT));
		unsigned long n = (next - addr) >> PAGE_SHIFT;
		struct hmm_range range = {
			.notifier = &mirror->notifier,
			.start = addr,
			.end = next,
			.hmm_pfns = pfns,
			.default_flags = 0,	/* snapshot: never fault */
			.dev_private_owner = &hmm_mirror_pgmap_owner,
		};
		unsigned int attempt;
		unsigned long i;

		for (attempt = 0; attempt < HMM_MIRROR_FAULT_RETRIES; attempt++) {
			memset(pfns, 0, n * sizeof(*pfns));
			range.notifier_seq = mmu_interval_read_begin(range.notifier);
			mmap_read_lock(mm);
			ret = hmm_range_fault(&range);
			mmap_read_unlock(mm);
			if (ret == -EBUSY)
				continue;
			if (ret == -EFAULT) {
				/* no VMA somewhere in the chunk: report per page */
				for (i = 0; i < n; i++)
					pfns[i] = HMM_PFN_ERROR;
				ret = 0;
			}
			if (ret)
				break;
			mutex_lock(&mirror->lock);
			if (mmu_interval_read_retry(range.notifier, range.notifier_seq)) {
				mutex_unlock(&mirror->lock);
				ret = -EBUSY;
				continue;
			}
			for (i = 0; i < n; i++)
				out[i] = hmm_mirror_page_state(mirror,
							       addr + (i << PAGE_SHIFT),
							       pfns[i]);
			mutex_unlock(&mirror->lock);
			break;
		}
		if (ret)
			break;
		if (copy_to_user(states + ((addr - start) >> PAGE_SHIFT), out, n)) {
			ret = -EFAULT;
			break;
		}
	}
out:
	kfree(out);
	kfree(pfns);
	mmput(mm);
	return ret;
}
