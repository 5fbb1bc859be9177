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
 * Built only where the kernel has CONFIG_DEVICE_PRIVATE (Kbuild); dmem.h
 * has the stubs for the others.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/highmem.h>
#include <linux/hmm.h>
#include <linux/memremap.h>
#include <linux/migrate.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>

#include "compat.h"
#include "dmem.h"
#include "mirror.h"
#include "planted.h"

/* Device-private memory is added in chunks of this size (section aligned). */
#define HMM_MIRROR_CHUNK_SIZE (128UL << 20)

/* Pages handled by one migrate_vma_setup() call. */
#define HMM_MIRROR_MIGRATE_CHUNK 64UL

/* One memremap_pages() region of device-private memory. */
struct hmm_mirror_chunk {
	struct dev_pagemap pagemap;
	struct hmm_mirror_dmem *dmem;
};

/*
 * Owner of our device-private pages when the devices share one (the
 * default): any of our devices maps any other's memory in place, as GPUs
 * on a fast link do. With shared_owner=N each device owns its memory (its
 * struct hmm_mirror_dmem is the owner), as test_hmm does: another device's
 * access migrates the page back to system memory.
 */
static int hmm_mirror_pgmap_owner;

static bool shared_owner = true;
module_param(shared_owner, bool, 0444);
MODULE_PARM_DESC(shared_owner, "devices share one device-memory owner and map each other's memory in place (default Y); N: each device its own owner, a remote access migrates the page back");

static unsigned int dmem_mib = 256;
module_param(dmem_mib, uint, 0444);
MODULE_PARM_DESC(dmem_mib, "device-private memory per device in MiB, allocated in 128 MiB chunks (default 256)");

/* The pgmap owner of @dmem's pages: what hmm_range_fault() maps in place. */
void *hmm_mirror_dmem_owner(struct hmm_mirror_dmem *dmem)
{
	return shared_owner ? (void *)&hmm_mirror_pgmap_owner : (void *)dmem;
}

bool hmm_mirror_dmem_shared_owner(void)
{
	return shared_owner;
}

/* The device memory a device-private page of ours belongs to. */
static struct hmm_mirror_dmem *hmm_mirror_page_dmem(struct page *page)
{
	return container_of(hmm_mirror_page_pgmap(page),
			    struct hmm_mirror_chunk, pagemap)->dmem;
}

/* Whether @dpage, a device-private page of our owner, belongs to @dmem. */
bool hmm_mirror_dmem_is_local(struct hmm_mirror_dmem *dmem, struct page *dpage)
{
	return hmm_mirror_page_dmem(dpage) == dmem;
}

/* The system page holding a device page's data. */
struct page *hmm_mirror_dmem_backing(struct page *dpage)
{
	return dpage->zone_device_data;
}

/* dev_pagemap_ops.page_free / .folio_free (compat.h): the last put. */
static void hmm_mirror_dmem_free(struct hmm_mirror_pgmap_freed *freed)
{
	struct page *page = hmm_mirror_pgmap_freed_page(freed);
	struct hmm_mirror_dmem *dmem = hmm_mirror_page_dmem(page);
	struct page *backing = page->zone_device_data;

	if (backing)
		__free_page(backing);
	spin_lock(&dmem->free_lock);
	page->zone_device_data = dmem->free_pages;
	dmem->free_pages = page;
	dmem->used_pages--;
	spin_unlock(&dmem->free_lock);
}

static vm_fault_t hmm_mirror_migrate_to_ram(struct vm_fault *vmf);

static const struct dev_pagemap_ops hmm_mirror_dmem_ops = {
	.HMM_MIRROR_PGMAP_FREE_OP = hmm_mirror_dmem_free,
	.migrate_to_ram = hmm_mirror_migrate_to_ram,
};

/* Adds one chunk of device memory; called with dmem->lock held. */
static int hmm_mirror_dmem_add_chunk(struct hmm_mirror_dmem *dmem)
{
	struct hmm_mirror_chunk *chunk;
	unsigned long pfn, first, last;
	struct resource *res;
	void *ptr;

	lockdep_assert_held(&dmem->lock);
	if (dmem->nchunks >= ARRAY_SIZE(dmem->chunks) ||
	    (u64)(dmem->nchunks + 1) * HMM_MIRROR_CHUNK_SIZE > (u64)dmem_mib << 20)
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
	chunk->dmem = dmem;
	chunk->pagemap.type = MEMORY_DEVICE_PRIVATE;
	chunk->pagemap.range.start = res->start;
	chunk->pagemap.range.end = res->end;
	chunk->pagemap.nr_range = 1;
	chunk->pagemap.ops = &hmm_mirror_dmem_ops;
	chunk->pagemap.owner = hmm_mirror_dmem_owner(dmem);
	ptr = memremap_pages(&chunk->pagemap, numa_node_id());
	if (IS_ERR(ptr)) {
		release_mem_region(res->start, resource_size(res));
		kfree(chunk);
		return PTR_ERR(ptr);
	}
	first = chunk->pagemap.range.start >> PAGE_SHIFT;
	last = chunk->pagemap.range.end >> PAGE_SHIFT;
	spin_lock(&dmem->free_lock);
	for (pfn = first; pfn <= last; pfn++) {
		struct page *page = pfn_to_page(pfn);

		page->zone_device_data = dmem->free_pages;
		dmem->free_pages = page;
	}
	spin_unlock(&dmem->free_lock);
	dmem->chunks[dmem->nchunks++] = chunk;
	pr_info("%s: device memory chunk %u at [%#llx-%#llx]\n", dmem->name,
		dmem->nchunks, (u64)chunk->pagemap.range.start,
		(u64)chunk->pagemap.range.end);
	return 0;
}

/*
 * Allocates a device page for @mirror, with its backing page; the device
 * page is returned locked and initialised as a zone-device page.
 */
static struct page *hmm_mirror_dmem_alloc(struct hmm_mirror *mirror)
{
	struct hmm_mirror_dmem *dmem = &mirror->mdev->dmem;
	struct page *dpage, *backing;

	backing = alloc_page(GFP_HIGHUSER);
	if (!backing)
		return NULL;
	for (;;) {
		spin_lock(&dmem->free_lock);
		dpage = dmem->free_pages;
		if (dpage) {
			dmem->free_pages = dpage->zone_device_data;
			dmem->used_pages++;
		}
		spin_unlock(&dmem->free_lock);
		if (dpage)
			break;
		mutex_lock(&dmem->lock);
		if (!READ_ONCE(dmem->free_pages) &&
		    hmm_mirror_dmem_add_chunk(dmem)) {
			mutex_unlock(&dmem->lock);
			__free_page(backing);
			return NULL;
		}
		mutex_unlock(&dmem->lock);
	}
	/* the mirror that owns the data, for hmm_mirror_dmem_evict(only) */
	set_page_private(backing, (unsigned long)mirror);
	hmm_mirror_zone_device_page_init(dpage);
	dpage->zone_device_data = backing;
	return dpage;
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
		.pgmap_owner = hmm_mirror_dmem_owner(&mirror->mdev->dmem),
		.flags = MIGRATE_VMA_SELECT_SYSTEM,
	};
	bool exhausted = false, injected = false;
	unsigned long i;
	int ret, err = 0;

	ret = migrate_vma_setup(&args);
	if (ret)
		return ret;
	for (i = 0; i < n; i++) {
		struct page *spage = migrate_pfn_to_page(src[i]);
		struct page *dpage;

		if (!(src[i] & MIGRATE_PFN_MIGRATE) || exhausted)
			continue;
		if (hmm_mirror_inject_copy(&mirror->inject))
			continue;	/* the copy failed: the page stays */
		if (hmm_mirror_inject_alloc_fails(&mirror->inject)) {
			injected = true;
			continue;
		}
		dpage = hmm_mirror_dmem_alloc(mirror);
		if (!dpage) {
			exhausted = true;
			continue;
		}
		if (spage && !(i == n - 1 &&
			       hmm_mirror_planted(HMM_MIRROR_BUG_SKIP_COPY)))
			copy_highpage(hmm_mirror_dmem_backing(dpage), spage);
		else
			clear_highpage(hmm_mirror_dmem_backing(dpage));
		dst[i] = migrate_pfn(page_to_pfn(dpage));
		if (src[i] & MIGRATE_PFN_WRITE)
			dst[i] |= MIGRATE_PFN_WRITE;
	}
	migrate_vma_pages(&args);

	/* the device now owns the pages that moved: map them */
	for (i = 0; i < n; i++) {
		if (!dst[i] || !(src[i] & MIGRATE_PFN_MIGRATE)) {
			(*skipped)++;
			continue;
		}
		(*migrated)++;
		/* not mapped: the device faults the page in when it needs it */
		if (!err)
			err = hmm_mirror_map_page(mirror, start + (i << PAGE_SHIFT),
						  migrate_pfn_to_page(dst[i]),
						  dst[i] & MIGRATE_PFN_WRITE);
	}
	migrate_vma_finalize(&args);
	if (err)
		return err;
	return (exhausted || injected) && !*migrated ? -ENOMEM : 0;
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
		.pgmap_owner = hmm_mirror_dmem_owner(&mirror->mdev->dmem),
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
		    !hmm_mirror_dmem_is_local(&mirror->mdev->dmem, spage))
			continue;
		if (hmm_mirror_inject_copy(&mirror->inject) ||
		    hmm_mirror_inject_alloc_fails(&mirror->inject))
			continue;	/* the page stays in device memory */
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
		/*
		 * Only private memory moves: in a private file mapping the
		 * pages the process wrote (its anonymous copies) move, the
		 * file's own pages stay (migrate_vma_pages() skips them).
		 */
		if ((vma->vm_flags & VM_SHARED) || !(vma->vm_flags & VM_READ)) {
			ret = -EINVAL;
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
	struct hmm_mirror_dmem *dmem = hmm_mirror_page_dmem(vmf->page);
	unsigned long src = 0, dst = 0;
	struct migrate_vma args = {
		.vma = vmf->vma,
		.start = vmf->address & PAGE_MASK,
		.end = (vmf->address & PAGE_MASK) + PAGE_SIZE,
		.src = &src,
		.dst = &dst,
		.pgmap_owner = hmm_mirror_dmem_owner(dmem),
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
		atomic64_inc(&dmem->cpu_fault_migrations);
	migrate_vma_finalize(&args);
	return 0;
}

/*
 * Whether device page @pfn holds @only's data, read without isolating the
 * page: an allocated device page's zone_device_data is its backing page,
 * whose page_private names the mirror; a free one's links the free list
 * (another device page, or NULL). A page freed meanwhile may be read
 * wrongly, which only widens the range: the eviction checks the owner of
 * every isolated page again.
 */
static bool hmm_mirror_dmem_maybe_owned(unsigned long pfn,
					struct hmm_mirror *only)
{
	struct page *backing = hmm_mirror_dmem_backing(pfn_to_page(pfn));

	return backing && !is_zone_device_page(backing) &&
	       page_private(backing) == (unsigned long)only;
}

/*
 * Migrates @npages device pages from @start back to system memory: those of
 * @only (all when @only is NULL). migrate_device_range() unmaps every page
 * it is given in every process that maps it, so the caller passes runs of
 * @only's pages, never a whole chunk, when other mirrors may use it.
 */
static u64 hmm_mirror_dmem_evict_range(unsigned long start,
				       unsigned long npages,
				       struct hmm_mirror *only, bool *leave)
{
	unsigned long *src, *dst, i;
	u64 moved = 0;

	src = kvcalloc(npages, sizeof(*src), GFP_KERNEL | __GFP_NOFAIL);
	dst = kvcalloc(npages, sizeof(*dst), GFP_KERNEL | __GFP_NOFAIL);
	migrate_device_range(src, start, npages);
	for (i = 0; i < npages; i++) {
		struct page *spage = migrate_pfn_to_page(src[i]);
		struct page *backing, *dpage;

		if (!spage || !(src[i] & MIGRATE_PFN_MIGRATE))
			continue;
		backing = hmm_mirror_dmem_backing(spage);
		if (only && page_private(backing) != (unsigned long)only)
			continue;
		if (*leave) {
			*leave = false;
			continue;
		}
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
	return moved;
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
	/* planted bug 4: the first page of @only stays in device memory */
	bool leave = only && hmm_mirror_planted(HMM_MIRROR_BUG_CLOSE_LEAVES_PAGE);
	unsigned long i, run;
	u64 moved = 0;

	if (!only) {
		hmm_mirror_dmem_evict_range(first, npages, NULL, &leave);
		return;
	}
	/*
	 * Only @only's pages: another process's pages in this chunk must not
	 * be unmapped (found by the explorer running several processes: a
	 * close in one briefly hid the other's device pages from it).
	 */
	for (i = 0; i < npages; i = run) {
		run = i + 1;
		if (!hmm_mirror_dmem_maybe_owned(first + i, only))
			continue;
		while (run < npages &&
		       hmm_mirror_dmem_maybe_owned(first + run, only))
			run++;
		moved += hmm_mirror_dmem_evict_range(first + i, run - i, only,
						     &leave);
	}
	atomic64_add(moved, &only->stats.migrated_to_system);
}

/*
 * Brings back to system memory what @only migrated to @dmem (everything
 * when @only is NULL), e.g. before the mirror goes away.
 */
void hmm_mirror_dmem_evict(struct hmm_mirror_dmem *dmem,
			   struct hmm_mirror *only)
{
	unsigned int i;

	mutex_lock(&dmem->lock);
	for (i = 0; i < dmem->nchunks; i++)
		hmm_mirror_dmem_evict_chunk(dmem->chunks[i], only);
	mutex_unlock(&dmem->lock);
}

void hmm_mirror_dmem_init(struct hmm_mirror_dmem *dmem, const char *name)
{
	dmem->name = name;
	mutex_init(&dmem->lock);
	spin_lock_init(&dmem->free_lock);
}

void hmm_mirror_dmem_fini(struct hmm_mirror_dmem *dmem)
{
	unsigned int i;

	hmm_mirror_dmem_evict(dmem, NULL);
	for (i = 0; i < dmem->nchunks; i++) {
		struct hmm_mirror_chunk *chunk = dmem->chunks[i];

		memunmap_pages(&chunk->pagemap);
		release_mem_region(chunk->pagemap.range.start,
				   range_len(&chunk->pagemap.range));
		kfree(chunk);
	}
	dmem->nchunks = 0;
}

/* Device pages allocated now (migrated pages not yet freed). */
unsigned long hmm_mirror_dmem_used(struct hmm_mirror_dmem *dmem)
{
	unsigned long used;

	spin_lock(&dmem->free_lock);
	used = dmem->used_pages;
	spin_unlock(&dmem->free_lock);
	return used;
}
