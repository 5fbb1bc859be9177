// SPDX-License-Identifier: GPL-2.0
/*
 * hmm_mirror device memory: each device owns device-private memory
 * (memremap_pages(MEMORY_DEVICE_PRIVATE) on regions from
 * request_free_mem_region), allocated in chunks on demand. Pages move there
 * with migrate_vma_*, back with migrate_vma_* (explicitly, or from the CPU
 * fault handler migrate_to_ram), and are evicted with migrate_device_range
 * when a mirror closes or the module unloads. The data of a device page is
 * kept in a system page (the "backing" page) that the chunk's backing
 * array holds per device page, since simulated device memory has no
 * storage of its own. The array is indexed by page frame, not hung off the
 * page, so that a large device folio's tail pages (whose struct page
 * fields belong to the folio) have their own, and a folio split by the
 * kernel needs nothing from us.
 *
 * Where the kernel migrates whole transparent huge pages
 * (HMM_MIRROR_HUGE_DEVICE_PAGES), a PMD-aligned 2 MiB range moves as one
 * large device-private folio, and back as one large system folio; when a
 * large allocation fails, the range moves as base pages (the kernel splits
 * the folio). Chunks are handed out as PMD-sized blocks; a block is broken
 * into base pages when no free base page is left, and is whole again (can
 * hold a large folio) once all its base pages are free: otherwise every
 * split THP and every base page would use a block up for good, and with
 * 16 KiB pages (32 MiB blocks) the default 256 MiB hold only 8. With 64
 * KiB pages a PMD maps 512 MiB: a chunk is one such block, and the
 * default 256 MiB round up to it.
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
#include "contract.h"
#include "dmem.h"
#include "mirror.h"
#include "planted.h"

/*
 * Device-private memory is added in chunks of this size (section aligned):
 * 128 MiB, or a PMD where that is larger (arm64 with 64 KiB pages: 512
 * MiB), so that a chunk always holds whole PMD-sized blocks. A chunk costs
 * its struct pages and backing array, not the memory it spans.
 */
#if PMD_SHIFT > 27
#define HMM_MIRROR_CHUNK_SIZE PMD_SIZE
#else
#define HMM_MIRROR_CHUNK_SIZE (128UL << 20)
#endif

/* Pages handled by one migrate_vma_setup() call. */
#define HMM_MIRROR_MIGRATE_CHUNK 64UL

/* Order of a PMD-sized folio: a whole transparent huge page. */
#define HMM_MIRROR_HUGE_ORDER (PMD_SHIFT - PAGE_SHIFT)
#define HMM_MIRROR_HUGE_PAGES BIT(HMM_MIRROR_HUGE_ORDER)

/*
 * One PMD-sized block of a chunk. Whole and free: on dmem->free_huge.
 * Allocated as one large folio: on no list, @nr_free 0. Broken into base
 * pages (handed out one by one, or the parts of a split large folio): its
 * free pages on @free, on dmem->partial while @nr_free > 0; when all are
 * free it is whole again. Everything here is under dmem->free_lock.
 */
struct hmm_mirror_block {
	struct list_head node;	/* in dmem->free_huge or dmem->partial */
	struct page *page;	/* the block's first device page */
	struct page *free;	/* its free base pages, linked by zone_device_data */
	unsigned int nr_free;	/* how many */
};

/* PMD-sized blocks in a chunk. */
#define HMM_MIRROR_CHUNK_BLOCKS (HMM_MIRROR_CHUNK_SIZE / PMD_SIZE)

/* One memremap_pages() region of device-private memory. */
struct hmm_mirror_chunk {
	struct dev_pagemap pagemap;
	struct hmm_mirror_dmem *dmem;
	/*
	 * backing[i]: the system page holding the data of the chunk's page
	 * i while that page is allocated, NULL while it is free. Written by
	 * the page's allocation (before the kernel can see the page) and by
	 * its last put (after everyone is done with it), read by whoever
	 * holds the page (a device page table entry, a migration's lock).
	 */
	struct page **backing;
	/*
	 * Bit b set: the PMD-sized block b of the chunk is a whole large
	 * folio whose backing pages are one unsplit high-order allocation,
	 * freed with one call. Set when such a folio is allocated; cleared
	 * (atomically) when the kernel splits the folio, at which point the
	 * backing is split into pages too, or when it is freed.
	 */
	unsigned long whole_blocks;
	struct hmm_mirror_block blocks[HMM_MIRROR_CHUNK_BLOCKS];
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
MODULE_PARM_DESC(dmem_mib, "device-private memory per device in MiB, allocated in chunks of 128 MiB or a PMD where larger, rounded up to whole chunks (default 256)");

/* How many chunks a device may add: dmem_mib in whole chunks, rounded up. */
static unsigned int hmm_mirror_dmem_max_chunks(void)
{
	return min_t(u64, HMM_MIRROR_MAX_CHUNKS,
		     DIV_ROUND_UP_ULL((u64)dmem_mib << 20, HMM_MIRROR_CHUNK_SIZE));
}

/* The pgmap owner of @dmem's pages: what hmm_range_fault() maps in place. */
void *hmm_mirror_dmem_owner(struct hmm_mirror_dmem *dmem)
{
	return shared_owner ? (void *)&hmm_mirror_pgmap_owner : (void *)dmem;
}

bool hmm_mirror_dmem_shared_owner(void)
{
	return shared_owner;
}

/* Whether whole THPs migrate as large device folios (HMM_MIRROR_CAP_THP_MIGRATE). */
bool hmm_mirror_dmem_huge(void)
{
	return HMM_MIRROR_HUGE_DEVICE_PAGES && thp_migration_supported();
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

static struct hmm_mirror_chunk *hmm_mirror_page_chunk(struct page *page)
{
	return container_of(hmm_mirror_page_pgmap(page),
			    struct hmm_mirror_chunk, pagemap);
}

/* The slot of @pfn, a page frame of @chunk, in its backing array. */
static struct page **hmm_mirror_chunk_slot(struct hmm_mirror_chunk *chunk,
					   unsigned long pfn)
{
	return &chunk->backing[pfn - (chunk->pagemap.range.start >> PAGE_SHIFT)];
}

/* The system page holding a device page's data. */
struct page *hmm_mirror_dmem_backing(struct page *dpage)
{
	return READ_ONCE(*hmm_mirror_chunk_slot(hmm_mirror_page_chunk(dpage),
						page_to_pfn(dpage)));
}

/* The index in its chunk of the PMD-sized block of page frame @pfn. */
static unsigned int hmm_mirror_chunk_block(struct hmm_mirror_chunk *chunk,
					   unsigned long pfn)
{
	return (pfn - (chunk->pagemap.range.start >> PAGE_SHIFT)) >>
	       HMM_MIRROR_HUGE_ORDER;
}

/*
 * dev_pagemap_ops.page_free / .folio_free (compat.h): the last put of a
 * device folio, of order 0 or a whole PMD (a large folio the kernel split
 * comes back as its parts).
 */
static void hmm_mirror_dmem_free(struct hmm_mirror_pgmap_freed *freed)
{
	struct page *page = hmm_mirror_pgmap_freed_page(freed);
	unsigned int order = hmm_mirror_pgmap_freed_order(freed);
	struct hmm_mirror_chunk *chunk = hmm_mirror_page_chunk(page);
	struct hmm_mirror_dmem *dmem = chunk->dmem;
	unsigned long pfn = page_to_pfn(page), nr = 1UL << order, i;
	struct page **slot = hmm_mirror_chunk_slot(chunk, pfn);
	struct page *backing_block = slot[0];
	unsigned int b = hmm_mirror_chunk_block(chunk, pfn);
	struct hmm_mirror_block *block = &chunk->blocks[b];
	bool whole = order == HMM_MIRROR_HUGE_ORDER &&
		     test_and_clear_bit(b, &chunk->whole_blocks);

	for (i = 0; i < nr; i++) {
		struct page *backing = slot[i];

		WRITE_ONCE(slot[i], NULL);
		if (backing) {
			set_page_private(backing, 0);
			if (!whole)
				__free_page(backing);
		}
	}
	if (whole)
		__free_pages(backing_block, HMM_MIRROR_HUGE_ORDER);
	spin_lock(&dmem->free_lock);
	if (order == HMM_MIRROR_HUGE_ORDER) {
		list_add(&block->node, &dmem->free_huge);
		dmem->nr_free_huge++;
	} else {
		/* the pages of a folio (nr <= a block) are in one block */
		for (i = 0; i < nr; i++) {
			struct page *p = pfn_to_page(pfn + i);

			p->zone_device_data = block->free;
			block->free = p;
			if (!block->nr_free++)
				list_add(&block->node, &dmem->partial);
		}
		if (block->nr_free == HMM_MIRROR_HUGE_PAGES) {
			/* every page of the block is free: whole again */
			block->free = NULL;
			block->nr_free = 0;
			list_move(&block->node, &dmem->free_huge);
			dmem->nr_free_huge++;
		}
	}
	dmem->used_pages -= nr;
	spin_unlock(&dmem->free_lock);
}

#if HMM_MIRROR_HUGE_DEVICE_PAGES
/*
 * dev_pagemap_ops.folio_split: the kernel splits a large device folio,
 * calling this for each new folio (still frozen: nobody can free it yet)
 * and then once with @tail NULL. The parts get the folio's pgmap and
 * mapping (what the kernel does without this callback). The backing array
 * is indexed by page frame, so the parts find their backing pages; only
 * the one high-order allocation behind them is split into pages, at the
 * first call, since the parts will be freed one by one.
 */
static void hmm_mirror_dmem_folio_split(struct folio *head, struct folio *tail)
{
	struct hmm_mirror_chunk *chunk = hmm_mirror_page_chunk(&head->page);
	unsigned long pfn = folio_pfn(head);

	if (test_and_clear_bit(hmm_mirror_chunk_block(chunk, pfn),
			       &chunk->whole_blocks))
		split_page(*hmm_mirror_chunk_slot(chunk, pfn),
			   HMM_MIRROR_HUGE_ORDER);
	if (tail) {
		tail->pgmap = head->pgmap;
		tail->page.mapping = head->page.mapping;
	}
}
#endif

static vm_fault_t hmm_mirror_migrate_to_ram(struct vm_fault *vmf);

static const struct dev_pagemap_ops hmm_mirror_dmem_ops = {
	.HMM_MIRROR_PGMAP_FREE_OP = hmm_mirror_dmem_free,
	.migrate_to_ram = hmm_mirror_migrate_to_ram,
#if HMM_MIRROR_HUGE_DEVICE_PAGES
	.folio_split = hmm_mirror_dmem_folio_split,
#endif
};

/* Adds one chunk of device memory; called with dmem->lock held. */
static int hmm_mirror_dmem_add_chunk(struct hmm_mirror_dmem *dmem)
{
	struct hmm_mirror_chunk *chunk;
	unsigned long first;
	struct resource *res;
	unsigned int b;
	void *ptr;

	lockdep_assert_held(&dmem->lock);
	/* one bit of whole_blocks per PMD-sized block */
	BUILD_BUG_ON(HMM_MIRROR_CHUNK_BLOCKS > BITS_PER_LONG);
	if (dmem->nchunks >= hmm_mirror_dmem_max_chunks())
		return -ENOMEM;
	chunk = kzalloc_obj(*chunk, GFP_KERNEL);
	if (!chunk)
		return -ENOMEM;
	chunk->backing = kvcalloc(HMM_MIRROR_CHUNK_SIZE >> PAGE_SHIFT,
				  sizeof(*chunk->backing), GFP_KERNEL);
	if (!chunk->backing) {
		kfree(chunk);
		return -ENOMEM;
	}
	res = request_free_mem_region(&iomem_resource, HMM_MIRROR_CHUNK_SIZE,
				      "hmm_mirror");
	if (IS_ERR(res)) {
		kvfree(chunk->backing);
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
		kvfree(chunk->backing);
		kfree(chunk);
		return PTR_ERR(ptr);
	}
	/* the region is section aligned: PMD-sized blocks from its start */
	first = chunk->pagemap.range.start >> PAGE_SHIFT;
	spin_lock(&dmem->free_lock);
	for (b = 0; b < HMM_MIRROR_CHUNK_BLOCKS; b++) {
		struct hmm_mirror_block *block = &chunk->blocks[b];

		block->page = pfn_to_page(first + b * HMM_MIRROR_HUGE_PAGES);
		list_add_tail(&block->node, &dmem->free_huge);
		dmem->nr_free_huge++;
	}
	spin_unlock(&dmem->free_lock);
	dmem->chunks[dmem->nchunks++] = chunk;
	pr_info("%s: device memory chunk %u at [%#llx-%#llx]\n", dmem->name,
		dmem->nchunks, (u64)chunk->pagemap.range.start,
		(u64)chunk->pagemap.range.end);
	return 0;
}

/*
 * The chunk of @dmem that page frame @pfn belongs to. A free page's own
 * pgmap may be stale (a former tail page of a large folio names its old
 * head's), so the chunks are asked. Chunks only come and go under
 * dmem->lock, which this takes.
 */
static struct hmm_mirror_chunk *hmm_mirror_dmem_pfn_chunk(struct hmm_mirror_dmem *dmem,
							  unsigned long pfn)
{
	struct hmm_mirror_chunk *chunk = NULL;
	unsigned int i;

	mutex_lock(&dmem->lock);
	for (i = 0; i < dmem->nchunks; i++) {
		const struct range *r = &dmem->chunks[i]->pagemap.range;

		if (pfn >= r->start >> PAGE_SHIFT && pfn <= r->end >> PAGE_SHIFT) {
			chunk = dmem->chunks[i];
			break;
		}
	}
	mutex_unlock(&dmem->lock);
	return chunk;
}

/*
 * Takes a free device page (order 0) or whole PMD-sized block (huge) off
 * the free lists. Base pages come from blocks already broken; a whole
 * block is broken into base pages only when none is left. Called with
 * dmem->free_lock held.
 */
static struct page *hmm_mirror_dmem_take(struct hmm_mirror_dmem *dmem,
					 bool huge)
{
	struct hmm_mirror_block *block;
	struct page *page;
	unsigned long pfn, i;

	lockdep_assert_held(&dmem->free_lock);
	block = list_first_entry_or_null(huge ? &dmem->free_huge :
					 &dmem->partial,
					 struct hmm_mirror_block, node);
	if (!block && !huge) {
		block = list_first_entry_or_null(&dmem->free_huge,
						 struct hmm_mirror_block, node);
		if (!block)
			return NULL;
		dmem->nr_free_huge--;
		pfn = page_to_pfn(block->page);
		for (i = 0; i < HMM_MIRROR_HUGE_PAGES; i++) {
			struct page *p = pfn_to_page(pfn + i);

			p->zone_device_data = block->free;
			block->free = p;
		}
		block->nr_free = HMM_MIRROR_HUGE_PAGES;
		list_move(&block->node, &dmem->partial);
	}
	if (!block)
		return NULL;
	if (huge) {
		dmem->nr_free_huge--;
		list_del_init(&block->node);
		page = block->page;
	} else {
		page = block->free;
		block->free = page->zone_device_data;
		if (!--block->nr_free)
			list_del_init(&block->node);
	}
	dmem->used_pages += huge ? HMM_MIRROR_HUGE_PAGES : 1;
	return page;
}

/* Whether hmm_mirror_dmem_take() would find nothing without a new chunk. */
static bool hmm_mirror_dmem_none_free(struct hmm_mirror_dmem *dmem, bool huge)
{
	bool none;

	spin_lock(&dmem->free_lock);
	none = list_empty(&dmem->free_huge) &&
	       (huge || list_empty(&dmem->partial));
	spin_unlock(&dmem->free_lock);
	return none;
}

/*
 * Backing pages for a device folio of @order: one (not compound) page
 * allocation of that order, freed whole, or split into pages when the
 * kernel splits the device folio (chunk->whole_blocks); NULL on failure.
 */
static struct page *hmm_mirror_alloc_backing(unsigned int order)
{
	return alloc_pages(GFP_HIGHUSER | (order ? __GFP_NOWARN : 0), order);
}

/*
 * Allocates a device folio of @order (0, or HMM_MIRROR_HUGE_ORDER where
 * the kernel has large device folios) for @mirror, with its backing pages;
 * returns its first page, locked and initialised, or NULL.
 */
static struct page *hmm_mirror_dmem_alloc(struct hmm_mirror *mirror,
					  unsigned int order)
{
	struct hmm_mirror_dmem *dmem = &mirror->mdev->dmem;
	unsigned long nr = 1UL << order, i;
	struct page *dpage, *backing, **slot;
	struct hmm_mirror_chunk *chunk;

	backing = hmm_mirror_alloc_backing(order);
	if (!backing)
		return NULL;
	for (;;) {
		spin_lock(&dmem->free_lock);
		dpage = hmm_mirror_dmem_take(dmem, order);
		spin_unlock(&dmem->free_lock);
		if (dpage)
			break;
		mutex_lock(&dmem->lock);
		if (hmm_mirror_dmem_none_free(dmem, order) &&
		    hmm_mirror_dmem_add_chunk(dmem)) {
			mutex_unlock(&dmem->lock);
			__free_pages(backing, order);
			return NULL;
		}
		mutex_unlock(&dmem->lock);
	}
	chunk = hmm_mirror_dmem_pfn_chunk(dmem, page_to_pfn(dpage));
	slot = hmm_mirror_chunk_slot(chunk, page_to_pfn(dpage));
	for (i = 0; i < nr; i++) {
		/* the mirror that owns the data, for hmm_mirror_dmem_evict(only) */
		set_page_private(backing + i, (unsigned long)mirror);
		WRITE_ONCE(slot[i], backing + i);
	}
	if (order)
		set_bit(hmm_mirror_chunk_block(chunk, page_to_pfn(dpage)),
			&chunk->whole_blocks);
	hmm_mirror_zone_device_page_init(dpage, &chunk->pagemap, order);
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

/* One migrate_vma_*() batch: a PMD's worth of pages at most. */
struct hmm_mirror_batch {
	unsigned long src[HMM_MIRROR_HUGE_PAGES];
	unsigned long dst[HMM_MIRROR_HUGE_PAGES];
};

/*
 * The pages one entry of a migration array stands for: a compound entry
 * (first of HMM_MIRROR_HUGE_PAGES, the others zero) a whole PMD.
 */
static unsigned long hmm_mirror_entry_pages(unsigned long entry)
{
	return entry & HMM_MIRROR_PFN_COMPOUND ? HMM_MIRROR_HUGE_PAGES : 1;
}

/* Copies @nr system pages from @spage (zeros when NULL) into device pages. */
static void hmm_mirror_copy_to_device(struct page *dpage, struct page *spage,
				      unsigned long nr)
{
	unsigned long j;

	for (j = 0; j < nr; j++) {
		struct page *backing = hmm_mirror_dmem_backing(dpage + j);

		if (spage)
			copy_highpage(backing, spage + j);
		else
			clear_highpage(backing);
	}
}

/* Releases a device page allocated for a migration that will not use it. */
static void hmm_mirror_dmem_release(struct page *dpage)
{
	unlock_page(dpage);
	put_page(dpage);
}

/*
 * Device memory for a compound (whole-PMD) entry of a migration to the
 * device: one large device folio; or, when that allocation fails (or is
 * made to fail, as test_hmm's FAIL_ALLOC does), base pages for all of it,
 * so that the kernel splits the THP. All or nothing: without device
 * memory for every base page, the whole entry stays (returns false).
 */
static bool hmm_mirror_to_device_huge(struct hmm_mirror *mirror,
				      const unsigned long *src,
				      unsigned long *dst)
{
	struct page *spage = migrate_pfn_to_page(*src), *dpage = NULL;
	unsigned long write = *src & MIGRATE_PFN_WRITE;
	unsigned long j;

	if (!hmm_mirror_inject_alloc_fails(&mirror->inject))
		dpage = hmm_mirror_dmem_alloc(mirror, HMM_MIRROR_HUGE_ORDER);
	if (dpage) {
		hmm_mirror_copy_to_device(dpage, spage, HMM_MIRROR_HUGE_PAGES);
		dst[0] = migrate_pfn(page_to_pfn(dpage)) | write |
			 HMM_MIRROR_PFN_COMPOUND;
		return true;
	}
	for (j = 0; j < HMM_MIRROR_HUGE_PAGES; j++) {
		dpage = hmm_mirror_dmem_alloc(mirror, 0);
		if (!dpage) {
			while (j--) {
				hmm_mirror_dmem_release(migrate_pfn_to_page(dst[j]));
				dst[j] = 0;
			}
			return false;
		}
		hmm_mirror_copy_to_device(dpage, spage ? spage + j : NULL, 1);
		dst[j] = migrate_pfn(page_to_pfn(dpage)) | write;
	}
	return true;
}

static int hmm_mirror_migrate_chunk_to_dev(struct hmm_mirror *mirror,
					   struct vm_area_struct *vma,
					   unsigned long start, unsigned long end,
					   struct hmm_mirror_batch *b,
					   u64 *migrated, u64 *skipped)
{
	unsigned long n = (end - start) >> PAGE_SHIFT;
	struct migrate_vma args = {
		.vma = vma,
		.src = b->src,
		.dst = b->dst,
		.start = start,
		.end = end,
		.pgmap_owner = hmm_mirror_dmem_owner(&mirror->mdev->dmem),
		.flags = MIGRATE_VMA_SELECT_SYSTEM | HMM_MIRROR_SELECT_COMPOUND,
	};
	bool exhausted = false, injected = false;
	unsigned long i, nr;
	int ret, err = 0;

	memset(b->src, 0, n * sizeof(b->src[0]));
	memset(b->dst, 0, n * sizeof(b->dst[0]));
	ret = migrate_vma_setup(&args);
	if (ret)
		return ret;
	for (i = 0; i < n; i += nr) {
		struct page *spage = migrate_pfn_to_page(b->src[i]);
		struct page *dpage;

		nr = hmm_mirror_entry_pages(b->src[i]);
		if (!(b->src[i] & MIGRATE_PFN_MIGRATE) || exhausted)
			continue;
		if (hmm_mirror_inject_copy(&mirror->inject))
			continue;	/* the copy failed: the pages stay */
		if (nr > 1) {
			exhausted = !hmm_mirror_to_device_huge(mirror, &b->src[i],
							       &b->dst[i]);
			continue;
		}
		if (hmm_mirror_inject_alloc_fails(&mirror->inject)) {
			injected = true;
			continue;
		}
		dpage = hmm_mirror_dmem_alloc(mirror, 0);
		if (!dpage) {
			exhausted = true;
			continue;
		}
		if (hmm_mirror_planted_skips_copy(i, n))
			spage = NULL;
		hmm_mirror_copy_to_device(dpage, spage, 1);
		b->dst[i] = migrate_pfn(page_to_pfn(dpage));
		if (b->src[i] & MIGRATE_PFN_WRITE)
			b->dst[i] |= MIGRATE_PFN_WRITE;
	}
	migrate_vma_pages(&args);

	/*
	 * The device now owns the pages that moved: map them. A compound
	 * entry the kernel had to split (base pages for a THP) now reads as
	 * base entries.
	 */
	for (i = 0; i < n; i += nr) {
		nr = hmm_mirror_entry_pages(b->src[i]);
		if (!b->dst[i] || !(b->src[i] & MIGRATE_PFN_MIGRATE)) {
			*skipped += nr;
			continue;
		}
		*migrated += nr;
		if (!err)
			err = hmm_mirror_map_pages(mirror, start + (i << PAGE_SHIFT),
						   migrate_pfn_to_page(b->dst[i]), nr,
						   b->dst[i] & MIGRATE_PFN_WRITE);
	}
	migrate_vma_finalize(&args);
	if (err)
		return err;
	return (exhausted || injected) && !*migrated ? -ENOMEM : 0;
}

/*
 * System memory for a compound (whole large device folio) entry of a
 * migration back: one system THP, or base pages when that allocation
 * fails (or @fail_huge makes it fail), so that the kernel splits the
 * device folio; a page without a system page stays in device memory.
 */
static void hmm_mirror_to_system_huge(struct vm_area_struct *vma,
				      unsigned long addr, bool fail_huge,
				      const unsigned long *src,
				      unsigned long *dst)
{
	struct page *spage = migrate_pfn_to_page(*src), *dpage = NULL;
	unsigned long write = *src & MIGRATE_PFN_WRITE;
	unsigned long j;

	if (!fail_huge)
		dpage = hmm_mirror_alloc_system_folio(vma, addr,
						      HMM_MIRROR_HUGE_ORDER);
	if (dpage) {
		for (j = 0; j < HMM_MIRROR_HUGE_PAGES; j++)
			copy_highpage(dpage + j,
				      hmm_mirror_dmem_backing(spage + j));
		dst[0] = migrate_pfn(page_to_pfn(dpage)) | write |
			 HMM_MIRROR_PFN_COMPOUND;
		return;
	}
	for (j = 0; j < HMM_MIRROR_HUGE_PAGES; j++) {
		dpage = hmm_mirror_alloc_system_page(vma, addr + (j << PAGE_SHIFT));
		if (!dpage)
			continue;
		copy_highpage(dpage, hmm_mirror_dmem_backing(spage + j));
		dst[j] = migrate_pfn(page_to_pfn(dpage)) | write;
	}
}

static int hmm_mirror_migrate_chunk_to_sys(struct hmm_mirror *mirror,
					   struct vm_area_struct *vma,
					   unsigned long start, unsigned long end,
					   struct hmm_mirror_batch *b,
					   u64 *migrated, u64 *skipped)
{
	unsigned long n = (end - start) >> PAGE_SHIFT;
	struct migrate_vma args = {
		.vma = vma,
		.src = b->src,
		.dst = b->dst,
		.start = start,
		.end = end,
		.pgmap_owner = hmm_mirror_dmem_owner(&mirror->mdev->dmem),
		.flags = MIGRATE_VMA_SELECT_DEVICE_PRIVATE |
			 HMM_MIRROR_SELECT_COMPOUND,
	};
	unsigned long i, nr;
	int ret;

	memset(b->src, 0, n * sizeof(b->src[0]));
	memset(b->dst, 0, n * sizeof(b->dst[0]));
	ret = migrate_vma_setup(&args);
	if (ret)
		return ret;
	for (i = 0; i < n; i += nr) {
		unsigned long addr = start + (i << PAGE_SHIFT);
		struct page *spage = migrate_pfn_to_page(b->src[i]);
		struct page *dpage;

		nr = hmm_mirror_entry_pages(b->src[i]);
		if (!spage || !(b->src[i] & MIGRATE_PFN_MIGRATE) ||
		    !hmm_mirror_contract_collected(mirror->mdev, addr, spage,
						   args.pgmap_owner) ||
		    !hmm_mirror_dmem_is_local(&mirror->mdev->dmem, spage))
			continue;
		if (hmm_mirror_inject_copy(&mirror->inject))
			continue;	/* the pages stay in device memory */
		if (nr > 1) {
			hmm_mirror_to_system_huge(vma, addr,
						  hmm_mirror_inject_alloc_fails(&mirror->inject),
						  &b->src[i], &b->dst[i]);
			continue;
		}
		if (hmm_mirror_inject_alloc_fails(&mirror->inject))
			continue;	/* the page stays in device memory */
		dpage = hmm_mirror_alloc_system_page(vma, addr);
		if (!dpage)
			continue;
		copy_highpage(dpage, hmm_mirror_dmem_backing(spage));
		b->dst[i] = migrate_pfn(page_to_pfn(dpage));
		if (b->src[i] & MIGRATE_PFN_WRITE)
			b->dst[i] |= MIGRATE_PFN_WRITE;
	}
	migrate_vma_pages(&args);
	for (i = 0; i < n; i += nr) {
		nr = hmm_mirror_entry_pages(b->src[i]);
		if (b->dst[i] && (b->src[i] & MIGRATE_PFN_MIGRATE))
			*migrated += nr;
		else
			*skipped += nr;
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
	struct hmm_mirror_batch *batch;
	unsigned long addr, next;
	bool any_vma = false;
	int ret = 0;

	if (!mmget_not_zero(mm))
		return -ESRCH;
	batch = kmalloc_obj(*batch, GFP_KERNEL);
	if (!batch) {
		mmput(mm);
		return -ENOMEM;
	}
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
		/* batches end at PMD boundaries: a whole THP is one entry */
		next = min3(end, vma->vm_end, pmd_addr_end(addr, end));
		if (to_device)
			ret = hmm_mirror_migrate_chunk_to_dev(mirror, vma, addr,
							      next, batch,
							      migrated, skipped);
		else
			ret = hmm_mirror_migrate_chunk_to_sys(mirror, vma, addr,
							      next, batch,
							      migrated, skipped);
		if (ret)
			break;
	}
	mmap_read_unlock(mm);
	kfree(batch);
	mmput(mm);
	if (!ret && !any_vma)
		ret = -EFAULT;
	if (to_device)
		atomic64_add(*migrated, &mirror->stats.migrated_to_device);
	else
		atomic64_add(*migrated, &mirror->stats.migrated_to_system);
	return ret;
}

/*
 * dev_pagemap_ops.migrate_to_ram: a CPU fault on a device page. A fault
 * on a PMD entry (vmf->pte is NULL) brings the whole large folio back; a
 * fault on a PTE entry one page (the kernel splits a large folio that is
 * mapped by PTEs, e.g. after a partial munmap).
 */
static vm_fault_t hmm_mirror_migrate_to_ram(struct vm_fault *vmf)
{
	struct hmm_mirror_dmem *dmem = hmm_mirror_page_dmem(vmf->page);
	unsigned int order = vmf->pte ? 0 : folio_order(page_folio(vmf->page));
	unsigned long nr = 1UL << order, size = PAGE_SIZE << order;
	unsigned long src1 = 0, dst1 = 0, i, moved = 0;
	struct migrate_vma args = {
		.vma = vmf->vma,
		.start = ALIGN_DOWN(vmf->address, size),
		.end = ALIGN_DOWN(vmf->address, size) + size,
		.src = &src1,
		.dst = &dst1,
		.pgmap_owner = hmm_mirror_dmem_owner(dmem),
		.flags = MIGRATE_VMA_SELECT_DEVICE_PRIVATE |
			 (order ? HMM_MIRROR_SELECT_COMPOUND : 0),
		.fault_page = vmf->page,
	};
	unsigned long fault = (vmf->address - args.start) >> PAGE_SHIFT;
	struct page *spage, *dpage;
	vm_fault_t ret = 0;

	if (order) {
		args.src = kcalloc(nr, sizeof(*args.src), GFP_KERNEL);
		args.dst = kcalloc(nr, sizeof(*args.dst), GFP_KERNEL);
		if (!args.src || !args.dst) {
			ret = VM_FAULT_OOM;
			goto out;
		}
	}
	if (migrate_vma_setup(&args)) {
		ret = VM_FAULT_SIGBUS;
		goto out;
	}
	spage = migrate_pfn_to_page(args.src[0]);
	if (spage && (args.src[0] & MIGRATE_PFN_COMPOUND)) {
		hmm_mirror_to_system_huge(args.vma, args.start, false, args.src,
					  args.dst);
	} else if (spage && (args.src[0] & MIGRATE_PFN_MIGRATE)) {
		dpage = hmm_mirror_alloc_system_page(args.vma, args.start);
		if (dpage) {
			copy_highpage(dpage, hmm_mirror_dmem_backing(spage));
			args.dst[0] = migrate_pfn(page_to_pfn(dpage));
			if (args.src[0] & MIGRATE_PFN_WRITE)
				args.dst[0] |= MIGRATE_PFN_WRITE;
		}
	}
	if (spage && (args.src[0] & MIGRATE_PFN_MIGRATE) &&
	    !args.dst[args.dst[0] & HMM_MIRROR_PFN_COMPOUND ? 0 : fault])
		ret = VM_FAULT_OOM;	/* no system page for the faulting page */
	migrate_vma_pages(&args);
	for (i = 0; i < nr; i += hmm_mirror_entry_pages(args.src[i]))
		if (args.dst[i] && (args.src[i] & MIGRATE_PFN_MIGRATE))
			moved += hmm_mirror_entry_pages(args.src[i]);
	atomic64_add(moved, &dmem->cpu_fault_migrations);
	migrate_vma_finalize(&args);
out:
	if (order) {
		kfree(args.src);
		kfree(args.dst);
	}
	return ret;
}

/*
 * Whether page frame @pfn of @chunk holds @only's data, read without
 * isolating the page: an allocated device page's backing page names the
 * mirror in its page_private; a free one has no backing page. A page
 * freed meanwhile may be read wrongly, which only widens the range: the
 * eviction checks the owner of every isolated page again.
 */
static bool hmm_mirror_dmem_maybe_owned(struct hmm_mirror_chunk *chunk,
					unsigned long pfn,
					struct hmm_mirror *only)
{
	struct page *backing = READ_ONCE(*hmm_mirror_chunk_slot(chunk, pfn));

	return backing && page_private(backing) == (unsigned long)only;
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
	unsigned long *src, *dst, i, nr;
	u64 moved = 0;

	src = kvcalloc(npages, sizeof(*src), GFP_KERNEL | __GFP_NOFAIL);
	dst = kvcalloc(npages, sizeof(*dst), GFP_KERNEL | __GFP_NOFAIL);
	migrate_device_range(src, start, npages);
	for (i = 0; i < npages; i += nr) {
		struct page *spage = migrate_pfn_to_page(src[i]);
		struct page *backing, *dpage;
		unsigned long j;

		nr = hmm_mirror_entry_pages(src[i]);
		if (!spage || !(src[i] & MIGRATE_PFN_MIGRATE))
			continue;
		backing = hmm_mirror_dmem_backing(spage);
		if (only && page_private(backing) != (unsigned long)only)
			continue;
		if (*leave) {
			*leave = false;
			continue;
		}
		/*
		 * A large device folio comes back whole: without a vma the
		 * kernel cannot split it here. Should no system THP be had,
		 * it stays in device memory (a CPU fault still brings it).
		 */
		dpage = nr > 1 ?
			hmm_mirror_alloc_system_folio(NULL, 0, HMM_MIRROR_HUGE_ORDER) :
			hmm_mirror_alloc_system_page(NULL, 0);
		if (!dpage) {
			pr_warn_ratelimited("no system THP to evict a large device folio into; it stays in device memory\n");
			continue;
		}
		for (j = 0; j < nr; j++)
			copy_highpage(dpage + j, hmm_mirror_dmem_backing(spage + j));
		dst[i] = migrate_pfn(page_to_pfn(dpage)) |
			 (src[i] & (MIGRATE_PFN_WRITE | HMM_MIRROR_PFN_COMPOUND));
		moved += nr;
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
	bool leave = hmm_mirror_planted_leaves_page(only);
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
		if (!hmm_mirror_dmem_maybe_owned(chunk, first + i, only))
			continue;
		while (run < npages &&
		       hmm_mirror_dmem_maybe_owned(chunk, first + run, only))
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
	INIT_LIST_HEAD(&dmem->free_huge);
	INIT_LIST_HEAD(&dmem->partial);
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
		kvfree(chunk->backing);
		kfree(chunk);
	}
	dmem->nchunks = 0;
	INIT_LIST_HEAD(&dmem->free_huge);
	INIT_LIST_HEAD(&dmem->partial);
	dmem->nr_free_huge = 0;
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

/*
 * PMD-sized blocks the device may have (dmem_mib, in whole chunks): what
 * can hold a large folio once every page is free.
 */
unsigned long hmm_mirror_dmem_huge_blocks(struct hmm_mirror_dmem *dmem)
{
	return (unsigned long)hmm_mirror_dmem_max_chunks() *
	       HMM_MIRROR_CHUNK_BLOCKS;
}

/*
 * Whole free blocks now: those of the chunks added, and all of those the
 * device may still add.
 */
unsigned long hmm_mirror_dmem_free_huge_blocks(struct hmm_mirror_dmem *dmem)
{
	unsigned long free;

	mutex_lock(&dmem->lock);
	spin_lock(&dmem->free_lock);
	free = dmem->nr_free_huge + hmm_mirror_dmem_huge_blocks(dmem) -
	       dmem->nchunks * HMM_MIRROR_CHUNK_BLOCKS;
	spin_unlock(&dmem->free_lock);
	mutex_unlock(&dmem->lock);
	return free;
}
