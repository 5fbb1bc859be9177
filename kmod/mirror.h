/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hmm_mirror mirrors: one per open /dev/hmm_mirrorN, bound to the opener's
 * mm. mirror.c keeps a device page table (pt.h) coherent with the CPU page
 * table through an interval notifier and fills it with hmm_range_fault().
 */
#ifndef HMM_MIRROR_MIRROR_H
#define HMM_MIRROR_MIRROR_H

#include <linux/atomic.h>
#include <linux/miscdevice.h>
#include <linux/mmu_notifier.h>
#include <linux/mutex.h>

#include "aperture.h"
#include "dmem.h"
#include "events.h"
#include "exclusive.h"
#include "inject.h"
#include "pt.h"

/**
 * DOC: Locking
 *
 * Outermost first; a lock is never taken while holding one listed after it.
 *
 * - hmm_mirror_excl.lock (older kernels only): one device-exclusive grant
 *   of a mirror at a time. Held across make_device_exclusive_range(), which
 *   may allocate and so enter reclaim.
 * - mmap_lock of the mirrored mm (read): the fault, snapshot, migration and
 *   grant paths hold it around hmm_range_fault(), migrate_vma_*() and
 *   make_device_exclusive().
 * - hmm_mirror_dmem.lock: a device's device-memory chunks. Held while
 *   adding a chunk (memremap_pages allocates; migration to the device
 *   holds mmap_lock then) and while evicting, which runs invalidations and
 *   so takes hmm_mirror.lock.
 * - hmm_mirror.lock: the "driver->update" lock of Documentation/mm/hmm.rst.
 *   Protects the device page table, the delay and the grant-in-flight
 *   state. Taken by the invalidation callback, which reclaim may call: no
 *   allocation that may enter reclaim (GFP_KERNEL) is made under it, and
 *   hmm_mirror_init_mirror() tells lockdep so at the first open.
 * - hmm_mirror_dmem.free_lock, hmm_mirror_events.lock: spinlocks, innermost;
 *   events.lock (the event ring and its scope) is taken with interrupts
 *   off.
 */

/* A /dev/hmm_mirrorN device. */
struct hmm_mirror_device {
	struct miscdevice misc;
	unsigned int index;
	char name[32];
	struct hmm_mirror_dmem dmem;
	atomic_t mirrors;	/* open files (mirrors) of this device */
	atomic64_t contract_violations;	/* broken kernel promises (contract.c) */
};

/* Counters of one mirror (HMM_MIRROR_IOC_COUNTERS), updated atomically. */
struct hmm_mirror_stats {
	atomic64_t faults;		/* hmm_range_fault() calls that succeeded */
	atomic64_t pages_faulted;	/* pages committed by faults */
	atomic64_t fault_retries;
	atomic64_t invalidations;
	atomic64_t pages_invalidated;
	atomic64_t device_reads;
	atomic64_t device_writes;
	atomic64_t migrated_to_device;
	atomic64_t migrated_to_system;
	atomic64_t exclusive_grants;
	atomic64_t exclusive_revocations;
	atomic64_t device_atomics;
	atomic64_t device_private_reads;
};

struct hmm_mirror {
	struct hmm_mirror_device *mdev;
	struct mm_struct *mm;		/* mmgrab()ed at init, mmdrop()ed at fini */
	struct mmu_interval_notifier notifier;	/* covers the whole address space */
	/*
	 * The "driver->update" lock of Documentation/mm/hmm.rst (see DOC:
	 * Locking): protects @pt, @delay_us, @planted_count and
	 * @excl.addr/@excl.zapped.
	 * Taken by the invalidation callback, and by every path that commits
	 * to @pt, around mmu_interval_read_retry() and the commit.
	 */
	struct mutex lock;
	struct hmm_mirror_pt pt;	/* device page table, under @lock */
	u64 delay_us;			/* slow-device delay per invalidation, under @lock */
	unsigned long planted_count;	/* planted bug 2's invalidations, under @lock */
	struct hmm_mirror_excl excl;	/* grant in flight (exclusive.c) */
	struct hmm_mirror_events events;
	struct hmm_mirror_stats stats;
	struct hmm_mirror_injector inject;	/* fault injection (inject.c) */
	atomic_t callbacks;		/* invalidation callbacks running (contract.c) */
	struct hmm_mirror_aperture aperture;	/* mmap() of the file (aperture.c) */
};

/*
 * One "sample the CPU page table, then commit under @lock if nothing was
 * invalidated meanwhile" operation (Documentation/mm/hmm.rst), retried
 * until a deadline: see hmm_mirror_retry_next().
 */
struct hmm_mirror_retry {
	struct hmm_mirror *mirror;
	unsigned long deadline;		/* jiffies */
	unsigned long seq;		/* notifier sequence of this attempt */
	bool started;			/* an attempt was made */
};

int hmm_mirror_init_mirror(struct hmm_mirror *mirror,
			   struct hmm_mirror_device *mdev, struct mm_struct *mm);
void hmm_mirror_fini_mirror(struct hmm_mirror *mirror);
void hmm_mirror_set_delay(struct hmm_mirror *mirror, u64 delay_us);

void hmm_mirror_retry_init(struct hmm_mirror_retry *r,
			   struct hmm_mirror *mirror);
int hmm_mirror_retry_next(struct hmm_mirror_retry *r);
void hmm_mirror_retry_sample(struct hmm_mirror_retry *r);
bool hmm_mirror_retry_stale(struct hmm_mirror_retry *r);

int hmm_mirror_fault(struct hmm_mirror *mirror, unsigned long start,
		     unsigned long npages, bool write, u64 *faulted);
int hmm_mirror_read(struct hmm_mirror *mirror, unsigned long start,
		    unsigned long npages, void __user *buf, u64 *faulted);
int hmm_mirror_write(struct hmm_mirror *mirror, unsigned long start,
		     unsigned long npages, const void __user *buf,
		     u64 *faulted);
int hmm_mirror_snapshot(struct hmm_mirror *mirror, unsigned long start,
			unsigned long npages, u8 __user *states, bool orders);
int hmm_mirror_pages(struct hmm_mirror *mirror, unsigned long start,
		     unsigned long npages, struct hmm_mirror_page __user *pages);
int hmm_mirror_map_pages(struct hmm_mirror *mirror, unsigned long addr,
			 struct page *page, unsigned long nr, bool write);

#endif /* HMM_MIRROR_MIRROR_H */
