package dev.hmmmirror.guest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.hmmmirror.Access;
import dev.hmmmirror.Counters;
import dev.hmmmirror.Errno;
import dev.hmmmirror.HmmException;
import dev.hmmmirror.Memory;
import dev.hmmmirror.Mirror;
import dev.hmmmirror.PageState;
import dev.hmmmirror.Snapshot;
import dev.hmmmirror.junit.GuestTest;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** What the device sees through its own page table: reads, writes, permissions, kinds of memory. */
@GuestTest
class MirrorAccessIT {
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

    private static byte[] pattern(int pages, int seed) {
        byte[] b = new byte[pages * PAGE];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) (i * 31 + seed + i / PAGE);
        }
        return b;
    }

    @Test
    void deviceReadOfAnonymousMemoryMatchesTheCpu() throws Exception {
        try (Memory mem = Memory.anonymous(16)) {
            byte[] data = pattern(16, 7);
            mem.write(0, data);
            assertArrayEquals(data, mirror.read(mem.address(), 16));
            Snapshot s = mirror.snapshot(mem);
            assertTrue(s.all(PageState.DEVICE_READ), s.toString());
            assertTrue(s.all(PageState.CPU_READ), s.toString());
        }
    }

    @Test
    void deviceWriteIsVisibleToTheCpu() throws Exception {
        try (Memory mem = Memory.anonymous(8)) {
            byte[] data = pattern(8, 99);
            mirror.write(mem.address(), data);
            assertArrayEquals(data, mem.bytes());
            assertTrue(mirror.snapshot(mem).all(PageState.DEVICE_WRITE));
        }
    }

    @Test
    void untouchedAnonymousMemoryReadsAsTheZeroPage() throws Exception {
        try (Memory mem = Memory.anonymous(4)) {
            assertArrayEquals(new byte[4 * PAGE], mirror.read(mem.address(), 4));
            Snapshot s = mirror.snapshot(mem);
            assertTrue(s.all(PageState.ZERO_PAGE) && s.none(PageState.CPU_WRITE), s.toString());
        }
    }

    @Test
    void readOnlyMappingRefusesDeviceWriteWithEperm() throws Exception {
        try (Memory mem = Memory.anonymous(2)) {
            mem.fill((byte) 1);
            mem.protect(Memory.Protection.READ);
            HmmException e = assertThrows(HmmException.class, () -> mirror.write(mem.address(), new byte[2 * PAGE]));
            assertEquals(Errno.EPERM.number(), e.errno(), e.getMessage());
            e = assertThrows(HmmException.class, () -> mirror.fault(mem, Access.WRITE));
            assertEquals(Errno.EPERM.number(), e.errno(), e.getMessage());
            // reading is still allowed, and the device mapping is read-only
            assertEquals(2, mirror.fault(mem, Access.READ));
            Snapshot s = mirror.snapshot(mem);
            assertTrue(s.all(PageState.DEVICE_READ) && s.none(PageState.DEVICE_WRITE), s.toString());
            assertEquals(1, mem.getByte(PAGE), "CPU contents unchanged");
        }
    }

    @Test
    void protectionlessRangeRefusesDeviceReadWithEfault() throws Exception {
        try (Memory mem = Memory.anonymous(2)) {
            mem.protect(Memory.Protection.NONE);
            HmmException e = assertThrows(HmmException.class, () -> mirror.read(mem.address(), 2));
            assertEquals(Errno.EFAULT.number(), e.errno(), e.getMessage());
            assertTrue(mirror.snapshot(mem).all(PageState.INACCESSIBLE));
        }
    }

    @Test
    void unmappedRangeRefusesFaultWithEfault() throws Exception {
        Memory mem = Memory.anonymous(2);
        long addr = mem.address();
        mem.close();
        HmmException e = assertThrows(HmmException.class, () -> mirror.fault(addr, 2, Access.READ));
        assertEquals(Errno.EFAULT.number(), e.errno());
    }

    @Test
    void sharedMemoryReadAndWrite() throws Exception {
        try (Memory shm = Memory.sharedAnonymous(4); Memory memfd = Memory.memfd(4)) {
            for (Memory m : new Memory[] {shm, memfd}) {
                byte[] a = pattern(4, 3);
                m.write(0, a);
                assertArrayEquals(a, mirror.read(m.address(), 4), m.toString());
                byte[] b = pattern(4, 11);
                mirror.write(m.address(), b);
                assertArrayEquals(b, m.bytes(), m.toString());
            }
        }
    }

    @Test
    void tmpfsFileReadAndWriteReachTheFile() throws Exception {
        Path file = Files.createTempFile(Path.of("/tmp"), "hmm-mirror", ".bin"); // /tmp is tmpfs in the guest
        try (Memory m = Memory.file(file, 3)) {
            byte[] b = pattern(3, 42);
            mirror.write(m.address(), b);
            assertArrayEquals(b, mirror.read(m.address(), 3));
        } finally {
            byte[] onDisk = Files.readAllBytes(file);
            Files.delete(file);
            assertArrayEquals(pattern(3, 42), onDisk, "device writes must land in the file");
        }
    }

    @Test
    void transparentHugePageSnapshotsAsHuge() throws Exception {
        String thp = Files.readString(Path.of("/sys/kernel/mm/transparent_hugepage/enabled"));
        assumeTrue(!thp.contains("[never]"), "THP is disabled in this kernel: " + thp.strip());
        try (Memory m = Memory.hugeAnonymous(1)) {
            m.fill((byte) 9); // first touch allocates the huge page
            mirror.fault(m, Access.WRITE);
            Snapshot s = mirror.snapshot(m);
            long huge = s.count(PageState.HUGE);
            assumeTrue(huge > 0, "the kernel backed the range with base pages (no free 2 MiB page?): "
                    + Files.readAllLines(Path.of("/proc/self/smaps")).stream().filter(l -> l.startsWith("AnonHugePages"))
                            .filter(l -> !l.endsWith(" 0 kB")).toList());
            assertEquals(512, huge, "every base page of the THP reports HUGE");
            assertTrue(s.all(PageState.DEVICE_WRITE));
            byte[] seen = mirror.read(m.address(), 512);
            byte[] expected = new byte[seen.length];
            Arrays.fill(expected, (byte) 9);
            assertArrayEquals(expected, seen);
        }
    }

    @Test
    void countersCountFaultsReadsWritesAndInvalidations() throws Exception {
        Counters before = mirror.counters();
        try (Memory mem = Memory.anonymous(8)) {
            mem.fill((byte) 1);
            assertEquals(8, mirror.fault(mem, Access.WRITE));
            mirror.read(mem.address(), 8);
            mirror.write(mem.address(), new byte[2 * PAGE]);
            mem.adviseDontNeed(0, 8);
        }
        Counters after = mirror.counters();
        assertTrue(after.faults() > before.faults(), after.toString());
        assertEquals(8, after.pagesFaulted() - before.pagesFaulted(), after.toString());
        assertEquals(8, after.deviceReads() - before.deviceReads());
        assertEquals(2, after.deviceWrites() - before.deviceWrites());
        assertTrue(after.invalidations() > before.invalidations());
        assertEquals(8, after.pagesInvalidated() - before.pagesInvalidated(), after.toString());
    }
}
