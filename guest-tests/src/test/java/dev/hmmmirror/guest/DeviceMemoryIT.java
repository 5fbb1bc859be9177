package dev.hmmmirror.guest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.hmmmirror.Access;
import dev.hmmmirror.Capability;
import dev.hmmmirror.CopyOnWriteChild;
import dev.hmmmirror.Counters;
import dev.hmmmirror.Errno;
import dev.hmmmirror.HmmException;
import dev.hmmmirror.Memory;
import dev.hmmmirror.Migration;
import dev.hmmmirror.Mirror;
import dev.hmmmirror.PageState;
import dev.hmmmirror.Snapshot;
import dev.hmmmirror.junit.GuestTest;
import dev.hmmmirror.raw.RawPipe;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Migration to device-private memory and back (needs CONFIG_DEVICE_PRIVATE: the sid kernel). */
@GuestTest
class DeviceMemoryIT {
    private static final int PAGE = (int) Memory.pageSize();
    private Mirror mirror;

    @BeforeEach
    void open() throws Exception {
        mirror = Mirror.open(0);
        assumeTrue(mirror.version().has(Capability.MIGRATE), "kernel " + System.getProperty("os.version")
                + " lacks CONFIG_DEVICE_PRIVATE: no device-private memory, migration unavailable");
    }

    @AfterEach
    void close() throws Exception {
        mirror.close();
    }

    static byte[] pattern(int pages, int seed) {
        byte[] b = new byte[pages * PAGE];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) (i * 7 + seed + i / PAGE);
        }
        return b;
    }

    private static Memory filled(int pages, int seed) throws HmmException {
        Memory m = Memory.anonymous(pages);
        m.write(0, pattern(pages, seed));
        return m;
    }

    @Test
    void migrateThenCpuReadSeesTheDataAndThePageIsBackInSystemMemory() throws Exception {
        try (Memory mem = filled(8, 1)) {
            Migration m = mirror.migrateToDevice(mem.address(), 8);
            assertEquals(8, m.migrated(), m.toString());
            assertTrue(mirror.snapshot(mem).all(PageState.DEVICE_PRIVATE), mirror.snapshot(mem).toString());
            long before = mirror.counters().cpuFaultMigrations();
            assertArrayEquals(pattern(8, 1), mem.bytes(), "CPU reads the data back");
            Snapshot s = mirror.snapshot(mem);
            assertTrue(s.none(PageState.DEVICE_PRIVATE) && s.all(PageState.CPU_READ), s.toString());
            assertEquals(8, mirror.counters().cpuFaultMigrations() - before, "each page came back by a CPU fault");
        }
    }

    @Test
    void migrateThenDeviceReadHitsDeviceMemoryWithoutACpuFault() throws Exception {
        try (Memory mem = filled(4, 2)) {
            mirror.migrateToDevice(mem.address(), 4);
            Counters before = mirror.counters();
            assertArrayEquals(pattern(4, 2), mirror.read(mem.address(), 4));
            Counters after = mirror.counters();
            assertEquals(4, after.devicePrivateReads() - before.devicePrivateReads(), after.toString());
            assertEquals(before.cpuFaultMigrations(), after.cpuFaultMigrations(), "no page went back to the CPU");
            assertEquals(before.pagesFaulted(), after.pagesFaulted(), "the device page table already mapped them");
            assertTrue(mirror.snapshot(mem).all(PageState.DEVICE_PRIVATE));
        }
    }

    @Test
    void deviceWriteToDeviceMemoryIsSeenByTheCpu() throws Exception {
        try (Memory mem = filled(2, 3)) {
            mirror.migrateToDevice(mem.address(), 2);
            byte[] data = pattern(2, 77);
            mirror.write(mem.address(), data);
            assertArrayEquals(data, mem.bytes());
        }
    }

    @Test
    void explicitMigrationBackToSystemMemory() throws Exception {
        try (Memory mem = filled(6, 4)) {
            assertEquals(6, mirror.migrateToDevice(mem.address(), 6).migrated());
            Migration back = mirror.migrateToSystem(mem.address(), 6);
            assertEquals(6, back.migrated(), back.toString());
            assertTrue(mirror.snapshot(mem).none(PageState.DEVICE_PRIVATE));
            assertArrayEquals(pattern(6, 4), mirror.read(mem.address(), 6));
            assertArrayEquals(pattern(6, 4), mem.bytes());
        }
    }

    @Test
    void migrateForkAndBothProcessesSeeCopyOnWriteData() throws Exception {
        try (Memory mem = filled(2, 5)) {
            mirror.migrateToDevice(mem.address(), 2);
            try (CopyOnWriteChild child = CopyOnWriteChild.fork()) {
                // the parent's CPU write makes its own copy; the child keeps the original
                mem.setByte(0, (byte) 0x7f);
                assertEquals(0x7f, mem.getByte(0));
                byte[] seen = mirror.read(mem.address(), 2);
                assertEquals(0x7f, seen[0], "the device sees the parent's new data");
                byte[] expected = pattern(2, 5);
                expected[0] = 0x7f;
                assertArrayEquals(expected, seen);
                String childMem = Files.readString(Path.of("/proc/" + child.pid() + "/status"));
                assertTrue(childMem.contains("State:"), "child alive while the parent wrote");
            }
        }
    }

    @Test
    void migrateARangeWithHolesAndZeroPages() throws Exception {
        try (Memory mem = Memory.anonymous(8)) {
            mem.setLong(0, 42L);          // page 0 written
            mem.getLong(2L * PAGE);       // page 2 read: the zero page
            mem.unmap(5, 1);                                          // page 5: a hole between mappings
            Migration m = mirror.migrateToDevice(mem.address(), 8);
            assertEquals(7, m.migrated(), "untouched and zero pages move as zero pages: " + m);
            assertEquals(1, m.skipped(), "the hole is skipped: " + m);
            byte[] seen = mirror.read(mem.address(), 5);
            assertEquals(42L, MemorySegment.ofArray(seen).get(ValueLayout.JAVA_LONG_UNALIGNED, 0));
            assertEquals(0L, MemorySegment.ofArray(seen).get(ValueLayout.JAVA_LONG_UNALIGNED, 2L * PAGE));
            assertEquals(42L, mem.getLong(0));
        }
    }

    @Test
    void fileBackedAndSharedRangesAreRefusedWithEinval() throws Exception {
        Path file = Files.createTempFile(Path.of("/tmp"), "hmm", ".bin");
        try (Memory shm = Memory.sharedAnonymous(2); Memory f = Memory.file(file, 2)) {
            for (Memory m : new Memory[] {shm, f}) {
                m.fill((byte) 1);
                HmmException e = assertThrows(HmmException.class, () -> mirror.migrateToDevice(m.address(), 2));
                assertEquals(Errno.EINVAL.number(), e.errno(), m + ": " + e.getMessage());
            }
        } finally {
            Files.deleteIfExists(file);
        }
    }

    @Test
    void twoDevicesMigrateToDeviceZeroAndDeviceOneReadsItRemotely() throws Exception {
        try (Mirror other = Mirror.open(1); Memory mem = filled(3, 6)) {
            assertEquals(3, mirror.migrateToDevice(mem.address(), 3).migrated());
            assertTrue(other.snapshot(mem).all(PageState.DEVICE_PRIVATE_REMOTE), other.snapshot(mem).toString());
            assertTrue(mirror.snapshot(mem).all(PageState.DEVICE_PRIVATE));
            assertArrayEquals(pattern(3, 6), other.read(mem.address(), 3), "device 1 reads device 0's memory");
            assertEquals(3, other.counters().devicePrivateReads());
            assertEquals(0, other.migrateToSystem(mem.address(), 3).migrated(), "device 1 cannot move device 0's pages");
        }
    }

    @Test
    void closingTheMirrorBringsAllDataBack() throws Exception {
        Mirror temp = Mirror.open(1);
        try (Memory mem = filled(16, 8)) {
            assertEquals(16, temp.migrateToDevice(mem.address(), 16).migrated());
            temp.close(); // eviction: everything moves back before the mirror goes
            Snapshot s = mirror.snapshot(mem);
            assertTrue(s.none(PageState.DEVICE_PRIVATE_REMOTE) && s.all(PageState.CPU_WRITE), s.toString());
            long cpuFaults = mirror.counters().cpuFaultMigrations();
            assertArrayEquals(pattern(16, 8), mem.bytes());
            assertEquals(cpuFaults, mirror.counters().cpuFaultMigrations(), "no CPU fault was needed");
        }
    }

    @Test
    void getUserPagesOnMigratedPagesForcesMigrationBack() throws Exception {
        try (Memory mem = filled(4, 9)) {
            assertEquals(4, mirror.migrateToDevice(mem.address(), 4).migrated());
            try (RawPipe pipe = RawPipe.open()) {
                // vmsplice pins the user pages (get_user_pages): device pages must come back first
                assertEquals(4L * PAGE, pipe.vmsplice(mem.address(), 4L * PAGE), "vmsplice");
                assertTrue(mirror.snapshot(mem).none(PageState.DEVICE_PRIVATE), mirror.snapshot(mem).toString());
                assertArrayEquals(pattern(4, 9), pipe.read(4 * PAGE), "the pipe has the data");
            }
        }
    }
}
