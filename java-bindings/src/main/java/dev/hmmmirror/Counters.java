package dev.hmmmirror;

/**
 * Per-mirror counters ({@code HMM_MIRROR_IOC_COUNTERS}); they only grow.
 *
 * @param faults           {@code hmm_range_fault} calls of device faults (and of device reads and writes that
 *                         missed) that succeeded: one per 64 pages asked for, and one more for each success
 *                         that was retried (an invalidation ran meanwhile, or a write found a copy-on-write
 *                         device page: those are in {@code faultRetries} too); snapshots are not counted
 * @param pagesFaulted     pages committed
 * @param faultRetries     attempts retried ({@code -EBUSY} or a racing invalidation)
 * @param invalidations    invalidation callbacks received
 * @param pagesInvalidated device page table entries removed by invalidations
 * @param eventsDropped    events lost because the event ring was full
 * @param deviceReads      pages read through the device page table
 * @param deviceWrites     pages written through the device page table
 * @param migratedToDevice pages this mirror moved to device memory
 * @param migratedToSystem pages this mirror moved back explicitly or by eviction at close
 * @param cpuFaultMigrations pages of this device moved back because the CPU touched them (device-wide)
 * @param exclusiveGrants  pages this mirror took exclusive
 * @param exclusiveRevocations exclusive entries of this mirror revoked by the CPU or another device
 * @param deviceAtomics    atomic operations done through exclusive entries
 * @param devicePrivateReads pages read from device-private memory
 */
public record Counters(long faults, long pagesFaulted, long faultRetries, long invalidations, long pagesInvalidated,
        long eventsDropped, long deviceReads, long deviceWrites, long migratedToDevice, long migratedToSystem,
        long cpuFaultMigrations, long exclusiveGrants, long exclusiveRevocations, long deviceAtomics,
        long devicePrivateReads) {}
