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
#include <linux/memremap.h>
#include <linux/mm.h>
#include <linux/rmap.h>
#include <linux/slab.h>

/* kzalloc_obj() arrived in 7.0; older kernels get the plain equivalent. */
#ifndef kzalloc_obj
#define kzalloc_obj(obj, gfp) kzalloc(sizeof(obj), gfp)
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

/*
 * Initialises a free device-private page for use, order 0. Both forms
 * return the page locked, as migrate_vma_pages() wants it.
 */
static inline void hmm_mirror_zone_device_page_init(struct page *page)
{
#ifdef HMM_MIRROR_HAVE_ZONE_DEVICE_PAGE_INIT_ORDER
	zone_device_page_init(page, page_pgmap(page), 0);
#else
	zone_device_page_init(page);
#endif
}

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

#endif /* CONFIG_DEVICE_PRIVATE */

#endif /* HMM_MIRROR_COMPAT_H */
