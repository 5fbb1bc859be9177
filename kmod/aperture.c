// SPDX-License-Identifier: GPL-2.0
/*
 * The device's aperture (see aperture.h). Its pages belong to the mirror
 * and are freed when the mirror's file is released, which a mapping of it
 * outlasts never: the mapping holds a reference to the file.
 */
#include <linux/gfp.h>
#include <linux/mm.h>

#include "aperture.h"
#include "compat.h"

void hmm_mirror_aperture_init(struct hmm_mirror_aperture *ap)
{
	mutex_init(&ap->lock);
}

/* The file is released: no mapping of the aperture is left. */
void hmm_mirror_aperture_fini(struct hmm_mirror_aperture *ap)
{
	unsigned int i;

	for (i = 0; i < HMM_MIRROR_APERTURE_PAGES; i++)
		if (ap->pages[i])
			__free_page(ap->pages[i]);
}

static vm_fault_t hmm_mirror_aperture_fault(struct vm_fault *vmf)
{
	struct hmm_mirror_aperture *ap = vmf->vma->vm_private_data;

	if (vmf->pgoff >= HMM_MIRROR_APERTURE_PAGES)
		return VM_FAULT_SIGBUS;
	return hmm_mirror_insert_mixed(vmf->vma, vmf->address,
				       page_to_pfn(ap->pages[vmf->pgoff]));
}

static const struct vm_operations_struct hmm_mirror_aperture_vm_ops = {
	.fault = hmm_mirror_aperture_fault,
};

/*
 * mmap() of the mirror's file: offset 0, at most HMM_MIRROR_APERTURE_PAGES
 * pages, MAP_SHARED; 0 or -EINVAL, -ENOMEM.
 */
int hmm_mirror_aperture_mmap(struct hmm_mirror_aperture *ap,
			     struct vm_area_struct *vma)
{
	unsigned long pages = vma_pages(vma);
	unsigned int i;
	int ret = 0;

	if (vma->vm_pgoff || !pages || pages > HMM_MIRROR_APERTURE_PAGES ||
	    !(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	mutex_lock(&ap->lock);
	for (i = 0; i < HMM_MIRROR_APERTURE_PAGES && !ret; i++) {
		if (!ap->pages[i])
			ap->pages[i] = alloc_page(GFP_KERNEL | __GFP_ZERO);
		if (!ap->pages[i])
			ret = -ENOMEM;
	}
	mutex_unlock(&ap->lock);
	if (ret)
		return ret;
	hmm_mirror_vm_flags_set(vma, VM_MIXEDMAP | VM_DONTEXPAND |
				VM_DONTDUMP | VM_DONTCOPY);
	vma->vm_private_data = ap;
	vma->vm_ops = &hmm_mirror_aperture_vm_ops;
	return 0;
}
