/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hmm_mirror kernel API differences, in one place. Supported: 6.1 to 7.2.
 *
 * The HMM_MIRROR_HAVE_* symbols come from Kbuild, which greps the headers
 * being built against: feature tests rather than LINUX_VERSION_CODE, since
 * distribution kernels backport. No other file tests them or the kernel
 * version; each difference gets a helper here instead.
 */
#ifndef HMM_MIRROR_COMPAT_H
#define HMM_MIRROR_COMPAT_H

#include <linux/err.h>
#include <linux/gfp.h>
#include <linux/memremap.h>
#include <linux/migrate.h>
#include <linux/mm.h>
#include <linux/rmap.h>
#include <linux/slab.h>
#ifdef HMM_MIRROR_HAVE_PFN_T
#include <linux/pfn_t.h>
#endif

/* kzalloc_obj() and kmalloc_obj() arrived in 7.0; older kernels get the plain equivalents. */
#ifndef kzalloc_obj
#define kzalloc_obj(obj, gfp) kzalloc(sizeof(obj), gfp)
#endif
#ifndef kmalloc_obj
#define kmalloc_obj(obj, gfp) kmalloc(sizeof(obj), gfp)
#endif

/*
 * How many page tables map the folio of @page. folio_mapcount() became an
 * inline in 6.9; before, it was out of line and not exported, and
 * page_mapcount() (exported through __page_mapcount()) counted the same
 * for the pages a mirror sees.
 */
static inline int hmm_mirror_mapcount(struct page *page)
{
#ifdef HMM_MIRROR_HAVE_INLINE_FOLIO_MAPCOUNT
	return folio_mapcount(page_folio(page));
#else
	return page_mapcount(page);
#endif
}

/* vm_flags_set() arrived in 6.3; before, the flags were set directly. */
static inline void hmm_mirror_vm_flags_set(struct vm_area_struct *vma,
					   vm_flags_t flags)
{
#ifdef HMM_MIRROR_HAVE_VM_FLAGS_SET
	vm_flags_set(vma, flags);
#else
	vma->vm_flags |= flags;
#endif
}

/*
 * Inserts @pfn at @addr of a VM_MIXEDMAP vma, as a special PTE where the
 * architecture has them: vmf_insert_mixed() took a pfn_t until pfn_t went
 * in 6.17.
 */
static inline vm_fault_t hmm_mirror_insert_mixed(struct vm_area_struct *vma,
						 unsigned long addr,
						 unsigned long pfn)
{
#ifdef HMM_MIRROR_HAVE_PFN_T
	return vmf_insert_mixed(vma, addr, __pfn_to_pfn_t(pfn, 0));
#else
	return vmf_insert_mixed(vma, addr, pfn);
#endif
}

#if IS_ENABLED(CONFIG_DEVICE_PRIVATE)

/* The dev_pagemap of a ZONE_DEVICE page: page_pgmap() since 6.15. */
static inline struct dev_pagemap *hmm_mirror_page_pgmap(struct page *page)
{
#ifdef HMM_MIRROR_HAVE_PAGE_PGMAP
	return page_pgmap(page);
#else
	return page->pgmap;
#endif
}

/* The pgmap owner of a device-private @page of any driver. */
static inline const void *hmm_mirror_device_page_owner(struct page *page)
{
	return hmm_mirror_page_pgmap(page)->owner;
}

/*
 * Whole transparent huge pages in device-private memory (7.2, "THP
 * migration of zone device pages"): MIGRATE_VMA_SELECT_COMPOUND asks
 * migrate_vma_setup() for PMD-sized entries (MIGRATE_PFN_COMPOUND), and
 * device-private folios may be large. Where the kernel lacks it the flags
 * are 0, so migrate_vma_*() never hands out a compound entry and no large
 * device folio exists.
 */
#ifdef HMM_MIRROR_HAVE_MIGRATE_COMPOUND
#define HMM_MIRROR_HUGE_DEVICE_PAGES 1
#define HMM_MIRROR_SELECT_COMPOUND MIGRATE_VMA_SELECT_COMPOUND
#define HMM_MIRROR_PFN_COMPOUND MIGRATE_PFN_COMPOUND
#else
#define HMM_MIRROR_HUGE_DEVICE_PAGES 0
#define HMM_MIRROR_SELECT_COMPOUND 0
#define HMM_MIRROR_PFN_COMPOUND 0UL
#endif

/*
 * Initialises a free device-private page of @pgmap as a folio of @order
 * (0 where the kernel has no large device folios). The page may have been
 * a tail of an earlier large folio: the kernel clears what that left.
 * Every form returns the page locked, as migrate_vma_pages() wants it.
 */
static inline void hmm_mirror_zone_device_page_init(struct page *page,
						    struct dev_pagemap *pgmap,
						    unsigned int order)
{
#if HMM_MIRROR_HUGE_DEVICE_PAGES
	zone_device_page_init(page, pgmap, order);
	if (order)
		folio_set_large_rmappable(page_folio(page));
#elif defined(HMM_MIRROR_HAVE_ZONE_DEVICE_PAGE_INIT_ORDER)
	zone_device_page_init(page, pgmap, 0);
#else
	zone_device_page_init(page);
#endif
}

/*
 * A locked system folio of @order for data coming back from device memory,
 * near @vma's policy when there is one; NULL when the kernel has no large
 * device folios or the allocation fails (the caller falls back to base
 * pages).
 */
static inline struct page *hmm_mirror_alloc_system_folio(struct vm_area_struct *vma,
							 unsigned long addr,
							 unsigned int order)
{
#if HMM_MIRROR_HUGE_DEVICE_PAGES
	const gfp_t gfp = GFP_HIGHUSER_MOVABLE | __GFP_NOWARN;
	struct folio *folio = vma ? vma_alloc_folio(gfp, order, vma, addr) :
			      folio_alloc(gfp, order);

	if (!folio)
		return NULL;
	folio_lock(folio);
	return &folio->page;
#else
	return NULL;
#endif
}

/* The order of the device folio dev_pagemap_ops frees: 0 before folio_free. */
#ifdef HMM_MIRROR_HAVE_FOLIO_FREE
#define hmm_mirror_pgmap_freed_order(freed) folio_order(freed)
#else
#define hmm_mirror_pgmap_freed_order(freed) ((void)(freed), 0U)
#endif

/*
 * dev_pagemap_ops: page_free(struct page *) became folio_free(struct folio *)
 * in 6.18. A driver writes one callback taking a
 * `struct hmm_mirror_pgmap_freed *`, gets its page with
 * hmm_mirror_pgmap_freed_page() and names the member
 * HMM_MIRROR_PGMAP_FREE_OP.
 */
#ifdef HMM_MIRROR_HAVE_FOLIO_FREE
#define HMM_MIRROR_PGMAP_FREE_OP folio_free
#define hmm_mirror_pgmap_freed folio
#define hmm_mirror_pgmap_freed_page(freed) (&(freed)->page)
#else
#define HMM_MIRROR_PGMAP_FREE_OP page_free
#define hmm_mirror_pgmap_freed page
#define hmm_mirror_pgmap_freed_page(freed) (freed)
#endif

/*
 * Whether make_device_exclusive() keeps the folio mapped (6.15+: the
 * device-exclusive entry is an rmap of the folio), so that folio_mapped()
 * tells a zap after the grant. make_device_exclusive_range() before it
 * drops the rmap: a caller must spot such a zap in its invalidation
 * callback instead (exclusive.c does).
 */
#ifdef HMM_MIRROR_HAVE_MAKE_DEVICE_EXCLUSIVE
#define HMM_MIRROR_EXCLUSIVE_KEEPS_RMAP 1
#else
#define HMM_MIRROR_EXCLUSIVE_KEEPS_RMAP 0
#endif

/*
 * Makes the page at @addr device-exclusive for @owner (mmap lock held for
 * read). Returns the page with its folio in *@foliop, locked and referenced,
 * or an ERR_PTR: the old API's "no page converted" becomes -EBUSY.
 */
static inline struct page *
hmm_mirror_make_device_exclusive(struct mm_struct *mm, unsigned long addr,
				 void *owner, struct folio **foliop)
{
#ifdef HMM_MIRROR_HAVE_MAKE_DEVICE_EXCLUSIVE
	return make_device_exclusive(mm, addr, owner, foliop);
#else
	struct page *page = NULL;
	int n;

	n = make_device_exclusive_range(mm, addr, addr + PAGE_SIZE, &page,
					owner);
	if (n < 0)
		return ERR_PTR(n);
	if (!n || !page)
		return ERR_PTR(-EBUSY);
	*foliop = page_folio(page);
	return page;
#endif
}

#else /* !CONFIG_DEVICE_PRIVATE */

/* No device-private pages exist without CONFIG_DEVICE_PRIVATE. */
static inline const void *hmm_mirror_device_page_owner(struct page *page)
{
	return NULL;
}

#endif /* CONFIG_DEVICE_PRIVATE */

#endif /* HMM_MIRROR_COMPAT_H */
