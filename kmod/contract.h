/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What hmm_mirror checks of the kernel's side of the HMM contract
 * (Documentation/mm/hmm.rst, include/linux/hmm.h, mmu_notifier.h): promises
 * the module relies on that only a broken kernel breaks. Each broken promise
 * is counted in the device's contract_violations (sysfs) and reported with
 * a WARN once per kind, so that a run on a broken kernel fails on it even
 * where the module's own defences would carry on (a read-only page re-faulted
 * for writing, another device's page left where it is).
 */
#ifndef HMM_MIRROR_CONTRACT_H
#define HMM_MIRROR_CONTRACT_H

#include <linux/hmm.h>
#include <linux/mmu_notifier.h>
#include <linux/types.h>

struct hmm_mirror;
struct hmm_mirror_device;
struct page;

void hmm_mirror_contract_range(struct hmm_mirror *mirror,
			       const struct hmm_range *range);
bool hmm_mirror_contract_collected(struct hmm_mirror_device *mdev,
				   unsigned long addr, struct page *page,
				   const void *owner);
void hmm_mirror_contract_callback_enter(struct hmm_mirror *mirror);
void hmm_mirror_contract_callback_exit(struct hmm_mirror *mirror);
void hmm_mirror_contract_removed(struct hmm_mirror *mirror);
void hmm_mirror_contract_unpaired(struct hmm_mirror_device *mdev, int open);
void hmm_mirror_contract_still_mapped(struct hmm_mirror *mirror,
				      const struct mmu_notifier_range *range);

#endif /* HMM_MIRROR_CONTRACT_H */
