package dev.hmmmirror.guest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.hmmmirror.Access;
import dev.hmmmirror.Capability;
import dev.hmmmirror.CopyOnWriteChild;
import dev.hmmmirror.Counters;
import dev.hmmmirror.Memory;
import dev.hmmmirror.Mirror;
import dev.hmmmirror.PageState;
import dev.hmmmirror.Snapshot;
import dev.hmmmirror.junit.GuestTest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Device access to memory a forked child shares: a device write to private memory breaks
 * copy-on-write (the child keeps its data), to shared memory it does not; pages in device memory
 * are copied on write as well. The child's view is read through {@code /proc/<pid>/mem}.
 */
@GuestTest
class CopyOnWriteIT {
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

    private void deviceWriteBreaksCopyOnWrite(boolean thp, boolean migrate) throws Exception {
        try (Memory mem = thp ? Memory.hugeAnonymous(1) : Memory.anonymous(256)) {
            int n = (int) mem.pages();
            byte[] before = Bytes.pattern(n, 1);
            mem.write(0, before);
            if (migrate) {
                assertEquals(n, mirror.migrateToDevice(mem.address(), n).migrated(), "every page moved");
            }
            try (CopyOnWriteChild child = CopyOnWriteChild.fork()) {
                byte[] after = Bytes.pattern(n, 2);
                Counters c0 = mirror.counters();
                mirror.write(mem.address(), after);
                assertEquals(n, mirror.counters().deviceWrites() - c0.deviceWrites());
                assertArrayEquals(after, mem.bytes(), "the parent sees the device's write");
                assertArrayEquals(before, child.bytes(mem.address(), n * PAGE), "the child keeps its copy");
                // the parent's pages are its own writable copies in system memory now (khugepaged may
                // have collapsed them since, which invalidates the device's entries: not checked)
                Snapshot s = mirror.snapshot(mem);
                assertTrue(s.all(PageState.CPU_WRITE) && s.none(PageState.DEVICE_PRIVATE), s.toString());
            }
        }
    }

    /** Upstream anon_write_child (base pages, in system memory). */
    @Test
    void deviceWriteBreaksCopyOnWriteWithAForkedChild() throws Exception {
        deviceWriteBreaksCopyOnWrite(false, false);
    }

    /** Upstream anon_write_child (THP, in system memory). */
    @Test
    void deviceWriteBreaksCopyOnWriteOfATransparentHugePage() throws Exception {
        MirrorAccessIT.assumeThp();
        deviceWriteBreaksCopyOnWrite(true, false);
    }

    /** Upstream anon_write_child (base pages and THP, migrated to device memory before the fork). */
    @Test
    void deviceWriteBreaksCopyOnWriteOfPagesInDeviceMemory() throws Exception {
        assumeTrue(mirror.version().has(Capability.MIGRATE), "kernel " + System.getProperty("os.version")
                + " lacks CONFIG_DEVICE_PRIVATE: no device-private memory");
        deviceWriteBreaksCopyOnWrite(false, true);
        MirrorAccessIT.assumeThp();
        deviceWriteBreaksCopyOnWrite(true, true);
    }

    /** Upstream anon_write_child_shared: shared memory is not copied; the child sees the device's write. */
    @Test
    void deviceWriteToSharedMemoryIsSeenByTheChild() throws Exception {
        try (Memory mem = Memory.sharedAnonymous(256)) {
            mem.write(0, Bytes.pattern(256, 3));
            try (CopyOnWriteChild child = CopyOnWriteChild.fork()) {
                assertArrayEquals(Bytes.pattern(256, 3), child.bytes(mem.address(), 256 * PAGE), "the child sees the parent's data");
                byte[] after = Bytes.pattern(256, 4);
                mirror.write(mem.address(), after);
                assertArrayEquals(after, mem.bytes());
                assertArrayEquals(after, child.bytes(mem.address(), 256 * PAGE), "one shared copy: the child sees it too");
            }
        }
    }

    /**
     * Upstream hmm_cow_in_device: pages in device memory shared with a child; a CPU write in the
     * parent brings them back and copies them, the child keeps the old data.
     */
    @Test
    void cpuWriteToSharedDevicePagesCopiesThemToSystemMemory() throws Exception {
        assumeTrue(mirror.version().has(Capability.MIGRATE), "kernel " + System.getProperty("os.version")
                + " lacks CONFIG_DEVICE_PRIVATE: no device-private memory");
        try (Memory mem = Memory.anonymous(4)) {
            byte[] before = Bytes.pattern(4, 5);
            mem.write(0, before);
            assertEquals(4, mirror.migrateToDevice(mem.address(), 4).migrated());
            try (CopyOnWriteChild child = CopyOnWriteChild.fork()) {
                byte[] after = Bytes.pattern(4, 6);
                mem.write(0, after);
                Snapshot s = mirror.snapshot(mem);
                for (int i = 0; i < 4; i++) {
                    assertEquals(java.util.EnumSet.of(PageState.CPU_READ, PageState.CPU_WRITE), s.page(i),
                            "page " + i + " is a private writable system page again: " + s);
                }
                assertArrayEquals(after, mem.bytes());
                assertArrayEquals(before, child.bytes(mem.address(), 4 * PAGE), "the child keeps the old data");
            }
        }
    }

    /**
     * {@link Counters#faults()} counts the {@code hmm_range_fault()} calls that succeeded, one per 64
     * pages asked for, and a success that had to be retried as well: a write fault of a page in
     * device memory that fork() made copy-on-write gets the page back read-only (a success), breaks
     * the copy-on-write and succeeds again; the module counted committed chunks (one) before.
     */
    @Test
    void faultsCountEveryHmmRangeFaultCallThatSucceededARetriedOneToo() throws Exception {
        try (Memory mem = Memory.anonymous(130)) {
            mem.fill((byte) 1);
            Counters c0 = mirror.counters();
            assertEquals(130, mirror.fault(mem, Access.READ));
            Counters c1 = mirror.counters();
            long calls = c1.faults() - c0.faults();
            long retries = c1.faultRetries() - c0.faultRetries();
            assertTrue(calls >= 3 && calls <= 3 + retries, "130 pages: 64 + 64 + 2, and a retried success each: "
                    + calls + " calls, " + retries + " retries");
            assertEquals(130, c1.pagesFaulted() - c0.pagesFaulted(), c1.toString());
        }
        assumeTrue(mirror.version().has(Capability.MIGRATE), "kernel " + System.getProperty("os.version")
                + " lacks CONFIG_DEVICE_PRIVATE: no device-private memory to break copy-on-write of");
        try (Memory mem = Memory.anonymous(1)) {
            mem.write(0, Bytes.pattern(1, 7));
            assertEquals(1, mirror.migrateToDevice(mem.address(), 1).migrated());
            try (CopyOnWriteChild child = CopyOnWriteChild.fork()) {
                Counters c0 = mirror.counters();
                assertEquals(1, mirror.fault(mem, Access.WRITE));
                Counters c1 = mirror.counters();
                assertTrue(c1.faultRetries() - c0.faultRetries() >= 1, "breaking copy-on-write retries: " + c1);
                assertTrue(c1.faults() - c0.faults() >= 2, "the read-only success and the one after the break: "
                        + (c1.faults() - c0.faults()) + " counted (" + c1 + ")");
                assertEquals(1, c1.pagesFaulted() - c0.pagesFaulted(), "one page committed, once");
                assertArrayEquals(Bytes.pattern(1, 7), child.bytes(mem.address(), PAGE), "the child keeps its copy");
            }
        }
    }
}
