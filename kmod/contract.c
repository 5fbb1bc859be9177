// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel's side of the HMM contract, checked where the module relies on
 * it (see contract.h). Nothing here changes what the module does for a
 * working kernel; on a broken one it says which promise broke, counts it,
 * and keeps the module's own memory safe where it can.
 */
#include <linux/atomic.h>
#include <linux/bug.h>
#include <linux/lockdep.h>
#include <linux/memremap.h>
#include <linux/mm.h>
#include <linux/wait_bit.h>

#include "compat.h"
#include "contract.h"
#include "mirror.h"
#include "planted.h"
#include "pt.h"

static void hmm_mirror_contract_count(struct hmm_mirror_device *mdev)
{
	atomic64_inc(&mdev->contract_violations);
}

/*
 * The pgmap owner of a device-private @page (any driver's), NULL for any
 * other page.
 */
static const void *hmm_mirror_contract_owner(struct page *page)
{
	if (!is_device_private_page(page))
		return NULL;
	return hmm_mirror_device_page_owner(page);
}

/*
 * After hmm_range_fault() succeeded on @range (with mirror->lock held, the
 * sequence checked): a range that asked for faults holds only valid pages,
 * writable ones where it asked for writes (but our owner's device-private
 * pages, which it reports as they are); no valid page is another owner's
 * device-private page, which it must migrate back or leave out instead.
 */
void hmm_mirror_contract_range(struct hmm_mirror *mirror,
			       const struct hmm_range *range)
{
	unsigned long npages = (range->end - range->start) >> PAGE_SHIFT;
	bool fault = range->default_flags & HMM_PFN_REQ_FAULT;
	bool write = range->default_flags & HMM_PFN_REQ_WRITE;
	unsigned long i;

	for (i = 0; i < npages; i++) {
		unsigned long addr = range->start + (i << PAGE_SHIFT);
		unsigned long pfn = range->hmm_pfns[i];
		const void *owner;

		if (!(pfn & HMM_PFN_VALID)) {
			if (fault) {
				hmm_mirror_contract_count(mirror->mdev);
				WARN_ONCE(1, "hmm_mirror: kernel HMM contract broken: hmm_range_fault() with HMM_PFN_REQ_FAULT succeeded but left the page at 0x%lx not valid (pfn 0x%lx)\n",
					  addr, pfn);
			}
			continue;
		}
		owner = hmm_mirror_contract_owner(hmm_pfn_to_page(pfn));
		if (owner && owner != range->dev_private_owner) {
			hmm_mirror_contract_count(mirror->mdev);
			WARN_ONCE(1, "hmm_mirror: kernel HMM contract broken: hmm_range_fault() handed over another owner's device-private page at 0x%lx (pfn 0x%lx)\n",
				  addr, pfn);
		} else if (write && !owner && !(pfn & HMM_PFN_WRITE)) {
			hmm_mirror_contract_count(mirror->mdev);
			WARN_ONCE(1, "hmm_mirror: kernel HMM contract broken: hmm_range_fault() with HMM_PFN_REQ_WRITE succeeded but the page at 0x%lx is read-only (pfn 0x%lx)\n",
				  addr, pfn);
		}
	}
}

/*
 * A page migrate_vma_setup() collected (MIGRATE_PFN_MIGRATE) for a
 * migration with MIGRATE_VMA_SELECT_DEVICE_PRIVATE and @owner: it must be
 * a device-private page of @owner. Returns false (the caller leaves the
 * page where it is) for any other.
 */
bool hmm_mirror_contract_collected(struct hmm_mirror_device *mdev,
				   unsigned long addr, struct page *page,
				   const void *owner)
{
	if (hmm_mirror_contract_owner(page) == owner)
		return true;
	hmm_mirror_contract_count(mdev);
	WARN_ONCE(1, "hmm_mirror: kernel HMM contract broken: migrate_vma_setup() collected a page at 0x%lx that is not a device-private page of the migration's owner\n",
		  addr);
	return false;
}

/* An invalidation callback of @mirror starts. */
void hmm_mirror_contract_callback_enter(struct hmm_mirror *mirror)
{
	atomic_inc(&mirror->callbacks);
}

/* It returns. */
void hmm_mirror_contract_callback_exit(struct hmm_mirror *mirror)
{
	if (atomic_dec_and_test(&mirror->callbacks))
		wake_up_var(&mirror->callbacks);
}

/*
 * mmu_interval_notifier_remove() returned: it waits for the callbacks
 * running, so none may run now. A kernel that returned earlier would have
 * the mirror freed under one: wait for it here after saying so.
 */
void hmm_mirror_contract_removed(struct hmm_mirror *mirror)
{
	if (!atomic_read(&mirror->callbacks))
		return;
	hmm_mirror_contract_count(mirror->mdev);
	WARN_ONCE(1, "hmm_mirror: kernel HMM contract broken: mmu_interval_notifier_remove() returned while an invalidation callback of the notifier still ran\n");
	wait_var_event(&mirror->callbacks, !atomic_read(&mirror->callbacks));
}

/*
 * A system page the device maps that no CPU page table maps any more.
 * Device memory is mapped by the CPU only once its migration ends, and
 * the zero pages have no mapcount: neither is judged. The huge zero folio
 * (whose symbol modules cannot see) is the one large folio mapped with
 * neither an anon_vma nor a file; a freed page is never part of a large
 * one.
 */
static bool hmm_mirror_contract_unmapped(struct page *page)
{
	struct folio *folio = page_folio(page);

	if (is_zone_device_page(page) || is_zero_pfn(page_to_pfn(page)))
		return false;
	if (folio_test_large(folio) && !folio_test_anon(folio) &&
	    !folio->mapping)
		return false;
	return hmm_mirror_mapcount(page) <= 0;
}

/*
 * An invalidation of [@range->start, @range->end) is about to remove the
 * device's entries there (mirror->lock held). The kernel invalidates a
 * range before it unmaps anything in it, so every system page the device
 * maps there is still mapped by the CPU. One that is not was unmapped, and
 * maybe freed, while the device could still reach it: an invalidation was
 * skipped, cut short, or refused and then ignored (a non-blocking one the
 * OOM reaper went on with). Not judged while a planted bug is armed (they
 * keep entries on purpose).
 */
void hmm_mirror_contract_still_mapped(struct hmm_mirror *mirror,
				      const struct mmu_notifier_range *range)
{
	unsigned long first = 0, n;

	lockdep_assert_held(&mirror->lock);
	if (hmm_mirror_planted_any())
		return;
	n = hmm_mirror_pt_count(&mirror->pt, range->start, range->end,
				hmm_mirror_contract_unmapped, &first);
	if (!n)
		return;
	hmm_mirror_contract_count(mirror->mdev);
	WARN_ONCE(1, "hmm_mirror: kernel HMM contract broken: the device still mapped %lu page(s) in [0x%lx, 0x%lx) that the CPU no longer maps (the first at 0x%lx) when invalidation event %d came: they were unmapped without a completed invalidation\n",
		  n, range->start, range->end, first, range->event);
}

/*
 * A classic notifier of the classic_notifiers test aid (classic.c) saw
 * @open invalidate_range_start() calls without their end when its address
 * space went: the hlist walk must end every start that succeeded, also
 * when another notifier refused a non-blocking one.
 */
void hmm_mirror_contract_unpaired(struct hmm_mirror_device *mdev, int open)
{
	hmm_mirror_contract_count(mdev);
	WARN_ONCE(1, "hmm_mirror: kernel HMM contract broken: a classic mmu_notifier saw %d invalidate_range_start() call(s) never followed by invalidate_range_end()\n",
		  open);
}
