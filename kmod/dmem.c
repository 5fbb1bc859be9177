// SPDX-License-Identifier: GPL-2.0
/*
 * hmm_mirror device memory: each device owns device-private memory
 * (memremap_pages(MEMORY_DEVICE_PRIVATE) on regions from
 * request_free_mem_region), allocated in chunks on demand. Pages move there
 * with migrate_vma_*, back with migrate_vma_* (explicitly, or from the CPU
 * fault handler migrate_to_ram), and are evicted with migrate_device_range
 * when a mirror closes or the module unloads. The data of a device page is
 * kept in a system page (the "backing" page) hung off zone_device_data,
 * since simulated device memory has no storage of its own.
 *
 * Device-exclusive access (make_device_exclusive) for device atomics lives
 * here too: it needs CONFIG_DEVICE_PRIVATE as well.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/highmem.h>
#include <linux/hmm.h>
#include <linux/memremap.h>
#include <linux/migrate.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/rmap.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>

#include "mirror.h"

/* Owner of all our device-private pages: any of our devices may map them. */
int hmm_mirror_pgmap_owner;

#if IS_ENABLED(CONFIG_DEVICE_PRIVATE)

/* Pages handled by one migrate_vma_setup() call. */
#define HMM_MIRROR_MIGRATE_CHUNK 64UL

static unsigned int dmem_mib = 256;
module_param(dmem_mib, uint, 0444);
MODULE_PARM_DESC(dmem_mib, "device-private memory per device in MiB, allocated in 128 MiB chunks (default 256)");

static struct hmm_mirror_chunk *hmm_mirror_page_chunk(struct page *page)
{
#ifdef HMM_MIRROR_HAVE_PAGE_PGMAP
	return container_of(page_pgmap(page), struct hmm_mirror_chunk, pagemap);
#else
	return container_of(page->pgmap, struct hmm_mirror_chunk, pagemap);
#endif
}

struct hmm_mirror_device *hmm_mirror_page_device(struct page *page)
{
	return hmm_mirror_page_chunk(page)->mdev;
}

static void hmm_mirror_dmem_free(struct page *page)
{
	struct hmm_mirror_device *mdev = hmm_mirror_page_device(page);
	struct page *backing = page->zone_device_data;

	if (backing)
		__free_page(backing);
	spin_lock(&mdev->free_lock);
	page->zone_device_data = mdev->free_pages;
	mdev->free_pages = page;
	mdev->used_pages--;
	spin_unlock(&mdev->free_lock);
}

#ifdef HMM_MIRROR_HAVE_FOLIO_FREE
static void hmm_mirror_folio_free(struct folio *folio)
{
	hmm_mirror_dmem_free(&folio->page);
}
#endif

static vm_fault_t hmm_mirror_migrate_to_ram(struct vm_fault *vmf);

static const struct dev_pagemap_ops hmm_mirror_dmem_ops = {
#ifdef HMM_MIRROR_HAVE_FOLIO_FREE
	.folio_free = hmm_mirror_folio_free,
#else
	.page_free = hmm_mirror_dmem_free,
#endif
	.migrate_to_ram = hmm_mirror_migrate_to_ram,
};

/* Adds one chunk of device memory; called with mdev->dmem_lock held. */
static int hmm_mirror_dmem_add_chunk(struct hmm_mirror_device *mdev)
{
	struct hmm_mirror_chunk *chunk;
	unsigned long pfn, first, last;
	struct resource *res;
	void *ptr;

	lockdep_assert_held(&mdev->dmem_lock);
	if (mdev->nchunks >= ARRAY_SIZE(mdev->chunks) ||
	    (u64)(mdev->nchunks + 1) * HMM_MIRROR_CHUNK_SIZE > (u64)dmem_mib << 20)
		return -ENOMEM;
	chunk = kzalloc_obj(*chunk, GFP_KERNEL);
	if (!chunk)
		return -ENOMEM;
	res = request_free_mem_region(&iomem_resource, HMM_MIRROR_CHUNK_SIZE,
				      "hmm_mirror");
	if (IS_ERR(res)) {
		kfree(chunk);
		return PTR_ERR(res);
	}
	chunk->mdev = mdev;
	chunk->pagemap.type = MEMORY_DEVICE_PRIVATE;
	chunk->pagemap.range.start = res->start;
	chunk->pagemap.range.end = res->end;
	chunk->pagemap.nr_range = 1;
	chunk->pagemap.ops = &hmm_mirror_dmem_ops;
	chunk->pagemap.owner = &hmm_mirror_pgmap_owner;
	ptr = memremap_pages(&chunk->pagemap, numa_node_id());
	if (IS_ERR(ptr)) {
		release_mem_region(res->start, resource_size(res));
		kfree(chunk);
		return PTR_ERR(ptr);
	}
	first = chunk->pagemap.range.start >> PAGE_SHIFT;
	last = chunk->pagemap.range.end >> PAGE_SHIFT;
	spin_lock(&mdev->free_lock);
	for (pfn = first; pfn <= last; pfn++) {
		struct page *page = pfn_to_page(pfn);

		page->zone_device_data = mdev->free_pages;
		mdev->free_pages = page;
	}
	spin_unlock(&mdev->free_lock);
	mdev->chunks[mdev->nchunks++] = chunk;
	pr_info("%s: device memory chunk %u at [%#llx-%#llx]\n", mdev->name,
		mdev->nchunks, (u64)chunk->pagemap.range.start,
		(u64)chunk->pagemap.range.end);
	return 0;
}

/*
 * Allocates a device page for @mirror, with its backing page; the device
 * page is returned locked and initialised as a zone-device page.
 */
static struct page *hmm_mirror_dmem_alloc(struct hmm_mirror *mirror)
{
	struct hmm_mirror_device *mdev = mirror->mdev;
	struct page *dpage, *backing;

	backing = alloc_page(GFP_HIGHUSER);
	if (!backing)
		return NULL;
	for (;;) {
		spin_lock(&mdev->free_lock);
		dpage = mdev->free_pages;
		if (dpage) {
			mdev->free_pages = dpage->zone_device_data;
			mdev->used_pages++;
		}
		spin_unlock(&mdev->free_lock);
		if (dpage)
			break;
		mutex_lock(&mdev->dmem_lock);
		if (!READ_ONCE(mdev->free_pages) &&
		    hmm_mirror_dmem_add_chunk(mdev)) {
			mutex_unlock(&mdev->dmem_lock);
			__free_page(backing);
			return NULL;
		}
		mutex_unlock(&mdev->dmem_lock);
	}
	set_page_private(backing, (unsigned long)mirror);
	/* both forms return the page locked (6.1's locks it too) */
#ifdef HMM_MIRROR_HAVE_ZONE_DEVICE_PAGE_INIT_ORDER
	zone_device_page_init(dpage, page_pgmap(dpage), 0);
#else
	zone_device_page_init(dpage);
#endif
	dpage->zone_device_data = backing;
	return dpage;
}

/* The system page holding a device page's data. */
struct page *hmm_mirror_dmem_backing(struct page *dpage)
{
	return dpage->zone_device_data;
}

static struct page *hmm_mirror_alloc_system_page(struct vm_area_struct *vma,
						 unsigned long addr)
{
	struct page *page = vma ? alloc_page_vma(GFP_HIGHUSER_MOVABLE, vma, addr) :
			    alloc_page(GFP_HIGHUSER_MOVABLE | __GFP_NOFAIL);

	if (page)
		lock_page(page);
	return page;
}

static int hmm_mirror_migrate_chunk_to_dev(struct hmm_mirror *mirror,
					   struct vm_area_struct *vma,
					   unsigned long start, unsigned long end,
					   u64 *migrated, u64 *skipped)
{
	unsigned long src[HMM_MIRROR_MIGRATE_CHUNK] = { 0 };
	unsigned long dst[HMM_MIRROR_MIGRATE_CHUNK] = { 0 };
	unsigned long n = (end - start) >> PAGE_SHIFT;
	struct migrate_vma args = {
		.vma = vma,
		.src = src,
		.dst = dst,
		.start = start,
		.end = end,
		.pgmap_owner = &hmm_mirror_pgmap_owner,
		.flags = MIGRATE_VMA_SELECT_SYSTEM,
	};
	bool exhausted = false;
	unsigned long i;
	int ret;

	ret = migrate_vma_setup(&args);
	if (ret)
		return ret;
	for (i = 0; i < n; i++) {
		struct page *spage = migrate_pfn_to_page(src[i]);
		struct page *dpage;

		if (!(src[i] & MIGRATE_PFN_MIGRATE) || exhausted)
			continue;
		dpage = hmm_mirror_dmem_alloc(mirror);
		if (!dpage) {
			exhausted = true;
			continue;
		}
		if (spage)
			copy_highpage(hmm_mirror_dmem_backing(dpage), spage);
		else
			clear_highpage(hmm_mirror_dmem_backing(dpage));
		dst[i] = migrate_pfn(page_to_pfn(dpage));
		if (src[i] & MIGRATE_PFN_WRITE)
			dst[i] |= MIGRATE_PFN_WRITE;
	}
	migrate_vma_pages(&args);

	/* the device now owns the pages that moved: map them */
	mutex_lock(&mirror->lock);
	for (i = 0; i < n; i++) {
		void *entry;

		if (!dst[i] || !(src[i] & MIGRATE_PFN_MIGRATE)) {
			(*skipped)++;
			continue;
		}
		entry = migrate_pfn_to_page(dst[i]);
		if (dst[i] & MIGRATE_PFN_WRITE)
			entry = xa_tag_pointer(entry, HMM_MIRROR_PT_WRITE);
		xa_store(&mirror->pt, (start >> PAGE_SHIFT) + i, entry, GFP_ATOMIC);
		(*migrated)++;
	}
	mutex_unlock(&mirror->lock);
	migrate_vma_finalize(&args);
	return exhausted && !*migrated ? -ENOMEM : 0;
}

static int hmm_mirror_migrate_chunk_to_sys(struct hmm_mirror *mirror,
					   struct vm_area_struct *vma,
					   unsigned long start, unsigned long end,
					   u64 *migrated, u64 *skipped)
{
	unsigned long src[HMM_MIRROR_MIGRATE_CHUNK] = { 0 };
	unsigned long dst[HMM_MIRROR_MIGRATE_CHUNK] = { 0 };
	unsigned long n = (end - start) >> PAGE_SHIFT;
	struct migrate_vma args = {
		.vma = vma,
		.src = src,
		.dst = dst,
		.start = start,
		.end = end,
		.pgmap_owner = &hmm_mirror_pgmap_owner,
		.flags = MIGRATE_VMA_SELECT_DEVICE_PRIVATE,
	};
	unsigned long i;
	int ret;

	ret = migrate_vma_setup(&args);
	if (ret)
		return ret;
	for (i = 0; i < n; i++) {
		struct page *spage = migrate_pfn_to_page(src[i]);
		struct page *dpage;

		if (!spage || !(src[i] & MIGRATE_PFN_MIGRATE) ||
		    hmm_mirror_page_device(spage) != mirror->mdev)
			continue;
		dpage = hmm_mirror_alloc_system_page(vma, start + (i << PAGE_SHIFT));
		if (!dpage)
			continue;
		copy_highpage(dpage, hmm_mirror_dmem_backing(spage));
		dst[i] = migrate_pfn(page_to_pfn(dpage));
		if (src[i] & MIGRATE_PFN_WRITE)
			dst[i] |= MIGRATE_PFN_WRITE;
	}
	migrate_vma_pages(&args);
	for (i = 0; i < n; i++) {
		if (dst[i] && (src[i] & MIGRATE_PFN_MIGRATE))
			(*migrated)++;
		else
			(*skipped)++;
	}
	migrate_vma_finalize(&args);
	return 0;
}

int hmm_mirror_migrate(struct hmm_mirror *mirror, unsigned long start,
		       unsigned long npages, bool to_device, u64 *migrated,
		       u64 *skipped)
{
	unsigned long end = start + (npages << PAGE_SHIFT);
	struct mm_struct *mm = mirror->mm;
	unsigned long addr, next;
	bool any_vma = false;
	int ret = 0;

	if (!mmget_not_zero(mm))
		return -ESRCH;
	mmap_read_lock(mm);
	for (addr = start; addr < end; addr = next) {
		struct vm_area_struct *vma = find_vma(mm, addr);

		if (!vma || vma->vm_start >= end) {
			*skipped += (end - addr) >> PAGE_SHIFT;
			break;
		}
		if (vma->vm_start > addr) {
			/* a hole between mappings: nothing to move */
			*skipped += (vma->vm_start - addr) >> PAGE_SHIFT;
			next = vma->vm_start;
			continue;
		}
		any_vma = true;
		if (!vma_is_anonymous(vma) || (vma->vm_flags & VM_SHARED)) {
			ret = -EINVAL;	/* only private anonymous memory moves */
			break;
		}
		next = min3(end, vma->vm_end,
			    addr + (HMM_MIRROR_MIGRATE_CHUNK << PAGE_SHIFT));
		if (to_device)
			ret = hmm_mirror_migrate_chunk_to_dev(mirror, vma, addr,
							      next, migrated, skipped);
		else
			ret = hmm_mirror_migrate_chunk_to_sys(mirror, vma, addr,
							      next, migrated, skipped);
		if (ret)
			break;
	}
	mmap_read_unlock(mm);
	mmput(mm);
	if (!ret && !any_vma)
		ret = -EFAULT;
	if (to_device)
		atomic64_add(*migrated, &mirror->stats.migrated_to_device);
	else
		atomic64_add(*migrated, &mirror->stats.migrated_to_system);
	return ret;
}

static vm_fault_t hmm_mirror_migrate_to_ram(struct vm_fault *vmf)
{
	struct hmm_mirror_device *mdev = hmm_mirror_page_device(vmf->page);
	unsigned long src = 0, dst = 0;
	struct migrate_vma args = {
		.vma = vmf->vma,
		.start = vmf->address & PAGE_MASK,
		.end = (vmf->address & PAGE_MASK) + PAGE_SIZE,
		.src = &src,
		.dst = &dst,
		.pgmap_owner = &hmm_mirror_pgmap_owner,
		.flags = MIGRATE_VMA_SELECT_DEVICE_PRIVATE,
		.fault_page = vmf->page,
	};
	struct page *spage, *dpage;

	if (migrate_vma_setup(&args))
		return VM_FAULT_SIGBUS;
	spage = migrate_pfn_to_page(src);
	if (spage && (src & MIGRATE_PFN_MIGRATE)) {
		dpage = hmm_mirror_alloc_system_page(args.vma, args.start);
		if (!dpage) {
			migrate_vma_finalize(&args);
			return VM_FAULT_OOM;
		}
		copy_highpage(dpage, hmm_mirror_dmem_backing(spage));
		dst = migrate_pfn(page_to_pfn(dpage));
		if (src & MIGRATE_PFN_WRITE)
			dst |= MIGRATE_PFN_WRITE;
	}
	migrate_vma_pages(&args);
	if (dst && (src & MIGRATE_PFN_MIGRATE))
		atomic64_inc(&mdev->cpu_fault_migrations);
	migrate_vma_finalize(&args);
	return 0;
}

/*
 * Moves every page of @chunk that is in use (and, when @only is set, that
 * @only migrated) back to system memory, without needing the owning mm.
 */
static void hmm_mirror_dmem_evict_chunk(struct hmm_mirror_chunk *chunk,
					struct hmm_mirror *only)
{
	unsigned long first = chunk->pagemap.range.start >> PAGE_SHIFT;
	unsigned long npages = range_len(&chunk->pagemap.range) >> PAGE_SHIFT;
	unsigned long *src, *dst, i;
	u64 moved = 0;

	src = kvcalloc(npages, sizeof(*src), GFP_KERNEL | __GFP_NOFAIL);
	dst = kvcalloc(npages, sizeof(*dst), GFP_KERNEL | __GFP_NOFAIL);
	migrate_device_range(src, first, npages);
	for (i = 0; i < npages; i++) {
		struct page *spage = migrate_pfn_to_page(src[i]);
		struct page *backing, *dpage;

		if (!spage || !(src[i] & MIGRATE_PFN_MIGRATE))
			continue;
		backing = hmm_mirror_dmem_backing(spage);
		if (only && page_private(backing) != (unsigned long)only)
			continue;
		dpage = hmm_mirror_alloc_system_page(NULL, 0);
		copy_highpage(dpage, backing);
		dst[i] = migrate_pfn(page_to_pfn(dpage));
		if (src[i] & MIGRATE_PFN_WRITE)
			dst[i] |= MIGRATE_PFN_WRITE;
		moved++;
	}
	migrate_device_pages(src, dst, npages);
	migrate_device_finalize(src, dst, npages);
	kvfree(src);
	kvfree(dst);
	if (only)
		atomic64_add(moved, &only->stats.migrated_to_system);
}

void hmm_mirror_dmem_evict(struct hmm_mirror_device *mdev,
			   struct hmm_mirror *only)
{
	unsigned int i;

	mutex_lock(&mdev->dmem_lock);
	for (i = 0; i < mdev->nchunks; i++)
		hmm_mirror_dmem_evict_chunk(mdev->chunks[i], only);
	mutex_unlock(&mdev->dmem_lock);
}

void hmm_mirror_dmem_init(struct hmm_mirror_device *mdev)
{
	mutex_init(&mdev->dmem_lock);
	spin_lock_init(&mdev->free_lock);
}

void hmm_mirror_dmem_fini(struct hmm_mirror_device *mdev)
{
	unsigned int i;

	hmm_mirror_dmem_evict(mdev, NULL);
	for (i = 0; i < mdev->nchunks; i++) {
		struct hmm_mirror_chunk *chunk = mdev->chunks[i];

		memunmap_pages(&chunk->pagemap);
		release_mem_region(chunk->pagemap.range.start,
				   range_len(&chunk->pagemap.range));
		kfree(chunk);
	}
	mdev->nchunks = 0;
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
	unsigned int attempt;

	for (attempt = 0; attempt < HMM_MIRROR_FAULT_RETRIES; attempt++) {
		struct vm_area_struct *vma;
		struct folio *folio;
		struct page *page;
		unsigned long seq;
		bool retry;

		/* held until the entry is in: munmap cannot run meanwhile */
		mmap_read_lock(mm);
		vma = vma_lookup(mm, addr);
		if (!vma || !(vma->vm_flags & VM_WRITE)) {
			/* atomics write: like a device write, a read-only mapping refuses */
			mmap_read_unlock(mm);
			return vma ? -EPERM : -EFAULT;
		}
#ifdef HMM_MIRROR_HAVE_MAKE_DEVICE_EXCLUSIVE
		page = make_device_exclusive(mm, addr & PAGE_MASK, mirror, &folio);
		if (IS_ERR(page)) {
			mmap_read_unlock(mm);
			return PTR_ERR(page);
		}
#else
		{
			int n;

			mutex_lock(&mirror->lock);
			mirror->excl_addr = addr & PAGE_MASK;
			mirror->excl_zapped = false;
			mutex_unlock(&mirror->lock);
			n = make_device_exclusive_range(mm, addr & PAGE_MASK,
							(addr & PAGE_MASK) + PAGE_SIZE,
							&page, mirror);
			if (n <= 0 || !page) {
				mutex_lock(&mirror->lock);
				mirror->excl_addr = 0;
				mutex_unlock(&mirror->lock);
				mmap_read_unlock(mm);
				return n < 0 ? n : -EBUSY;
			}
			folio = page_folio(page);
		}
#endif
		/*
		 * The folio is locked: neither the CPU nor another device can
		 * take the page back until we unlock it. Only a zap (e.g.
		 * MADV_DONTNEED) can still remove the entry; it unmaps the
		 * folio (older kernels: the callback flags it), and any later
		 * one bumps the sequence.
		 */
		seq = mmu_interval_read_begin(&mirror->notifier);
#ifdef HMM_MIRROR_HAVE_MAKE_DEVICE_EXCLUSIVE
		retry = !folio_mapped(folio);
		mutex_lock(&mirror->lock);
#else
		mutex_lock(&mirror->lock);
		retry = mirror->excl_zapped;
		mirror->excl_addr = 0;
#endif
		retry = retry || mmu_interval_read_retry(&mirror->notifier, seq);
		if (!retry) {
			xa_store(&mirror->pt, addr >> PAGE_SHIFT,
				 xa_tag_pointer(page, HMM_MIRROR_PT_EXCLUSIVE),
				 GFP_ATOMIC);
			atomic64_inc(&mirror->stats.exclusive_grants);
			if (word) {
				void *kaddr = kmap_local_page(page);
				atomic64_t *w = kaddr + offset_in_page(addr);

				*old = atomic64_fetch_add(value, w);
				kunmap_local(kaddr);
				atomic64_inc(&mirror->stats.device_atomics);
			}
		}
		mutex_unlock(&mirror->lock);
		mmap_read_unlock(mm);
		folio_unlock(folio);
		folio_put(folio);
		if (!retry)
			return 0;
	}
	return -EBUSY;
}

static int hmm_mirror_exclusive_page(struct hmm_mirror *mirror,
				     unsigned long addr, bool word, u64 value,
				     u64 *old)
{
#ifdef HMM_MIRROR_HAVE_MAKE_DEVICE_EXCLUSIVE
	return __hmm_mirror_exclusive_page(mirror, addr, word, value, old);
#else
	int ret;

	/* one grant at a time: @excl_addr names the page in flight */
	mutex_lock(&mirror->excl_lock);
	ret = __hmm_mirror_exclusive_page(mirror, addr, word, value, old);
	mutex_unlock(&mirror->excl_lock);
	return ret;
#endif
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
	void *entry;
	int ret;

	/* fast path: the page is still exclusive for this mirror */
	mutex_lock(&mirror->lock);
	entry = xa_load(&mirror->pt, addr >> PAGE_SHIFT);
	if (entry && xa_pointer_tag(entry) == HMM_MIRROR_PT_EXCLUSIVE) {
		void *kaddr = kmap_local_page(xa_untag_pointer(entry));

		atomic64_t *w = kaddr + offset_in_page(addr);

		*old = atomic64_fetch_add(value, w);
		kunmap_local(kaddr);
		mutex_unlock(&mirror->lock);
		atomic64_inc(&mirror->stats.device_atomics);
		return 0;
	}
	mutex_unlock(&mirror->lock);

	if (!mmget_not_zero(mirror->mm))
		return -ESRCH;
	ret = hmm_mirror_exclusive_page(mirror, addr, true, value, old);
	mmput(mirror->mm);
	return ret;
}

#else /* !CONFIG_DEVICE_PRIVATE */

struct hmm_mirror_device *hmm_mirror_page_device(struct page *page)
{
	return NULL;
}

struct page *hmm_mirror_dmem_backing(struct page *dpage)
{
	return dpage;
}

int hmm_mirror_migrate(struct hmm_mirror *mirror, unsigned long start,
		       unsigned long npages, bool to_device, u64 *migrated,
		       u64 *skipped)
{
	return -EOPNOTSUPP;
}

void hmm_mirror_dmem_evict(struct hmm_mirror_device *mdev,
			   struct hmm_mirror *only)
{
}

void hmm_mirror_dmem_init(struct hmm_mirror_device *mdev)
{
}

void hmm_mirror_dmem_fini(struct hmm_mirror_device *mdev)
{
}

int hmm_mirror_exclusive(struct hmm_mirror *mirror, unsigned long start,
			 unsigned long npages, u64 *done)
{
	return -EOPNOTSUPP;
}

int hmm_mirror_atomic_add(struct hmm_mirror *mirror, unsigned long addr,
			  u64 value, u64 *old)
{
	return -EOPNOTSUPP;
}

#endif /* CONFIG_DEVICE_PRIVATE */
