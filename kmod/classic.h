/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hmm_mirror classic notifiers: a test aid for the half of
 * mm/mmu_notifier.c no interval notifier reaches, the classic (hlist)
 * notifiers of KVM, IOMMU SVA, GRU and nouveau. A process that writes N
 * to a device's sysfs attribute classic_notifiers gets two of them on its
 * own address space for the rest of its life: one refuses every
 * non-blocking invalidation (as nouveau's does) and sleeps N ms in each
 * blocking one, the other counts its starts and ends, which must pair up
 * by the time the address space goes; a start never ended is a contract
 * violation of that device (contract.c).
 */
#ifndef HMM_MIRROR_CLASSIC_H
#define HMM_MIRROR_CLASSIC_H

struct hmm_mirror_device;

int hmm_mirror_classic_init(void);
int hmm_mirror_classic_add(struct hmm_mirror_device *mdev,
			   unsigned int sleep_ms);
void hmm_mirror_classic_exit(void);

#endif /* HMM_MIRROR_CLASSIC_H */
