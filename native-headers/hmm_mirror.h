/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * hmm_mirror: userspace ABI of the hmm_mirror kernel module.
 *
 * This header is the single source of truth for the C module (kmod/) and
 * the Java bindings (java-bindings/, generated from it by jextract).
 *
 * Rules every command follows:
 *  - the struct starts with a __u32 size field that the caller sets to
 *    sizeof(struct) as it knows it; a size the module does not know gets
 *    -EINVAL;
 *  - reserved fields must be zero on input, or the command fails with
 *    -EINVAL; the module zeroes them on output;
 *  - unknown flag bits are rejected with -EINVAL;
 *  - a command issued from a process whose mm is not the one that opened
 *    the device file fails with -EPERM.
 */
#ifndef _UAPI_LINUX_HMM_MIRROR_H
#define _UAPI_LINUX_HMM_MIRROR_H

#include <linux/types.h>
#include <linux/ioctl.h>

/*
 * Bumped on any incompatible change of this header. A new command, flag or
 * capability bit is a compatible addition and leaves it as it is: the
 * HMM_MIRROR_CAP_* bits say whether the loaded module has it.
 */
#define HMM_MIRROR_ABI_VERSION 1

/* Device nodes are /dev/hmm_mirror0 .. /dev/hmm_mirror<ndevices - 1>. */
#define HMM_MIRROR_DEVICE_PREFIX "/dev/hmm_mirror"

/*
 * Capability bits reported by HMM_MIRROR_IOC_VERSION.
 *
 * HMM_MIRROR_CAP_MIRROR: the kernel has CONFIG_HMM_MIRROR; mirroring works.
 * HMM_MIRROR_CAP_DEVICE_PRIVATE: the kernel has CONFIG_DEVICE_PRIVATE;
 *	device-private memory can exist.
 * HMM_MIRROR_CAP_THP: the kernel has CONFIG_TRANSPARENT_HUGEPAGE.
 * HMM_MIRROR_CAP_MIGRATE: migration to device-private memory and back
 *	(HMM_MIRROR_IOC_MIGRATE_TO_DEV/_TO_SYS) works on this kernel.
 * HMM_MIRROR_CAP_EXCLUSIVE: device-exclusive access for atomics
 *	(HMM_MIRROR_IOC_EXCLUSIVE/_ATOMIC_ADD) works on this kernel.
 * Without them (kernels lacking CONFIG_DEVICE_PRIVATE) those commands fail
 * with -EOPNOTSUPP.
 * HMM_MIRROR_CAP_SHARED_OWNER: the devices share one device-memory owner
 *	(module parameter shared_owner=Y, the default): a device maps another
 *	device's memory in place, and its snapshot reports such pages as
 *	HMM_MIRROR_PAGE_KIND_REMOTE. Without it each device owns its memory:
 *	another device's snapshot does not see such pages, and its access
 *	migrates them back to system memory first.
 * HMM_MIRROR_CAP_EVENT_SCOPE: HMM_MIRROR_IOC_EVENT_SCOPE works (on every
 *	kernel: the module reports it always; a module older than the
 *	command answers it with -ENOTTY and does not report the bit).
 * HMM_MIRROR_CAP_THP_MIGRATE: a transparent huge page migrates whole: a
 *	PMD-aligned, PMD-sized range of one THP (or an empty or huge-zero
 *	one) moves to device memory as one large device-private folio and
 *	back as one THP, and a CPU fault on it brings it all back (kernels
 *	with MIGRATE_VMA_SELECT_COMPOUND, 6.19+). When a large allocation
 *	fails, or without the bit, such a range moves as base pages (the
 *	kernel splits the THP). Snapshots report a whole large device folio
 *	as HMM_MIRROR_PAGE_KIND_PRIVATE | HMM_MIRROR_PAGE_HUGE.
 * HMM_MIRROR_CAP_MAP_ORDER: HMM_MIRROR_IOC_SNAPSHOT takes
 *	HMM_MIRROR_SNAPSHOT_MAP_ORDER (a module older than the flag refuses
 *	it with -EINVAL and does not report the bit).
 */
#define HMM_MIRROR_CAP_MIRROR		(1ULL << 0)
#define HMM_MIRROR_CAP_DEVICE_PRIVATE	(1ULL << 1)
#define HMM_MIRROR_CAP_THP		(1ULL << 2)
#define HMM_MIRROR_CAP_MIGRATE		(1ULL << 3)
#define HMM_MIRROR_CAP_EXCLUSIVE	(1ULL << 4)
#define HMM_MIRROR_CAP_SHARED_OWNER	(1ULL << 5)
#define HMM_MIRROR_CAP_EVENT_SCOPE	(1ULL << 6)
#define HMM_MIRROR_CAP_THP_MIGRATE	(1ULL << 7)
#define HMM_MIRROR_CAP_MAP_ORDER	(1ULL << 8)

/**
 * struct hmm_mirror_version - HMM_MIRROR_IOC_VERSION argument
 * @size: in: sizeof(struct hmm_mirror_version)
 * @abi_version: out: HMM_MIRROR_ABI_VERSION of the loaded module
 * @caps: out: HMM_MIRROR_CAP_* bits
 * @page_size: out: PAGE_SIZE of the running kernel
 * @ndevices: out: number of /dev/hmm_mirror* devices
 * @device_index: out: index N of the /dev/hmm_mirrorN this file refers to
 * @pad: must be zero
 * @reserved: must be zero
 */
struct hmm_mirror_version {
	__u32 size;
	__u32 abi_version;
	__u64 caps;
	__u32 page_size;
	__u32 ndevices;
	__u32 device_index;
	__u32 pad;
	__u64 reserved[4];
};

/* Largest range one command accepts: 1 GiB of 4 KiB pages. */
#define HMM_MIRROR_MAX_PAGES (1ULL << 18)

/* Flags of struct hmm_mirror_range and struct hmm_mirror_rw. */
#define HMM_MIRROR_FAULT_WRITE	(1U << 0)	/* fault with write access */

/**
 * struct hmm_mirror_range - HMM_MIRROR_IOC_FAULT argument
 * @size: in: sizeof(struct hmm_mirror_range)
 * @flags: in: HMM_MIRROR_FAULT_* bits
 * @addr: in: page-aligned start address in the caller's address space
 * @npages: in: number of pages, 1 .. HMM_MIRROR_MAX_PAGES
 * @faulted: out: pages now mapped in the device page table
 * @reserved: must be zero
 *
 * Faults [addr, addr + npages * page size) into the device page table with
 * hmm_range_fault(). Errors: -EINVAL (bad size, flags, alignment, range),
 * -EFAULT (no mapping, or PROT_NONE), -EPERM (write to a read-only
 * mapping), -EBUSY (the range kept being invalidated; retry), -ENOMEM,
 * -EINTR (fatal signal).
 */
struct hmm_mirror_range {
	__u32 size;
	__u32 flags;
	__u64 addr;
	__u64 npages;
	__u64 faulted;
	__u64 reserved[4];
};

/**
 * struct hmm_mirror_rw - HMM_MIRROR_IOC_READ / HMM_MIRROR_IOC_WRITE argument
 * @size: in: sizeof(struct hmm_mirror_rw)
 * @flags: in: must be zero
 * @addr: in: page-aligned start address of the mirrored range
 * @npages: in: number of pages, 1 .. HMM_MIRROR_MAX_PAGES
 * @ptr: in: user buffer of npages * page size bytes; READ fills it with
 *	what the device sees, WRITE stores it through the device page table
 * @faulted: out: pages the command had to fault in first
 * @reserved: must be zero
 *
 * Memory is accessed through the device page table only: pages missing
 * from it (or mapped read-only, for WRITE) are faulted in first, as a
 * device would. Errors as for HMM_MIRROR_IOC_FAULT, and -EFAULT for a bad
 * @ptr.
 */
struct hmm_mirror_rw {
	__u32 size;
	__u32 flags;
	__u64 addr;
	__u64 npages;
	__u64 ptr;
	__u64 faulted;
	__u64 reserved[4];
};

/* HMM_MIRROR_IOC_PAGES: no page in this table (not mapped / not present) */
#define HMM_MIRROR_PFN_NONE (~(__u64)0)

/**
 * struct hmm_mirror_page - one page of HMM_MIRROR_IOC_PAGES
 * @cpu_pfn: the page frame the CPU page table maps (as hmm_range_fault()
 *	sees it without faulting), or HMM_MIRROR_PFN_NONE
 * @dev_pfn: the page frame the device page table maps, or
 *	HMM_MIRROR_PFN_NONE
 * @refcount: page_ref_count() of the CPU's page (0 without one)
 * @mapcount: how many page tables map the CPU's page (folio_mapcount(),
 *	page_mapcount() before 6.9; 0 without a page)
 *
 * Counts are read without a reference: a diagnostic, exact only while
 * nothing else touches the page.
 */
struct hmm_mirror_page {
	__u64 cpu_pfn;
	__u64 dev_pfn;
	__u32 refcount;
	__s32 mapcount;
};

/**
 * struct hmm_mirror_pages - HMM_MIRROR_IOC_PAGES argument
 * @size: in: sizeof(struct hmm_mirror_pages)
 * @flags: in: must be zero
 * @addr: in: page-aligned start address
 * @npages: in: number of pages, 1 .. HMM_MIRROR_MAX_PAGES
 * @ptr: in: user array of npages struct hmm_mirror_page, filled
 * @reserved: must be zero
 *
 * Which physical pages the CPU and the device map, and the reference and
 * map counts of the CPU's pages, without faulting anything in: the way to
 * see that the device follows a page the kernel moved (NUMA migration,
 * compaction, KSM, THP collapse) and that mirroring takes no reference.
 * Page frame numbers are as sensitive as /proc/PID/pagemap's: -EPERM
 * without CAP_SYS_ADMIN.
 */
struct hmm_mirror_pages {
	__u32 size;
	__u32 flags;
	__u64 addr;
	__u64 npages;
	__u64 ptr;
	__u64 reserved[4];
};

/*
 * Page state byte of HMM_MIRROR_IOC_SNAPSHOT. Bits 0-3 describe the CPU
 * page table as hmm_range_fault() sees it without faulting, bits 4-5 the
 * device page table, bits 6-7 a special kind of page:
 */
#define HMM_MIRROR_PAGE_READ		0x01	/* CPU: present, readable */
#define HMM_MIRROR_PAGE_WRITE		0x02	/* CPU: present, writable */
#define HMM_MIRROR_PAGE_HUGE		0x04	/* CPU: mapped by a PMD or larger */
#define HMM_MIRROR_PAGE_ZERO		0x08	/* CPU: the shared zero page */
#define HMM_MIRROR_PAGE_DEV_READ	0x10	/* device page table maps it */
#define HMM_MIRROR_PAGE_DEV_WRITE	0x20	/* ... and may write it */
#define HMM_MIRROR_PAGE_KIND_MASK	0xc0
#define HMM_MIRROR_PAGE_KIND_NORMAL	0x00	/* system memory */
#define HMM_MIRROR_PAGE_KIND_PRIVATE	0x40	/* device-private, this device */
#define HMM_MIRROR_PAGE_KIND_REMOTE	0x80	/* device-private, other device */
#define HMM_MIRROR_PAGE_KIND_EXCLUSIVE	0xc0	/* device-exclusive entry */
/*
 * Not accessible: what hmm_range_fault() reports as HMM_PFN_ERROR without
 * faulting, i.e. a page no VMA covers (a hole), a page of a VMA without
 * read permission (PROT_NONE) or of a VM_IO/VM_PFNMAP one, and an entry
 * it cannot describe (e.g. a PTE that maps no normal page, a bad PMD);
 * every page of a 64-page chunk that hmm_range_fault() refuses with
 * -EFAULT reads so too. hugetlb pages are reported as any other page
 * (with HMM_MIRROR_PAGE_HUGE), not as errors.
 */
#define HMM_MIRROR_PAGE_ERROR		0xff

/*
 * Flag of HMM_MIRROR_IOC_SNAPSHOT: fill each byte with the map order
 * hmm_range_fault() reported for the page (hmm_pfn_to_map_order(): 0 for
 * a page mapped by a PTE, PMD_SHIFT - PAGE_SHIFT for one of a PMD-mapped
 * THP, the huge page's order for hugetlb) instead of its state; 0 for a
 * page it reported as not valid. With HMM_MIRROR_CAP_MAP_ORDER.
 */
#define HMM_MIRROR_SNAPSHOT_MAP_ORDER	(1U << 0)

/**
 * struct hmm_mirror_snapshot - HMM_MIRROR_IOC_SNAPSHOT argument
 * @size: in: sizeof(struct hmm_mirror_snapshot)
 * @flags: in: zero, or HMM_MIRROR_SNAPSHOT_MAP_ORDER
 * @addr: in: page-aligned start address
 * @npages: in: number of pages, 1 .. HMM_MIRROR_MAX_PAGES
 * @ptr: in: user buffer of npages bytes, filled with HMM_MIRROR_PAGE_*
 *	(with HMM_MIRROR_SNAPSHOT_MAP_ORDER: with map orders)
 * @reserved: must be zero
 *
 * Reports page states (or map orders) without faulting anything in.
 */
struct hmm_mirror_snapshot {
	__u32 size;
	__u32 flags;
	__u64 addr;
	__u64 npages;
	__u64 ptr;
	__u64 reserved[4];
};

/**
 * struct hmm_mirror_counters - HMM_MIRROR_IOC_COUNTERS argument
 * @size: in: sizeof(struct hmm_mirror_counters)
 * @pad: must be zero
 * @faults: out: hmm_range_fault() attempts that succeeded
 * @pages_faulted: out: pages committed to the device page table
 * @fault_retries: out: attempts retried (-EBUSY or a racing invalidation)
 * @invalidations: out: invalidation callbacks received
 * @pages_invalidated: out: device page table entries removed by them
 * @events_dropped: out: events lost because the event ring was full
 * @device_reads: out: pages read through the device page table
 * @device_writes: out: pages written through the device page table
 * @migrated_to_device: out: pages this mirror migrated to device memory
 * @migrated_to_system: out: pages this mirror migrated back explicitly
 *	(HMM_MIRROR_IOC_MIGRATE_TO_SYS or eviction at release)
 * @cpu_fault_migrations: out: pages of this device migrated back because
 *	the CPU touched them (migrate_to_ram); device-wide, not per mirror
 * @exclusive_grants: out: pages this mirror took exclusive
 * @exclusive_revocations: out: exclusive device entries of this mirror
 *	removed because the CPU (or another device) took the page back
 * @device_atomics: out: atomic operations done through exclusive entries
 * @device_private_reads: out: pages read from device-private memory
 * @reserved: must be zero on input
 *
 * Counters are per mirror (per open file) unless said otherwise, and only
 * ever grow.
 */
struct hmm_mirror_counters {
	__u32 size;
	__u32 pad;
	__u64 faults;
	__u64 pages_faulted;
	__u64 fault_retries;
	__u64 invalidations;
	__u64 pages_invalidated;
	__u64 events_dropped;
	__u64 device_reads;
	__u64 device_writes;
	__u64 migrated_to_device;
	__u64 migrated_to_system;
	__u64 cpu_fault_migrations;
	__u64 exclusive_grants;
	__u64 exclusive_revocations;
	__u64 device_atomics;
	__u64 device_private_reads;
	__u64 reserved[2];
};

/**
 * struct hmm_mirror_delay - HMM_MIRROR_IOC_SET_DELAY argument
 * @size: in: sizeof(struct hmm_mirror_delay)
 * @flags: in: must be zero
 * @delay_us: in: how long each device page-table update in the
 *	invalidation callback takes, in microseconds (0 .. 10000000); the
 *	kernel waits for it, as it waits for a slow device. Invalidations that
 *	may not sleep are refused while a delay is set.
 * @reserved: must be zero
 */
struct hmm_mirror_delay {
	__u32 size;
	__u32 flags;
	__u64 delay_us;
	__u64 reserved[2];
};

#define HMM_MIRROR_MAX_DELAY_US 10000000ULL

/* Reasons of struct hmm_mirror_event, from enum mmu_notifier_event. */
#define HMM_MIRROR_EVENT_UNMAP		0
#define HMM_MIRROR_EVENT_CLEAR		1
#define HMM_MIRROR_EVENT_PROTECTION_VMA	2
#define HMM_MIRROR_EVENT_PROTECTION_PAGE 3
#define HMM_MIRROR_EVENT_SOFT_DIRTY	4
#define HMM_MIRROR_EVENT_RELEASE	5
#define HMM_MIRROR_EVENT_MIGRATE	6
#define HMM_MIRROR_EVENT_EXCLUSIVE	7
#define HMM_MIRROR_EVENT_OTHER		255

/* Flags of struct hmm_mirror_event. */
#define HMM_MIRROR_EVENT_BLOCKABLE	(1U << 0)	/* callback could sleep */
#define HMM_MIRROR_EVENT_OVERFLOW	(1U << 1)	/* events were lost before this one */

/**
 * struct hmm_mirror_event - one invalidation, as read() returns them
 * @seq: position of this event in the mirror's event stream (from 0);
 *	only recorded events count (see HMM_MIRROR_IOC_EVENT_SCOPE)
 * @start: first address of the invalidated range
 * @end: end (exclusive) of the invalidated range
 * @notifier_seq: the interval notifier sequence of this invalidation
 * @reason: HMM_MIRROR_EVENT_*
 * @flags: HMM_MIRROR_EVENT_* flags
 * @pages: device page table entries this invalidation removed
 *
 * read() on the device file returns whole events (a buffer smaller than
 * one event gets -EINVAL), blocks until one is available unless the file
 * is O_NONBLOCK (-EAGAIN), and poll() reports EPOLLIN when one is. The
 * ring holds HMM_MIRROR_EVENT_RING events; older ones are dropped and
 * counted when it is full. Every invalidation is recorded unless the
 * mirror has an event scope (struct hmm_mirror_event_scope).
 */
struct hmm_mirror_event {
	__u64 seq;
	__u64 start;
	__u64 end;
	__u64 notifier_seq;
	__u32 reason;
	__u32 flags;
	__u64 pages;
};

#define HMM_MIRROR_EVENT_RING 1024

/* Flags of struct hmm_mirror_event_scope: exactly one is set. */
#define HMM_MIRROR_SCOPE_ADD	(1U << 0)	/* add [start, end) to the scope */
#define HMM_MIRROR_SCOPE_CLEAR	(1U << 1)	/* empty it: record everything */

/* Ranges one mirror's event scope holds. */
#define HMM_MIRROR_SCOPE_RANGES 16

/**
 * struct hmm_mirror_event_scope - HMM_MIRROR_IOC_EVENT_SCOPE argument
 * @size: in: sizeof(struct hmm_mirror_event_scope)
 * @flags: in: HMM_MIRROR_SCOPE_ADD or HMM_MIRROR_SCOPE_CLEAR, exactly one
 * @start: in: ADD: page-aligned first address of the range; CLEAR: 0
 * @end: in: ADD: page-aligned end (exclusive) of the range, above @start
 *	and at most TASK_SIZE; CLEAR: 0
 * @reserved: must be zero
 *
 * Scopes the mirror's event ring (struct hmm_mirror_event) to ranges of
 * the address space. With an empty scope, as at open and after CLEAR,
 * every invalidation is recorded. Once ranges were added, only an
 * invalidation whose range overlaps one of them is recorded, with the
 * kernel's full range (it may reach past the scope); the others are not
 * queued, so a fork() or an munmap() elsewhere in the process cannot
 * overflow the ring. The scope filters the report, never coherence: every
 * invalidation still removes the device page-table entries it covers and
 * counts in HMM_MIRROR_IOC_COUNTERS (invalidations, pages_invalidated;
 * events_dropped counts only events lost to a full ring). Sequence numbers
 * count recorded events only: filtering leaves no gap in @seq. A change of
 * the scope applies to the invalidations that follow; events already in
 * the ring stay. Ranges may overlap: each ADD takes one of the
 * HMM_MIRROR_SCOPE_RANGES slots, nothing is merged.
 * Errors: -EINVAL for a bad size, unknown flags, both flags or neither, a
 * non-zero reserved word, an ADD whose @start or @end is not page aligned,
 * whose @end is not above @start or lies beyond TASK_SIZE, and a CLEAR
 * with a non-zero @start or @end; -EFAULT for a bad pointer; -ENOSPC for
 * an ADD to a scope that holds HMM_MIRROR_SCOPE_RANGES ranges already.
 */
struct hmm_mirror_event_scope {
	__u32 size;
	__u32 flags;
	__u64 start;
	__u64 end;
	__u64 reserved[2];
};

/**
 * struct hmm_mirror_migrate - HMM_MIRROR_IOC_MIGRATE_TO_DEV / _TO_SYS argument
 * @size: in: sizeof(struct hmm_mirror_migrate)
 * @flags: in: must be zero
 * @addr: in: page-aligned start address
 * @npages: in: number of pages, 1 .. HMM_MIRROR_MAX_PAGES
 * @migrated: out: pages moved
 * @skipped: out: pages left where they were: holes (addresses no mapping
 *	covers), pages already there, pages another device holds, pages the
 *	kernel could not isolate (pinned, under writeback...). TO_DEV moves
 *	never-touched pages of a private anonymous mapping too, as zero pages
 *	(migrate_vma_setup offers them; DeviceMemoryIT checks it)
 * @reserved: must be zero
 *
 * TO_DEV moves the private anonymous pages of the range into this device's
 * device-private memory (migrate_vma_*); the device page table then maps
 * them. Only private anonymous pages move: in a private file mapping the
 * pages the process wrote move and the file's pages are skipped. TO_SYS
 * moves pages of this device back to system memory. Both directions check
 * the mappings of the range alike: a range with a shared mapping or a
 * mapping without read permission gets -EINVAL (pages of the mappings
 * before it may have moved already), and a range that is not mapped at
 * all gets -EFAULT. The CPU touching a page in device memory migrates it
 * back as well, and closing the mirror (or unloading the module) evicts
 * all of its pages.
 * -EOPNOTSUPP without HMM_MIRROR_CAP_MIGRATE; TO_DEV only: -ENOMEM when
 * device memory is exhausted before any page moved.
 */
struct hmm_mirror_migrate {
	__u32 size;
	__u32 flags;
	__u64 addr;
	__u64 npages;
	__u64 migrated;
	__u64 skipped;
	__u64 reserved[4];
};

/**
 * struct hmm_mirror_atomic - HMM_MIRROR_IOC_ATOMIC_ADD argument
 * @size: in: sizeof(struct hmm_mirror_atomic)
 * @flags: in: must be zero
 * @addr: in: 8-byte aligned address of a 64-bit word
 * @value: in: what to add
 * @old: out: the word's value before the addition
 * @reserved: must be zero
 *
 * A device atomic: the page is taken exclusive for the device first (as
 * HMM_MIRROR_IOC_EXCLUSIVE does) unless it already is, then the word is
 * updated atomically. -EINVAL for a misaligned address, -EOPNOTSUPP
 * without HMM_MIRROR_CAP_EXCLUSIVE, else as for HMM_MIRROR_IOC_EXCLUSIVE.
 */
struct hmm_mirror_atomic {
	__u32 size;
	__u32 flags;
	__u64 addr;
	__u64 value;
	__u64 old;
	__u64 reserved[2];
};

/**
 * struct hmm_mirror_inject - HMM_MIRROR_IOC_INJECT argument: fault injection
 * @size: in: sizeof(struct hmm_mirror_inject)
 * @flags: in: must be zero
 * @fail_alloc: in: the next @fail_alloc page allocations of this mirror's
 *	migrations fail (device memory on MIGRATE_TO_DEV, system memory on
 *	MIGRATE_TO_SYS): each such page stays where it is and counts as
 *	skipped. A MIGRATE_TO_DEV in which no page moved because of them
 *	fails with -ENOMEM; a MIGRATE_TO_SYS never fails because of them, it
 *	only skips those pages. CPU faults (migrate_to_ram) are never made
 *	to fail. With HMM_MIRROR_CAP_THP_MIGRATE, a whole THP's large
 *	allocation counts as one: when it fails the THP moves as base pages
 *	(as test_hmm's HMM_DMIRROR_FLAG_FAIL_ALLOC), which are not made to
 *	fail.
 *	out: how many were still pending before this call
 * @fault_busy: in: the next @fault_busy hmm_range_fault() attempts of
 *	this mirror's fault paths (fault, device read/write) are treated as
 *	if they had returned -EBUSY, so the retry path runs; past the retry
 *	deadline the command fails with -EBUSY. out: as for @fail_alloc
 * @fail_copy: in: the next @fail_copy device copies fail: a page of a
 *	device read or write (the command fails with -EIO, the pages before
 *	it are done), or a page of a migration (it stays where it is and
 *	counts as skipped; a whole THP moving as one counts as one copy).
 *	out: as for @fail_alloc
 * @copy_delay_us: in: every device copy (a page of a device read or
 *	write, or of a migration) takes this long, in microseconds
 *	(0 .. HMM_MIRROR_MAX_COPY_DELAY_US), as on a slow link; it stays set
 *	until changed. out: the previous value
 * @reserved: must be zero
 *
 * Every call replaces all four settings (zeros turn injection off) and
 * returns the ones it replaced, so a test sees what was consumed. Errors:
 * -EINVAL for a bad size, flags, reserved word or @copy_delay_us.
 */
struct hmm_mirror_inject {
	__u32 size;
	__u32 flags;
	__u32 fail_alloc;
	__u32 fault_busy;
	__u32 fail_copy;
	__u32 copy_delay_us;
	__u64 reserved[2];
};

#define HMM_MIRROR_MAX_COPY_DELAY_US 100000U

#define HMM_MIRROR_IOC_MAGIC 0xB6

#define HMM_MIRROR_IOC_VERSION \
	_IOWR(HMM_MIRROR_IOC_MAGIC, 0x00, struct hmm_mirror_version)
#define HMM_MIRROR_IOC_FAULT \
	_IOWR(HMM_MIRROR_IOC_MAGIC, 0x01, struct hmm_mirror_range)
#define HMM_MIRROR_IOC_READ \
	_IOWR(HMM_MIRROR_IOC_MAGIC, 0x02, struct hmm_mirror_rw)
#define HMM_MIRROR_IOC_WRITE \
	_IOWR(HMM_MIRROR_IOC_MAGIC, 0x03, struct hmm_mirror_rw)
#define HMM_MIRROR_IOC_SNAPSHOT \
	_IOWR(HMM_MIRROR_IOC_MAGIC, 0x04, struct hmm_mirror_snapshot)
#define HMM_MIRROR_IOC_COUNTERS \
	_IOWR(HMM_MIRROR_IOC_MAGIC, 0x05, struct hmm_mirror_counters)
#define HMM_MIRROR_IOC_SET_DELAY \
	_IOW(HMM_MIRROR_IOC_MAGIC, 0x06, struct hmm_mirror_delay)
#define HMM_MIRROR_IOC_MIGRATE_TO_DEV \
	_IOWR(HMM_MIRROR_IOC_MAGIC, 0x07, struct hmm_mirror_migrate)
#define HMM_MIRROR_IOC_MIGRATE_TO_SYS \
	_IOWR(HMM_MIRROR_IOC_MAGIC, 0x08, struct hmm_mirror_migrate)
/*
 * HMM_MIRROR_IOC_EXCLUSIVE takes struct hmm_mirror_range (flags zero):
 * makes each page of the range device-exclusive (make_device_exclusive),
 * so that the CPU page table holds an exclusive entry and the device may
 * do atomics on it; any CPU access revokes it. @faulted counts pages made
 * exclusive. -EOPNOTSUPP without HMM_MIRROR_CAP_EXCLUSIVE; -EFAULT for an
 * unmapped page, -EPERM for a mapping without write permission (atomics
 * write), -EBUSY when the page kept changing; other errors of
 * make_device_exclusive() as they come (e.g. -EOPNOTSUPP for a non-anonymous
 * page).
 */
#define HMM_MIRROR_IOC_EXCLUSIVE \
	_IOWR(HMM_MIRROR_IOC_MAGIC, 0x09, struct hmm_mirror_range)
#define HMM_MIRROR_IOC_ATOMIC_ADD \
	_IOWR(HMM_MIRROR_IOC_MAGIC, 0x0a, struct hmm_mirror_atomic)
#define HMM_MIRROR_IOC_PAGES \
	_IOWR(HMM_MIRROR_IOC_MAGIC, 0x0b, struct hmm_mirror_pages)
#define HMM_MIRROR_IOC_INJECT \
	_IOWR(HMM_MIRROR_IOC_MAGIC, 0x0c, struct hmm_mirror_inject)
#define HMM_MIRROR_IOC_EVENT_SCOPE \
	_IOW(HMM_MIRROR_IOC_MAGIC, 0x0d, struct hmm_mirror_event_scope)

#endif /* _UAPI_LINUX_HMM_MIRROR_H */
