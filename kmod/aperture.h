/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hmm_mirror aperture: a window of the device's own memory that a process
 * maps with mmap() on its mirror's file, as drivers map device memory
 * (VM_MIXEDMAP, pages inserted by PFN: special PTEs, no struct page
 * refcounting). HMM must report such pages as errors, not fail the walk,
 * when no fault is requested.
 */
#ifndef HMM_MIRROR_APERTURE_H
#define HMM_MIRROR_APERTURE_H

#include <linux/mutex.h>
#include <linux/types.h>

/* The aperture's size: mmap() offset 0, at most this many pages. */
#define HMM_MIRROR_APERTURE_PAGES 16

struct page;
struct vm_area_struct;

struct hmm_mirror_aperture {
	struct mutex lock;		/* protects @pages */
	struct page *pages[HMM_MIRROR_APERTURE_PAGES];	/* zeroed at first mmap() */
};

void hmm_mirror_aperture_init(struct hmm_mirror_aperture *ap);
void hmm_mirror_aperture_fini(struct hmm_mirror_aperture *ap);
int hmm_mirror_aperture_mmap(struct hmm_mirror_aperture *ap,
			     struct vm_area_struct *vma);

#endif /* HMM_MIRROR_APERTURE_H */
