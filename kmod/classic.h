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
 *
 * Writing "N ADDR" instead narrows the sleep to one fault: the refuser
 * sleeps N ms only in the blocking starts of the writing thread whose range
 * contains ADDR (still refusing every non-blocking one), and the process
 * reads how many such sleeps are in progress from classic_sleeping. A test
 * can so hold one CPU fault inside its invalidation (e.g. the restore of a
 * device-exclusive entry, folio locked) and act while it is known to be
 * there, without slowing every other invalidation of the process.
 */
#ifndef HMM_MIRROR_CLASSIC_H
#define HMM_MIRROR_CLASSIC_H

struct hmm_mirror_device;
struct mm_struct;

int hmm_mirror_classic_init(void);
int hmm_mirror_classic_add(struct hmm_mirror_device *mdev,
			   unsigned int sleep_ms, unsigned long addr);
int hmm_mirror_classic_sleeping(struct mm_struct *mm);
void hmm_mirror_classic_exit(void);

#endif /* HMM_MIRROR_CLASSIC_H */
