package dev.hmmmirror.guest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.hmmmirror.Capability;
import dev.hmmmirror.Counters;
import dev.hmmmirror.Errno;
import dev.hmmmirror.FaultInjection;
import dev.hmmmirror.HmmException;
import dev.hmmmirror.Memory;
import dev.hmmmirror.Migration;
import dev.hmmmirror.Mirror;
import dev.hmmmirror.PageState;
import dev.hmmmirror.Snapshot;
import dev.hmmmirror.junit.GuestTest;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The error and fallback paths, run on demand through {@link Mirror#injectFaults}: failing
 * device-memory (and system-memory) allocations in migrations, hmm_range_fault() attempts that
 * must be retried, failing and slow device copies.
 */
@GuestTest
class FaultInjectionIT {
    private static final int PAGE = (int) Memory.pageSize();
    private Mirror mirror;

    @BeforeEach
    void open() throws Exception {
        mirror = Mirror.open(0);
    }

    @AfterEach
    void close() throws Exception {
        mirror.close();
    }

    private void assumeMigrate() throws HmmException {
        assumeTrue(mirror.version().has(Capability.MIGRATE), "kernel " + System.getProperty("os.version")
                + " lacks CONFIG_DEVICE_PRIVATE: no device-private memory, migration unavailable");
    }

    private static Memory filled(int pages, int seed) throws HmmException {
        Memory m = Memory.anonymous(pages);
        m.write(0, Bytes.pattern(pages, seed));
        return m;
    }

    @Test
    void aFailedDeviceAllocationLeavesThatPageInSystemMemory() throws Exception {
        assumeMigrate();
        try (Memory mem = filled(64, 1)) {
            assertEquals(FaultInjection.NONE, mirror.injectFaults(FaultInjection.failedAllocations(1)));
            assertEquals(new Migration(63, 1), mirror.migrateToDevice(mem.address(), 64));
            assertEquals(FaultInjection.NONE, mirror.injectFaults(FaultInjection.NONE), "the one failure was consumed");
            Snapshot s = mirror.snapshot(mem);
            assertTrue(!s.page(0).contains(PageState.DEVICE_PRIVATE) && s.count(PageState.DEVICE_PRIVATE) == 63, s.toString());
            Bytes.assertSame(Bytes.pattern(64, 1), mirror.read(mem.address(), 64), "the device reads both kinds");
            Bytes.assertSame(Bytes.pattern(64, 1), mem.bytes(), "the CPU too");
        }
    }

    @Test
    void everyAllocationFailingIsEnomemAndCountsAreReturned() throws Exception {
        assumeMigrate();
        try (Memory mem = filled(4, 2)) {
            mirror.injectFaults(FaultInjection.failedAllocations(1000));
            HmmException e = assertThrows(HmmException.class, () -> mirror.migrateToDevice(mem.address(), 4));
            assertEquals(Errno.ENOMEM.number(), e.errno(), e.getMessage());
            assertEquals(FaultInjection.failedAllocations(996), mirror.injectFaults(FaultInjection.NONE));
            assertTrue(mirror.snapshot(mem).none(PageState.DEVICE_PRIVATE));
        }
    }

    @Test
    void aFailedAllocationOnTheWayBackLeavesThePageInDeviceMemory() throws Exception {
        assumeMigrate();
        try (Memory mem = filled(8, 3)) {
            assertEquals(new Migration(8, 0), mirror.migrateToDevice(mem.address(), 8));
            mirror.injectFaults(FaultInjection.failedAllocations(1));
            assertEquals(new Migration(7, 1), mirror.migrateToSystem(mem.address(), 8));
            Snapshot s = mirror.snapshot(mem);
            assertTrue(s.page(0).contains(PageState.DEVICE_PRIVATE) && s.count(PageState.DEVICE_PRIVATE) == 1, s.toString());
            long before = mirror.counters().cpuFaultMigrations();
            Bytes.assertSame(Bytes.pattern(8, 3), mem.bytes(), "CPU faults are never made to fail");
            assertEquals(1, mirror.counters().cpuFaultMigrations() - before);
        }
    }

    @Test
    void busyFaultAttemptsAreRetried() throws Exception {
        try (Memory mem = filled(1, 4)) {
            Counters before = mirror.counters();
            mirror.injectFaults(FaultInjection.busyFaults(3));
            assertArrayEquals(Bytes.pattern(1, 4), mirror.read(mem.address(), 1));
            Counters after = mirror.counters();
            assertEquals(3, after.faultRetries() - before.faultRetries(), after.toString());
            assertEquals(1, after.pagesFaulted() - before.pagesFaulted(), after.toString());
            assertEquals(FaultInjection.NONE, mirror.injectFaults(FaultInjection.NONE));
        }
    }

    @Test
    void endlesslyBusyFaultsFailWithEbusyAfterTheDeadline() throws Exception {
        try (Memory mem = filled(1, 5)) {
            mirror.injectFaults(FaultInjection.busyFaults(Integer.MAX_VALUE));
            long t0 = System.nanoTime();
            HmmException e = assertThrows(HmmException.class, () -> mirror.fault(mem, dev.hmmmirror.Access.READ));
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertEquals(Errno.EBUSY.number(), e.errno(), e.getMessage());
            // a lower bound only, with slack: the guest's clock under TCG and the kernel's timer can
            // disagree by a few percent (seen: 98 ms measured for 5 x 20 ms of delay)
            assertTrue(ms >= 900, "the retry deadline is 1 s (HMM_RANGE_DEFAULT_TIMEOUT); gave up after " + ms + " ms");
            FaultInjection left = mirror.injectFaults(FaultInjection.NONE);
            assertTrue(left.busyFaults() < Integer.MAX_VALUE && left.busyFaults() > 0, left.toString());
            assertArrayEquals(Bytes.pattern(1, 5), mirror.read(mem.address(), 1), "works again once injection is off");
        }
    }

    @Test
    void aFailedCopyFailsTheDeviceReadWithEio() throws Exception {
        try (Memory mem = filled(2, 6)) {
            mirror.injectFaults(FaultInjection.failedCopies(1));
            HmmException e = assertThrows(HmmException.class, () -> mirror.read(mem.address(), 2));
            assertEquals(Errno.EIO.number(), e.errno(), e.getMessage());
            e = assertThrows(HmmException.class, () -> {
                mirror.injectFaults(FaultInjection.failedCopies(1));
                mirror.write(mem.address(), new byte[2 * PAGE]);
            });
            assertEquals(Errno.EIO.number(), e.errno(), e.getMessage());
            Bytes.assertSame(Bytes.pattern(2, 6), mem.bytes(), "the failed write wrote nothing");
            Bytes.assertSame(Bytes.pattern(2, 6), mirror.read(mem.address(), 2), "the next copies work");
        }
    }

    @Test
    void failedCopiesInAMigrationLeaveThosePages() throws Exception {
        assumeMigrate();
        try (Memory mem = filled(16, 7)) {
            mirror.injectFaults(FaultInjection.failedCopies(2));
            assertEquals(new Migration(14, 2), mirror.migrateToDevice(mem.address(), 16));
            assertEquals(14, mirror.snapshot(mem).count(PageState.DEVICE_PRIVATE));
            Bytes.assertSame(Bytes.pattern(16, 7), mirror.read(mem.address(), 16), "no data lost");
        }
    }

    @Test
    void aCopyDelaySlowsEveryDeviceCopy() throws Exception {
        try (Memory mem = filled(5, 8)) {
            mirror.fault(mem, dev.hmmmirror.Access.READ);
            mirror.injectFaults(FaultInjection.copyDelay(Duration.ofMillis(20)));
            long t0 = System.nanoTime();
            mirror.read(mem.address(), 5);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            // without the delay the 5 copies take well under 5 ms; with it about 100 (lower bound with slack
            // for the TCG guest's clock, which once measured 98 ms)
            assertTrue(ms >= 80, "5 copies of at least 20 ms each took " + ms + " ms");
            assertEquals(FaultInjection.copyDelay(Duration.ofMillis(20)), mirror.injectFaults(FaultInjection.NONE),
                    "the delay stays until changed");
        }
    }

    @Test
    void aCopyDelayAboveTheLimitIsEinval() {
        HmmException e = assertThrows(HmmException.class,
                () -> mirror.injectFaults(FaultInjection.copyDelay(Duration.ofMillis(101))));
        assertEquals(Errno.EINVAL.number(), e.errno(), e.getMessage());
        assertTrue(e.getMessage().contains("copy delay"), e.getMessage());
    }

    /**
     * Upstream migrate_anon_huge_err: a THP range migrates although a device allocation fails
     * (test_hmm: its huge allocation fails and it falls back to base pages; our module migrates
     * base pages, so the one page whose allocation failed stays), and migrating back copes with a
     * failing system allocation.
     */
    @Test
    void thpMigrationWithFailingDeviceAllocationFallsBack() throws Exception {
        assumeMigrate();
        MirrorAccessIT.assumeThp();
        int huge = (int) (Memory.hugePageSize() / PAGE);
        // whole THPs: the failed large allocation makes the THP move as base pages (test_hmm's
        // FAIL_ALLOC); split THPs: the failed base page stays
        boolean whole = mirror.version().has(Capability.THP_MIGRATE);
        Migration expected = whole ? new Migration(huge, 0) : new Migration(huge - 1, 1);
        try (Memory m = Memory.hugeAnonymous(1)) {
            Bytes.write(m, huge, 9); // a slice at a time: a THP is 512 MiB with 64 KiB pages
            mirror.injectFaults(FaultInjection.failedAllocations(1));
            assertEquals(expected, mirror.migrateToDevice(m.address(), huge));
            assertEquals(0, mirror.snapshot(m).count(PageState.HUGE), "moved as base pages: " + mirror.snapshot(m));
            Bytes.assertDeviceReads(Bytes.pattern(9), mirror, m.address(), huge, "what the device reads");
            assertEquals(Bytes.pattern(2, 1, 9)[5], m.getByte(2L * PAGE + 5), "a single page faults back");
            assertEquals(whole ? huge - 1 : huge - 2, mirror.snapshot(m).count(PageState.DEVICE_PRIVATE),
                    "the other pages stay in device memory: " + mirror.snapshot(m));
        }
        try (Memory m = Memory.hugeAnonymous(1)) {
            Bytes.write(m, huge, 10);
            assertEquals(new Migration(huge, 0), mirror.migrateToDevice(m.address(), huge));
            mirror.injectFaults(FaultInjection.failedAllocations(1));
            assertEquals(expected, mirror.migrateToSystem(m.address(), huge));
            if (whole) {
                Snapshot s = mirror.snapshot(m);
                assertTrue(s.none(PageState.DEVICE_PRIVATE) && s.none(PageState.HUGE),
                        "no system THP: the large device folio came back as base pages: " + s);
            }
            Bytes.assertCpuReads(Bytes.pattern(10), m, huge, "the CPU sees all of it");
        }
    }

    /** Upstream migrate_anon_huge_zero_err: the same for an empty range and for the huge zero page. */
    @Test
    void hugeZeroPageMigrationWithFailingDeviceAllocationFallsBack() throws Exception {
        assumeMigrate();
        MirrorAccessIT.assumeThp();
        int huge = (int) (Memory.hugePageSize() / PAGE);
        for (boolean touched : new boolean[] {false, true}) {
            try (Memory m = Memory.hugeAnonymous(1)) {
                m.protect(Memory.Protection.READ);
                if (touched) {
                    assertEquals(0, m.getLong(0), "maps the huge zero page");
                }
                mirror.injectFaults(FaultInjection.failedAllocations(1));
                assertEquals(mirror.version().has(Capability.THP_MIGRATE) ? new Migration(huge, 0) : new Migration(huge - 1, 1),
                        mirror.migrateToDevice(m.address(), huge), touched ? "huge zero page" : "empty range");
                Bytes.assertDeviceReads(Bytes.zeros(), mirror, m.address(), huge, "the device reads zeros");
                Bytes.assertCpuReads(Bytes.zeros(), m, huge, "the CPU reads zeros");
            }
        }
    }
}
