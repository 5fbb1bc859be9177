/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hmm_mirror internals shared by main.c (module, devices, ioctl dispatch),
 * mirror.c (notifier, device page table, faults) and events.c (event ring).
 */
#ifndef HMM_MIRROR_INTERNAL_H
#define HMM_MIRROR_INTERNAL_H

#include <linux/memremap.h>
#include <linux/miscdevice.h>
#include <linux/mmu_notifier.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/xarray.h>

#include <hmm_mirror.h>

/* kzalloc_obj() arrived in 7.x; older kernels get the plain equivalent */
#ifndef kzalloc_obj
#define kzalloc_obj(obj, gfp) kzalloc(sizeof(obj), gfp)
#endif

/* Device-private memory is added in chunks of this size (section aligned). */
#define HMM_MIRROR_CHUNK_SIZE (128UL << 20)
#define HMM_MIRROR_MAX_CHUNKS 8

struct hmm_mirror_device;

/* One memremap_pages() region of device-private memory. */
struct hmm_mirror_chunk {
	struct dev_pagemap pagemap;
	struct hmm_mirror_device *mdev;
};

struct hmm_mirror_device {
	struct miscdevice misc;
	unsigned int index;
	char name[32];
	struct mutex dmem_lock;		/* protects chunks, nchunks; held while evicting */
	struct hmm_mirror_chunk *chunks[HMM_MIRROR_MAX_CHUNKS];
	unsigned int nchunks;
	spinlock_t free_lock;		/* protects free_pages, used_pages */
	struct page *free_pages;	/* free device pages, linked by zone_device_data */
	unsigned long used_pages;
	atomic64_t cpu_fault_migrations;
};

/* Ring of invalidation events of one mirror, read by read(2). */
struct hmm_mirror_events {
	spinlock_t lock;	/* protects ring, head, count, next_seq, overflow */
	struct hmm_mirror_event *ring;
	unsigned int head;	/* index of the oldest event */
	unsigned int count;	/* events in the ring */
	u64 next_seq;		/* seq of the next event recorded */
	bool overflow;		/* events dropped since the last read */
	wait_queue_head_t wait;	/* readers waiting for an event */
};

/* Counters of one mirror; updated under hmm_mirror.lock or atomically. */
struct hmm_mirror_stats {
	atomic64_t faults;
	atomic64_t pages_faulted;
	atomic64_t fault_retries;
	atomic64_t invalidations;
	atomic64_t pages_invalidated;
	atomic64_t events_dropped;
	atomic64_t device_reads;
	atomic64_t device_writes;
	atomic64_t migrated_to_device;
	atomic64_t migrated_to_system;
	atomic64_t exclusive_grants;
	atomic64_t exclusive_revocations;
	atomic64_t device_atomics;
	atomic64_t device_private_reads;
};

/*
 * One mirror: an open /dev/hmm_mirrorN bound to the opener's mm. The device
 * page table maps page-aligned addresses to the struct page the device may
 * access; entries hold no page reference, which is valid because the
 * invalidation callback removes them (under @lock) before the kernel frees
 * or moves the page.
 */
struct hmm_mirror {
	struct hmm_mirror_device *mdev;
	struct mm_struct *mm;		/* mmgrab()ed at open, mmdrop()ed at release */
	struct mmu_interval_notifier notifier;	/* covers the whole address space */
	/*
	 * The "driver->update" lock of Documentation/mm/hmm.rst: protects @pt.
	 * Taken by the invalidation callback, and by the fault path around
	 * mmu_interval_read_retry() and the commit to @pt.
	 */
	struct mutex lock;
	struct xarray pt;		/* device page table: addr >> PAGE_SHIFT -> entry */
	u64 delay_us;			/* slow-device delay per invalidation, under @lock */
#ifndef HMM_MIRROR_HAVE_MAKE_DEVICE_EXCLUSIVE
	/*
	 * make_device_exclusive_range() (before 6.15) drops the rmap of the
	 * page it makes exclusive, so folio_mapped() cannot tell that a zap
	 * removed the entry after the grant. The invalidation callback flags
	 * a zap of the page being granted instead. @excl_lock serialises the
	 * grants of this mirror (one page in flight); @excl_addr (0: none)
	 * and @excl_zapped are protected by @lock.
	 */
	struct mutex excl_lock;
	unsigned long excl_addr;
	bool excl_zapped;
#endif
	struct hmm_mirror_events events;
	struct hmm_mirror_stats stats;
};

/*
 * Tags of device page table entries: writable, and device-exclusive
 * (writable too). The XArray allows pointer tags 0, 1 and 3 only: an entry
 * with tag 2 is taken for one of its internal entries (a node pointer), and
 * walking or erasing it loops or reads garbage.
 */
#define HMM_MIRROR_PT_WRITE 1UL
#define HMM_MIRROR_PT_EXCLUSIVE 3UL

/* Attempts of one fault or exclusive grant before giving up with -EBUSY. */
#define HMM_MIRROR_FAULT_RETRIES 1000

/* The dev_pagemap owner of all our device-private pages (dmem.c). */
extern int hmm_mirror_pgmap_owner;

/* mirror.c */
int hmm_mirror_init_mirror(struct hmm_mirror *mirror, struct mm_struct *mm);
void hmm_mirror_fini_mirror(struct hmm_mirror *mirror);
int hmm_mirror_fault(struct hmm_mirror *mirror, unsigned long start,
		     unsigned long npages, bool write, u64 *faulted);
int hmm_mirror_read(struct hmm_mirror *mirror, unsigned long start,
		    unsigned long npages, void __user *buf, u64 *faulted);
int hmm_mirror_write(struct hmm_mirror *mirror, unsigned long start,
		     unsigned long npages, const void __user *buf,
		     u64 *faulted);
int hmm_mirror_snapshot(struct hmm_mirror *mirror, unsigned long start,
			unsigned long npages, u8 __user *states);
void hmm_mirror_set_delay(struct hmm_mirror *mirror, u64 delay_us);

/* dmem.c */
void hmm_mirror_dmem_init(struct hmm_mirror_device *mdev);
void hmm_mirror_dmem_fini(struct hmm_mirror_device *mdev);
void hmm_mirror_dmem_evict(struct hmm_mirror_device *mdev,
			   struct hmm_mirror *only);
struct hmm_mirror_device *hmm_mirror_page_device(struct page *page);
struct page *hmm_mirror_dmem_backing(struct page *dpage);
int hmm_mirror_migrate(struct hmm_mirror *mirror, unsigned long start,
		       unsigned long npages, bool to_device, u64 *migrated,
		       u64 *skipped);
int hmm_mirror_exclusive(struct hmm_mirror *mirror, unsigned long start,
			 unsigned long npages, u64 *done);
int hmm_mirror_atomic_add(struct hmm_mirror *mirror, unsigned long addr,
			  u64 value, u64 *old);

/* events.c */
int hmm_mirror_events_init(struct hmm_mirror_events *ev);
void hmm_mirror_events_fini(struct hmm_mirror_events *ev);
void hmm_mirror_events_record(struct hmm_mirror *mirror,
			      const struct mmu_notifier_range *range,
			      unsigned long cur_seq, u64 pages);
ssize_t hmm_mirror_events_read(struct hmm_mirror *mirror, char __user *buf,
			       size_t count, bool nonblock);
__poll_t hmm_mirror_events_poll(struct hmm_mirror *mirror, struct file *file,
				poll_table *wait);

#endif /* HMM_MIRROR_INTERNAL_H */
