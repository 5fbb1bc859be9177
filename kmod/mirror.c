// SPDX-License-Identifier: GPL-2.0
/*
 * hmm_mirror mirroring: an interval notifier over the whole address space
 * keeps the device page table (pt.c) coherent with the CPU page table, and
 * the fault path fills it with hmm_range_fault() following
 * Documentation/mm/hmm.rst. Device reads and writes go through it, and
 * snapshots report both tables side by side.
 */
#include <linux/delay.h>
#include <linux/highmem.h>
#include <linux/hmm.h>
#include <linux/jiffies.h>
#include <linux/lockdep.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "compat.h"
#include "contract.h"
#include "mirror.h"
#include "planted.h"

/* Pages handled by one hmm_range_fault() call. */
#define HMM_MIRROR_FAULT_CHUNK 64UL

static bool hmm_mirror_update(struct hmm_mirror *mirror,
			      const struct mmu_notifier_range *range,
			      unsigned long cur_seq)
{
	struct mmu_interval_notifier *mni = &mirror->notifier;
	unsigned long pages, exclusive;

	/*
	 * Our own exclusive grant: the entry is installed by the grant itself,
	 * under the checks of exclusive.c.
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
	hmm_mirror_excl_invalidate(mirror, range);

	if (mirror->delay_us)
		fsleep(mirror->delay_us);

	if (hmm_mirror_planted_keeps_entries(range)) {
		pages = 0;
		exclusive = 0;
	} else {
		hmm_mirror_contract_still_mapped(mirror, range);
		pages = hmm_mirror_pt_clear(&mirror->pt, range->start,
					    range->end, &exclusive);
	}
	atomic64_add(exclusive, &mirror->stats.exclusive_revocations);
	atomic64_inc(&mirror->stats.invalidations);
	atomic64_add(pages, &mirror->stats.pages_invalidated);
	if (!hmm_mirror_planted_loses_event(mirror, pages))
		hmm_mirror_events_record(&mirror->events, range, cur_seq, pages);
	mutex_unlock(&mirror->lock);
	return true;
}

static bool hmm_mirror_invalidate(struct mmu_interval_notifier *mni,
				  const struct mmu_notifier_range *range,
				  unsigned long cur_seq)
{
	struct hmm_mirror *mirror = container_of(mni, struct hmm_mirror, notifier);
	bool ret;

	hmm_mirror_contract_callback_enter(mirror);
	ret = hmm_mirror_update(mirror, range, cur_seq);
	hmm_mirror_contract_callback_exit(mirror);
	return ret;
}

static const struct mmu_interval_notifier_ops hmm_mirror_notifier_ops = {
	.invalidate = hmm_mirror_invalidate,
};

int hmm_mirror_init_mirror(struct hmm_mirror *mirror,
			   struct hmm_mirror_device *mdev, struct mm_struct *mm)
{
	int ret;

	mirror->mdev = mdev;
	mutex_init(&mirror->lock);
	atomic_set(&mirror->callbacks, 0);
	/*
	 * Reclaim may invalidate, and the callback takes @lock: tell lockdep
	 * now (as drm_gpusvm does), so that an allocation under @lock shows
	 * on the first debug boot rather than under memory pressure.
	 */
	if (IS_ENABLED(CONFIG_LOCKDEP)) {
		fs_reclaim_acquire(GFP_KERNEL);
		might_lock(&mirror->lock);
		fs_reclaim_release(GFP_KERNEL);
	}
	hmm_mirror_pt_init(&mirror->pt, &mirror->lock);
	hmm_mirror_excl_init(&mirror->excl);
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

/* The caller has brought back whatever the mirror moved to device memory. */
void hmm_mirror_fini_mirror(struct hmm_mirror *mirror)
{
	mmu_interval_notifier_remove(&mirror->notifier);
	hmm_mirror_contract_removed(mirror);
	hmm_mirror_pt_destroy(&mirror->pt);
	mmdrop(mirror->mm);
	hmm_mirror_events_fini(&mirror->events);
}

void hmm_mirror_set_delay(struct hmm_mirror *mirror, u64 delay_us)
{
	mutex_lock(&mirror->lock);
	mirror->delay_us = delay_us;
	mutex_unlock(&mirror->lock);
}

/*
 * Retry policy of every sample-then-commit loop (fault, snapshot, device
 * read/write, exclusive grant): a deadline, HMM_RANGE_DEFAULT_TIMEOUT after
 * the first attempt, as lib/test_hmm.c and nouveau use, rather than a bound
 * on attempts. What a caller can afford to wait for a stable range is time;
 * the duration of N attempts varies by orders of magnitude with the work
 * of one attempt (up to HMM_MIRROR_FAULT_CHUNK pages faulted) and with the
 * machine (an emulated guest is ~50x slower than hardware), while the rate
 * of invalidations that forces retries is set by other threads in time.
 * The deadline is checked only before a retry: the first attempt always
 * runs, and an attempt that waits in mmu_interval_read_begin() (e.g.
 * behind a slow-device invalidation) is not cut short.
 */
void hmm_mirror_retry_init(struct hmm_mirror_retry *r,
			   struct hmm_mirror *mirror)
{
	r->mirror = mirror;
	r->deadline = jiffies + msecs_to_jiffies(HMM_RANGE_DEFAULT_TIMEOUT);
	r->seq = 0;
	r->started = false;
}

/*
 * Called before each attempt: 0 to make it, -EBUSY once a retry would
 * start past the deadline, -EINTR when the task is being killed.
 */
int hmm_mirror_retry_next(struct hmm_mirror_retry *r)
{
	if (fatal_signal_pending(current))
		return -EINTR;
	if (r->started && time_after(jiffies, r->deadline))
		return -EBUSY;
	r->started = true;
	return 0;
}

/* Notes the notifier sequence before sampling the CPU page table. */
void hmm_mirror_retry_sample(struct hmm_mirror_retry *r)
{
	r->seq = mmu_interval_read_begin(&r->mirror->notifier);
}

/* Under mirror->lock: true when an invalidation ran since the sample. */
bool hmm_mirror_retry_stale(struct hmm_mirror_retry *r)
{
	lockdep_assert_held(&r->mirror->lock);
	return mmu_interval_read_retry(&r->mirror->notifier, r->seq);
}

/*
 * The loop of Documentation/mm/hmm.rst: hmm_range_fault() on @range, then
 * mirror->lock and the sequence check. Returns 0 with mirror->lock held
 * and @range->hmm_pfns current until it is dropped, or an error without
 * the lock. For a @snapshot, a range that hmm_range_fault() refuses with
 * -EFAULT (no VMA somewhere) reads as HMM_PFN_ERROR pages instead, and
 * retries do not count as fault retries.
 */
static int hmm_mirror_range_lock(struct hmm_mirror *mirror,
				 struct hmm_range *range, bool snapshot)
{
	unsigned long npages = (range->end - range->start) >> PAGE_SHIFT;
	struct mm_struct *mm = mirror->mm;
	struct hmm_mirror_retry r;
	unsigned long i;
	int ret;

	hmm_mirror_retry_init(&r, mirror);
	for (;;) {
		ret = hmm_mirror_retry_next(&r);
		if (ret)
			return ret;
		memset(range->hmm_pfns, 0, npages * sizeof(*range->hmm_pfns));
		hmm_mirror_retry_sample(&r);
		range->notifier_seq = r.seq;
		mmap_read_lock(mm);
		ret = hmm_range_fault(range);
		mmap_read_unlock(mm);
		if (!ret && !snapshot &&
		    hmm_mirror_inject_fault_busy(&mirror->inject))
			ret = -EBUSY;
		/* a success counts even when a later check has it retried */
		if (!ret && !snapshot)
			atomic64_inc(&mirror->stats.faults);
		if (ret == -EFAULT && snapshot) {
			for (i = 0; i < npages; i++)
				range->hmm_pfns[i] = HMM_PFN_ERROR;
			ret = 0;
		}
		if (ret == -EBUSY) {
			if (!snapshot)
				atomic64_inc(&mirror->stats.fault_retries);
			continue;
		}
		if (ret)
			return ret;

		hmm_mirror_planted_fault_window(range, snapshot);
		mutex_lock(&mirror->lock);
		if (!hmm_mirror_retry_stale(&r)) {
			hmm_mirror_contract_range(mirror, range);
			return 0;
		}
		if (hmm_mirror_planted_commits_stale(range, snapshot))
			return 0;
		mutex_unlock(&mirror->lock);
		if (!snapshot)
			atomic64_inc(&mirror->stats.fault_retries);
	}
}

/*
 * The page hmm_range_fault() reported in @pfn for @addr. Linux 7.2's
 * hmm_vma_handle_absent_pmd() fills a device-private PMD's pfns (a large
 * device folio mapped whole) from the folio's first page whatever the
 * range's start, so each pfn of a range that starts inside such a PMD is
 * short by the start's offset in it (seen as a device read of page 1 of a
 * large folio returning page 0's data: a page-by-page fault after
 * mremap). The page is taken from the folio by @addr's offset instead,
 * which a correct report gives too. Present PMDs are reported right.
 */
static struct page *hmm_mirror_pfn_page(unsigned long pfn, unsigned long addr)
{
	struct page *page = hmm_pfn_to_page(pfn);
	struct folio *folio;

	if (!hmm_pfn_to_map_order(pfn) || !is_device_private_page(page))
		return page;
	folio = page_folio(page);
	return folio_page(folio, (addr >> PAGE_SHIFT) &
				 (folio_nr_pages(folio) - 1));
}

/* Stores a current hmm_range_fault() result; called under mirror->lock. */
static int hmm_mirror_commit(struct hmm_mirror *mirror, struct hmm_range *range)
{
	unsigned long npages = (range->end - range->start) >> PAGE_SHIFT;
	unsigned long i;
	int ret;

	lockdep_assert_held(&mirror->lock);
	for (i = 0; i < npages; i++) {
		unsigned long pfn = range->hmm_pfns[i];

		if (!(pfn & HMM_PFN_VALID))
			return -EFAULT;
		unsigned long addr = range->start + (i << PAGE_SHIFT);

		ret = hmm_mirror_pt_store(&mirror->pt, addr,
					  hmm_mirror_pfn_page(pfn, addr),
					  pfn & HMM_PFN_WRITE ?
					  HMM_MIRROR_PT_WRITE : HMM_MIRROR_PT_READ);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * The first page of a write fault's @range that came back without write
 * permission (only our own device-private pages can: hmm_range_fault()
 * faults every other page as asked), or 0.
 */
static unsigned long hmm_mirror_readonly_page(const struct hmm_range *range)
{
	unsigned long npages = (range->end - range->start) >> PAGE_SHIFT;
	unsigned long i;

	for (i = 0; i < npages; i++)
		if (!(range->hmm_pfns[i] & HMM_PFN_WRITE))
			return range->start + (i << PAGE_SHIFT);
	return 0;
}

static int hmm_mirror_fault_chunk(struct hmm_mirror *mirror,
				  unsigned long start, unsigned long end,
				  unsigned long *pfns, bool write)
{
	struct hmm_range range = {
		.notifier = &mirror->notifier,
		.start = start,
		.end = end,
		.hmm_pfns = pfns,
		.default_flags = HMM_PFN_REQ_FAULT |
				 (write ? HMM_PFN_REQ_WRITE : 0),
		/* pages of our owner are mapped, not migrated back */
		.dev_private_owner = hmm_mirror_dmem_owner(&mirror->mdev->dmem),
	};
	struct vm_area_struct *vma;
	struct hmm_mirror_retry r;
	unsigned long cow;
	int ret;

	hmm_mirror_retry_init(&r, mirror);
	for (;;) {
		ret = hmm_mirror_retry_next(&r);
		if (ret)
			return ret;
		ret = hmm_mirror_range_lock(mirror, &range, false);
		if (ret)
			return ret;
		cow = write ? hmm_mirror_readonly_page(&range) : 0;
		if (!cow)
			break;
		mutex_unlock(&mirror->lock);
		/*
		 * hmm_range_fault() reports our own device-private pages as
		 * they are, without faulting, even where a write needs more:
		 * after fork() they are read-only, shared copy-on-write. A
		 * device write must break that as a CPU write does: fault
		 * the page for writing (migrate_to_ram, then copy-on-write).
		 */
		mmap_read_lock(mirror->mm);
		vma = vma_lookup(mirror->mm, cow);
		/* a read-only mapping refuses as hmm_range_fault() does */
		if (!vma || !(vma->vm_flags & VM_WRITE))
			ret = vma ? -EPERM : -EFAULT;
		else
			ret = fixup_user_fault(mirror->mm, cow, FAULT_FLAG_WRITE,
					       NULL);
		mmap_read_unlock(mirror->mm);
		if (ret)
			return ret;
		atomic64_inc(&mirror->stats.fault_retries);
	}
	ret = hmm_mirror_commit(mirror, &range);
	mutex_unlock(&mirror->lock);
	if (!ret)
		atomic64_add((end - start) >> PAGE_SHIFT,
			     &mirror->stats.pages_faulted);
	return ret;
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
 * Maps @nr device pages from @page (one folio: a base page or a whole
 * large one) at @addr in the device page table, for a migration that just
 * moved them there (dmem.c).
 */
int hmm_mirror_map_pages(struct hmm_mirror *mirror, unsigned long addr,
			 struct page *page, unsigned long nr, bool write)
{
	unsigned long i;
	int ret = 0;

	mutex_lock(&mirror->lock);
	for (i = 0; i < nr && !ret; i++)
		ret = hmm_mirror_pt_store(&mirror->pt, addr + (i << PAGE_SHIFT),
					  page + i, write ? HMM_MIRROR_PT_WRITE :
					  HMM_MIRROR_PT_READ);
	mutex_unlock(&mirror->lock);
	return ret;
}

/*
 * Where one page of a device read or write comes from or goes to in the
 * caller's buffer: a pinned page of it (one copy), or a kernel bounce page
 * that copy_to_user()/copy_from_user() empties or fills outside the lock.
 */
struct hmm_mirror_ubuf {
	struct page *page;
	void *bounce;
};

/*
 * Copies one page between the device's view and @ubuf. The page is only
 * touched while its device page table entry exists, under mirror->lock, so
 * that an invalidation (which removes the entry first) can never leave the
 * device reading or writing a page the CPU has moved on from.
 * Returns 0, or -ENOENT when the entry is missing (or read-only for a write).
 */
static int hmm_mirror_copy_page(struct hmm_mirror *mirror, unsigned long addr,
				const struct hmm_mirror_ubuf *ubuf, bool write)
{
	enum hmm_mirror_pt_access access;
	struct page *page;
	bool in_system;
	void *kaddr, *uaddr;

	mutex_lock(&mirror->lock);
	page = hmm_mirror_pt_lookup(&mirror->pt, addr, &access);
	if (!page || (write && access == HMM_MIRROR_PT_READ)) {
		mutex_unlock(&mirror->lock);
		return -ENOENT;
	}
	in_system = !is_device_private_page(page);
	if (!in_system) {
		/* device memory: the data lives in its backing page */
		page = hmm_mirror_dmem_backing(page);
		if (!write)
			atomic64_inc(&mirror->stats.device_private_reads);
	}
	kaddr = kmap_local_page(page);
	uaddr = ubuf->page ? kmap_local_page(ubuf->page) : ubuf->bounce;
	if (write)
		memcpy(kaddr, uaddr, PAGE_SIZE);
	else
		memcpy(uaddr, kaddr, PAGE_SIZE);
	if (ubuf->page)
		kunmap_local(uaddr);
	kunmap_local(kaddr);
	/*
	 * The device wrote the page behind the CPU page table's back: no PTE
	 * dirty bit tells reclaim, and a shmem page mapped writable by a read
	 * fault (no write notify) was dropped as clean (found by the
	 * explorer: memfd data lost to MADV_PAGEOUT). The entry proves the
	 * CPU still maps the page, so its mapping is stable here.
	 */
	if (write && in_system)
		folio_mark_dirty(page_folio(page));
	mutex_unlock(&mirror->lock);
	return 0;
}

/* Pages a device read or write that misses faults in at once, at most. */
#define HMM_MIRROR_ACCESS_RUN 512UL

/*
 * How many pages from @addr, at most @max, the device cannot access as
 * asked (no entry, or a read-only one for a write), counted up to the
 * first page it can: a miss faults that run in at once rather than page by
 * page, and leaves the pages the device maps already (an exclusive grant
 * among them) alone.
 */
static unsigned long hmm_mirror_missing_run(struct hmm_mirror *mirror,
					    unsigned long addr,
					    unsigned long max, bool write)
{
	enum hmm_mirror_pt_access access;
	unsigned long n;

	mutex_lock(&mirror->lock);
	for (n = 1; n < max; n++) {
		struct page *page = hmm_mirror_pt_lookup(&mirror->pt,
							 addr + (n << PAGE_SHIFT),
							 &access);

		if (page && !(write && access == HMM_MIRROR_PT_READ))
			break;
	}
	mutex_unlock(&mirror->lock);
	return n;
}

/*
 * One page of a device read or write (@left pages of the command remain,
 * this one included): fault it in until the copy finds it. A miss faults
 * the run of missing pages from here; should that fail (a later page may
 * be the one that cannot be faulted), this page alone is faulted, and its
 * error is the command's.
 */
static int hmm_mirror_access_page(struct hmm_mirror *mirror, unsigned long addr,
				  unsigned long left,
				  const struct hmm_mirror_ubuf *ubuf, bool write,
				  u64 *faulted)
{
	struct hmm_mirror_retry r;
	bool alone = false;
	unsigned long n;
	int ret;

	hmm_mirror_retry_init(&r, mirror);
	for (;;) {
		ret = hmm_mirror_retry_next(&r);
		if (ret)
			return ret;
		ret = hmm_mirror_copy_page(mirror, addr, ubuf, write);
		if (ret != -ENOENT)
			return ret;
		n = alone ? 1 : hmm_mirror_missing_run(mirror, addr,
						       min(left, HMM_MIRROR_ACCESS_RUN),
						       write);
		ret = hmm_mirror_fault(mirror, addr, n, write, faulted);
		if (ret && n == 1)
			return ret;
		alone = ret != 0;
	}
}

/* Pages of the caller's buffer a device read or write pins at a time. */
#define HMM_MIRROR_ACCESS_PIN 64UL

/*
 * Pins up to @n pages of the caller's buffer at @u for one copy per page
 * (written to on a read). Returns how many were pinned; 0 when the buffer
 * is not page aligned or cannot be pinned, and the bounce page is used.
 */
static long hmm_mirror_pin_ubuf(void __user *u, unsigned long n, bool write,
				struct page **pages)
{
	long pinned;

	if (!PAGE_ALIGNED(u))
		return 0;
	pinned = pin_user_pages_fast((unsigned long)u, n, write ? 0 : FOLL_WRITE,
				     pages);
	return max(pinned, 0L);
}

static int hmm_mirror_access(struct hmm_mirror *mirror, unsigned long start,
			     unsigned long npages, void __user *ubuf,
			     bool write, u64 *faulted)
{
	struct page *pinned[HMM_MIRROR_ACCESS_PIN];
	struct hmm_mirror_ubuf b = { };
	unsigned long i, j, n;
	long npinned;
	int ret = 0;

	b.bounce = kmalloc(PAGE_SIZE, GFP_KERNEL);
	if (!b.bounce)
		return -ENOMEM;
	for (i = 0; i < npages && !ret; i += n) {
		n = min(npages - i, HMM_MIRROR_ACCESS_PIN);
		npinned = hmm_mirror_pin_ubuf(ubuf + (i << PAGE_SHIFT), n, write,
					      pinned);
		if (npinned)
			n = npinned;
		for (j = 0; j < n; j++) {
			unsigned long addr = start + ((i + j) << PAGE_SHIFT);
			void __user *u = ubuf + ((i + j) << PAGE_SHIFT);

			b.page = npinned ? pinned[j] : NULL;
			/* user copies happen outside mirror->lock: they may fault */
			if (write && !b.page &&
			    copy_from_user(b.bounce, u, PAGE_SIZE)) {
				ret = -EFAULT;
				break;
			}
			ret = hmm_mirror_inject_copy(&mirror->inject);
			if (ret)
				break;
			ret = hmm_mirror_access_page(mirror, addr, npages - i - j,
						     &b, write, faulted);
			if (ret)
				break;
			if (!write && !b.page &&
			    copy_to_user(u, b.bounce, PAGE_SIZE)) {
				ret = -EFAULT;
				break;
			}
			atomic64_inc(write ? &mirror->stats.device_writes :
					     &mirror->stats.device_reads);
			cond_resched();
		}
		/* a read wrote into the pinned pages */
		if (npinned)
			unpin_user_pages_dirty_lock(pinned, npinned, !write);
	}
	kfree(b.bounce);
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

/* The snapshot byte of one page; called under mirror->lock. */
static u8 hmm_mirror_page_state(struct hmm_mirror *mirror, unsigned long addr,
				unsigned long pfn)
{
	enum hmm_mirror_pt_access access;
	u8 state = 0;

	if (pfn & HMM_PFN_ERROR)
		return HMM_MIRROR_PAGE_ERROR;
	if (pfn & HMM_PFN_VALID) {
		struct page *page = hmm_mirror_pfn_page(pfn, addr);

		state |= HMM_MIRROR_PAGE_READ;
		if (pfn & HMM_PFN_WRITE)
			state |= HMM_MIRROR_PAGE_WRITE;
		if (hmm_pfn_to_map_order(pfn) > 0)
			state |= HMM_MIRROR_PAGE_HUGE;
		if (is_zero_pfn(page_to_pfn(page)))
			state |= HMM_MIRROR_PAGE_ZERO;
		if (is_device_private_page(page))
			state |= hmm_mirror_dmem_is_local(&mirror->mdev->dmem, page) ?
				 HMM_MIRROR_PAGE_KIND_PRIVATE :
				 HMM_MIRROR_PAGE_KIND_REMOTE;
	}
	if (hmm_mirror_pt_lookup(&mirror->pt, addr, &access)) {
		state |= HMM_MIRROR_PAGE_DEV_READ;
		if (access != HMM_MIRROR_PT_READ)
			state |= HMM_MIRROR_PAGE_DEV_WRITE;
		if (access == HMM_MIRROR_PT_EXCLUSIVE)
			state = (state & ~HMM_MIRROR_PAGE_KIND_MASK) |
				HMM_MIRROR_PAGE_KIND_EXCLUSIVE;
	}
	return state;
}

/* The snapshot byte of each of @n pages from @addr; under mirror->lock. */
static void hmm_mirror_fill_states(struct hmm_mirror *mirror,
				   unsigned long addr, const unsigned long *pfns,
				   unsigned long n, void *buf)
{
	u8 *out = buf;
	unsigned long i;

	for (i = 0; i < n; i++)
		out[i] = hmm_mirror_page_state(mirror, addr + (i << PAGE_SHIFT),
					       pfns[i]);
}

/* The map order hmm_range_fault() reported for each of @n pages. */
static void hmm_mirror_fill_orders(struct hmm_mirror *mirror,
				   unsigned long addr, const unsigned long *pfns,
				   unsigned long n, void *buf)
{
	u8 *out = buf;
	unsigned long i;

	for (i = 0; i < n; i++)
		out[i] = (pfns[i] & HMM_PFN_VALID) && !(pfns[i] & HMM_PFN_ERROR) ?
			 hmm_pfn_to_map_order(pfns[i]) : 0;
}

/* The page frames and counts of each of @n pages; under mirror->lock. */
static void hmm_mirror_fill_pages(struct hmm_mirror *mirror,
				  unsigned long addr, const unsigned long *pfns,
				  unsigned long n, void *buf)
{
	struct hmm_mirror_page *out = buf;
	enum hmm_mirror_pt_access access;
	unsigned long i;

	for (i = 0; i < n; i++) {
		struct page *dev = hmm_mirror_pt_lookup(&mirror->pt,
							addr + (i << PAGE_SHIFT),
							&access);

		memset(&out[i], 0, sizeof(out[i]));
		out[i].cpu_pfn = HMM_MIRROR_PFN_NONE;
		out[i].dev_pfn = dev ? page_to_pfn(dev) : HMM_MIRROR_PFN_NONE;
		if ((pfns[i] & HMM_PFN_VALID) && !(pfns[i] & HMM_PFN_ERROR)) {
			struct page *page = hmm_mirror_pfn_page(pfns[i],
								 addr + (i << PAGE_SHIFT));

			out[i].cpu_pfn = page_to_pfn(page);
			out[i].refcount = page_ref_count(page);
			out[i].mapcount = hmm_mirror_mapcount(page);
		}
	}
}

/*
 * Walks [start, start + npages pages) in chunks without faulting: @fill
 * turns each chunk's CPU pfns into @size-byte entries under mirror->lock,
 * and they are copied to @out once the lock is dropped.
 */
static int hmm_mirror_walk(struct hmm_mirror *mirror, unsigned long start,
			   unsigned long npages, size_t size, void __user *out,
			   void (*fill)(struct hmm_mirror *mirror,
					unsigned long addr,
					const unsigned long *pfns,
					unsigned long n, void *buf))
{
	unsigned long addr, end = start + (npages << PAGE_SHIFT);
	unsigned long *pfns;
	void *buf;
	int ret = 0;

	if (!mmget_not_zero(mirror->mm))
		return -ESRCH;
	pfns = kmalloc_array(HMM_MIRROR_FAULT_CHUNK, sizeof(*pfns), GFP_KERNEL);
	buf = kmalloc_array(HMM_MIRROR_FAULT_CHUNK, size, GFP_KERNEL);
	if (!pfns || !buf) {
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
			.default_flags = 0,	/* never fault */
			.dev_private_owner = hmm_mirror_dmem_owner(&mirror->mdev->dmem),
		};

		ret = hmm_mirror_range_lock(mirror, &range, true);
		if (ret)
			break;
		fill(mirror, addr, pfns, n, buf);
		mutex_unlock(&mirror->lock);
		if (copy_to_user(out + ((addr - start) >> PAGE_SHIFT) * size, buf,
				 n * size)) {
			ret = -EFAULT;
			break;
		}
	}
out:
	kfree(buf);
	kfree(pfns);
	mmput(mirror->mm);
	return ret;
}

int hmm_mirror_snapshot(struct hmm_mirror *mirror, unsigned long start,
			unsigned long npages, u8 __user *states, bool orders)
{
	return hmm_mirror_walk(mirror, start, npages, 1, states,
			       orders ? hmm_mirror_fill_orders :
					hmm_mirror_fill_states);
}

int hmm_mirror_pages(struct hmm_mirror *mirror, unsigned long start,
		     unsigned long npages, struct hmm_mirror_page __user *pages)
{
	return hmm_mirror_walk(mirror, start, npages, sizeof(*pages), pages,
			       hmm_mirror_fill_pages);
}
