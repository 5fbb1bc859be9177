// SPDX-License-Identifier: GPL-2.0
/*
 * Prints the C view of the hmm_mirror ABI as "name value" lines, one per
 * struct size, field offset, ioctl number and constant. LayoutProbeTest
 * compiles it against native-headers/ and compares every line with the
 * jextract bindings; it also checks that this probe covers every struct
 * field and named constant of the header, so a new one cannot be missed.
 */
#include <stddef.h>
#include <stdio.h>
#include <hmm_mirror.h>

#define SIZE(s) printf("sizeof.%s %zu\n", #s, sizeof(struct s))
#define OFF(s, f) printf("offsetof.%s.%s %zu\n", #s, #f, offsetof(struct s, f))
#define CONST(c) printf("const.%s %llu\n", #c, (unsigned long long)(c))

int main(void)
{
	SIZE(hmm_mirror_version);
	OFF(hmm_mirror_version, size);
	OFF(hmm_mirror_version, abi_version);
	OFF(hmm_mirror_version, caps);
	OFF(hmm_mirror_version, page_size);
	OFF(hmm_mirror_version, ndevices);
	OFF(hmm_mirror_version, device_index);
	OFF(hmm_mirror_version, pad);
	OFF(hmm_mirror_version, reserved);
	SIZE(hmm_mirror_range);
	OFF(hmm_mirror_range, size);
	OFF(hmm_mirror_range, flags);
	OFF(hmm_mirror_range, addr);
	OFF(hmm_mirror_range, npages);
	OFF(hmm_mirror_range, faulted);
	OFF(hmm_mirror_range, reserved);
	SIZE(hmm_mirror_rw);
	OFF(hmm_mirror_rw, size);
	OFF(hmm_mirror_rw, flags);
	OFF(hmm_mirror_rw, addr);
	OFF(hmm_mirror_rw, npages);
	OFF(hmm_mirror_rw, ptr);
	OFF(hmm_mirror_rw, faulted);
	OFF(hmm_mirror_rw, reserved);
	SIZE(hmm_mirror_snapshot);
	OFF(hmm_mirror_snapshot, size);
	OFF(hmm_mirror_snapshot, flags);
	OFF(hmm_mirror_snapshot, addr);
	OFF(hmm_mirror_snapshot, npages);
	OFF(hmm_mirror_snapshot, ptr);
	OFF(hmm_mirror_snapshot, reserved);
	SIZE(hmm_mirror_page);
	OFF(hmm_mirror_page, cpu_pfn);
	OFF(hmm_mirror_page, dev_pfn);
	OFF(hmm_mirror_page, refcount);
	OFF(hmm_mirror_page, mapcount);
	SIZE(hmm_mirror_pages);
	OFF(hmm_mirror_pages, size);
	OFF(hmm_mirror_pages, flags);
	OFF(hmm_mirror_pages, addr);
	OFF(hmm_mirror_pages, npages);
	OFF(hmm_mirror_pages, ptr);
	OFF(hmm_mirror_pages, reserved);
	SIZE(hmm_mirror_counters);
	OFF(hmm_mirror_counters, size);
	OFF(hmm_mirror_counters, pad);
	OFF(hmm_mirror_counters, faults);
	OFF(hmm_mirror_counters, pages_faulted);
	OFF(hmm_mirror_counters, fault_retries);
	OFF(hmm_mirror_counters, invalidations);
	OFF(hmm_mirror_counters, pages_invalidated);
	OFF(hmm_mirror_counters, events_dropped);
	OFF(hmm_mirror_counters, device_reads);
	OFF(hmm_mirror_counters, device_writes);
	OFF(hmm_mirror_counters, migrated_to_device);
	OFF(hmm_mirror_counters, migrated_to_system);
	OFF(hmm_mirror_counters, cpu_fault_migrations);
	OFF(hmm_mirror_counters, exclusive_grants);
	OFF(hmm_mirror_counters, exclusive_revocations);
	OFF(hmm_mirror_counters, device_atomics);
	OFF(hmm_mirror_counters, device_private_reads);
	OFF(hmm_mirror_counters, reserved);
	SIZE(hmm_mirror_inject);
	OFF(hmm_mirror_inject, size);
	OFF(hmm_mirror_inject, flags);
	OFF(hmm_mirror_inject, fail_alloc);
	OFF(hmm_mirror_inject, fault_busy);
	OFF(hmm_mirror_inject, fail_copy);
	OFF(hmm_mirror_inject, copy_delay_us);
	OFF(hmm_mirror_inject, reserved);
	SIZE(hmm_mirror_delay);
	OFF(hmm_mirror_delay, size);
	OFF(hmm_mirror_delay, flags);
	OFF(hmm_mirror_delay, delay_us);
	OFF(hmm_mirror_delay, reserved);
	SIZE(hmm_mirror_event);
	OFF(hmm_mirror_event, seq);
	OFF(hmm_mirror_event, start);
	OFF(hmm_mirror_event, end);
	OFF(hmm_mirror_event, notifier_seq);
	OFF(hmm_mirror_event, reason);
	OFF(hmm_mirror_event, flags);
	OFF(hmm_mirror_event, pages);
	SIZE(hmm_mirror_event_scope);
	OFF(hmm_mirror_event_scope, size);
	OFF(hmm_mirror_event_scope, flags);
	OFF(hmm_mirror_event_scope, start);
	OFF(hmm_mirror_event_scope, end);
	OFF(hmm_mirror_event_scope, reserved);
	SIZE(hmm_mirror_migrate);
	OFF(hmm_mirror_migrate, size);
	OFF(hmm_mirror_migrate, flags);
	OFF(hmm_mirror_migrate, addr);
	OFF(hmm_mirror_migrate, npages);
	OFF(hmm_mirror_migrate, migrated);
	OFF(hmm_mirror_migrate, skipped);
	OFF(hmm_mirror_migrate, reserved);
	SIZE(hmm_mirror_atomic);
	OFF(hmm_mirror_atomic, size);
	OFF(hmm_mirror_atomic, flags);
	OFF(hmm_mirror_atomic, addr);
	OFF(hmm_mirror_atomic, value);
	OFF(hmm_mirror_atomic, old);
	OFF(hmm_mirror_atomic, reserved);
	CONST(HMM_MIRROR_ABI_VERSION);
	CONST(HMM_MIRROR_CAP_MIRROR);
	CONST(HMM_MIRROR_CAP_DEVICE_PRIVATE);
	CONST(HMM_MIRROR_CAP_THP);
	CONST(HMM_MIRROR_CAP_MIGRATE);
	CONST(HMM_MIRROR_CAP_EXCLUSIVE);
	CONST(HMM_MIRROR_CAP_SHARED_OWNER);
	CONST(HMM_MIRROR_CAP_EVENT_SCOPE);
	CONST(HMM_MIRROR_CAP_THP_MIGRATE);
	CONST(HMM_MIRROR_CAP_MAP_ORDER);
	CONST(HMM_MIRROR_SNAPSHOT_MAP_ORDER);
	CONST(HMM_MIRROR_MAX_PAGES);
	CONST(HMM_MIRROR_FAULT_WRITE);
	CONST(HMM_MIRROR_PAGE_READ);
	CONST(HMM_MIRROR_PAGE_WRITE);
	CONST(HMM_MIRROR_PAGE_HUGE);
	CONST(HMM_MIRROR_PAGE_ZERO);
	CONST(HMM_MIRROR_PFN_NONE);
	CONST(HMM_MIRROR_PAGE_DEV_READ);
	CONST(HMM_MIRROR_PAGE_DEV_WRITE);
	CONST(HMM_MIRROR_PAGE_KIND_MASK);
	CONST(HMM_MIRROR_PAGE_KIND_NORMAL);
	CONST(HMM_MIRROR_PAGE_KIND_PRIVATE);
	CONST(HMM_MIRROR_PAGE_KIND_REMOTE);
	CONST(HMM_MIRROR_PAGE_KIND_EXCLUSIVE);
	CONST(HMM_MIRROR_PAGE_ERROR);
	CONST(HMM_MIRROR_MAX_DELAY_US);
	CONST(HMM_MIRROR_MAX_COPY_DELAY_US);
	CONST(HMM_MIRROR_EVENT_UNMAP);
	CONST(HMM_MIRROR_EVENT_CLEAR);
	CONST(HMM_MIRROR_EVENT_PROTECTION_VMA);
	CONST(HMM_MIRROR_EVENT_PROTECTION_PAGE);
	CONST(HMM_MIRROR_EVENT_SOFT_DIRTY);
	CONST(HMM_MIRROR_EVENT_RELEASE);
	CONST(HMM_MIRROR_EVENT_MIGRATE);
	CONST(HMM_MIRROR_EVENT_EXCLUSIVE);
	CONST(HMM_MIRROR_EVENT_OTHER);
	CONST(HMM_MIRROR_EVENT_BLOCKABLE);
	CONST(HMM_MIRROR_EVENT_OVERFLOW);
	CONST(HMM_MIRROR_EVENT_RING);
	CONST(HMM_MIRROR_SCOPE_ADD);
	CONST(HMM_MIRROR_SCOPE_CLEAR);
	CONST(HMM_MIRROR_SCOPE_RANGES);
	CONST(HMM_MIRROR_IOC_MAGIC);
	CONST(HMM_MIRROR_IOC_VERSION);
	CONST(HMM_MIRROR_IOC_FAULT);
	CONST(HMM_MIRROR_IOC_READ);
	CONST(HMM_MIRROR_IOC_WRITE);
	CONST(HMM_MIRROR_IOC_SNAPSHOT);
	CONST(HMM_MIRROR_IOC_COUNTERS);
	CONST(HMM_MIRROR_IOC_SET_DELAY);
	CONST(HMM_MIRROR_IOC_MIGRATE_TO_DEV);
	CONST(HMM_MIRROR_IOC_MIGRATE_TO_SYS);
	CONST(HMM_MIRROR_IOC_EXCLUSIVE);
	CONST(HMM_MIRROR_IOC_ATOMIC_ADD);
	CONST(HMM_MIRROR_IOC_PAGES);
	CONST(HMM_MIRROR_IOC_INJECT);
	CONST(HMM_MIRROR_IOC_EVENT_SCOPE);
	return 0;
}
