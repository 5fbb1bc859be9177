package dev.hmmmirror.guest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.hmmmirror.Access;
import dev.hmmmirror.Counters;
import dev.hmmmirror.Errno;
import dev.hmmmirror.HmmDevice;
import dev.hmmmirror.HmmException;
import dev.hmmmirror.Memory;
import dev.hmmmirror.Mirror;
import dev.hmmmirror.PageState;
import dev.hmmmirror.Snapshot;
import dev.hmmmirror.guest.mm.Sys;
import dev.hmmmirror.junit.GuestTest;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;
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

    /**
     * A device's own memory mapped into the process the way drivers map device memory: the module's aperture
     * ({@code mmap} of its file: VM_MIXEDMAP, pages inserted by PFN, so the CPU's entries are special PTEs the
     * kernel's walk finds no normal page behind), right after a page of ordinary memory. A snapshot over both,
     * which asks for no fault, reports the ordinary page as it is and the aperture's pages as not accessible; a
     * device fault over the aperture fails with EFAULT. (Campaign mutant 10, the revert of 405506274922, fails
     * the whole walk with EFAULT, which a snapshot can only report as nothing accessible at all, the ordinary
     * page included; nothing mapped special PTEs before.)
     */
    @Test
    void aSnapshotOverADevicesApertureReportsItsPagesAndTheRestAsTheyAre() throws Exception {
        long len = 5L * PAGE;
        long addr = Sys.mmap(0, len, Sys.PROT_READ | Sys.PROT_WRITE, Sys.MAP_PRIVATE | Sys.MAP_ANONYMOUS, -1, 0);
        int fd = Sys.openReadWrite(HmmDevice.of(0).path());
        try {
            long aperture = Sys.mmap(addr + PAGE, len - PAGE, Sys.PROT_READ | Sys.PROT_WRITE,
                    Sys.MAP_SHARED | Sys.MAP_FIXED, fd, 0);
            assertEquals(addr + PAGE, aperture);
            MemorySegment all = MemorySegment.ofAddress(addr).reinterpret(len);
            for (int i = 0; i < 5; i++) {
                all.set(ValueLayout.JAVA_LONG, (long) i * PAGE, 10L + i); // the CPU maps each page
            }
            assertEquals(14L, all.get(ValueLayout.JAVA_LONG, 4L * PAGE));
            Snapshot s = mirror.snapshot(addr, 5);
            assertTrue(s.page(0).contains(PageState.CPU_WRITE), "the ordinary page before the aperture: " + s);
            for (int i = 1; i < 5; i++) {
                assertEquals(Set.of(PageState.INACCESSIBLE), s.page(i),
                        "the aperture's special PTEs are errors to HMM: " + s);
            }
            HmmException e = assertThrows(HmmException.class, () -> mirror.fault(addr + PAGE, 4, Access.READ));
            assertEquals(Errno.EFAULT.number(), e.errno(), "a device fault over special PTEs: " + e.getMessage());
        } finally {
            Sys.munmap(addr, len);
            Sys.close(fd);
        }
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
        try (Memory mem = Memory.anonymous(256); Memory dst = Memory.anonymous(256)) {
            byte[] data = pattern(256, 5);
            mem.write(0, data);
            byte[] untouched = pattern(256, 77);
            dst.write(0, untouched);
            mem.protect(Memory.Protection.NONE);
            HmmException e = assertThrows(HmmException.class, () -> mirror.read(mem.address(), dst));
            assertEquals(Errno.EFAULT.number(), e.errno(), e.getMessage());
            assertTrue(mirror.snapshot(mem).all(PageState.INACCESSIBLE));
            assertArrayEquals(untouched, dst.bytes(), "a refused device read leaves the destination alone");
            mem.protect(Memory.Protection.READ);
            assertArrayEquals(data, mem.bytes(), "the CPU's data is intact");
        }
    }

    /** Upstream anon_read: pte_none, the zero page and data pages, read-only, read by the device at once. */
    @Test
    void readOnlyRangeWithEmptyZeroAndDataPagesReadsInOneCommand() throws Exception {
        int n = 256;
        try (Memory mem = Memory.anonymous(n)) {
            byte[] data = pattern(n, 13);
            java.util.Arrays.fill(data, 0, 2 * PAGE, (byte) 0);
            mem.write(2L * PAGE, java.util.Arrays.copyOfRange(data, 2 * PAGE, data.length)); // pages 0-1 untouched
            mem.protect(Memory.Protection.READ);
            assertEquals(0, mem.getByte(PAGE), "page 1 now maps the shared zero page");
            Counters before = mirror.counters();
            assertArrayEquals(data, mirror.read(mem.address(), n));
            Counters after = mirror.counters();
            assertEquals(n, after.pagesFaulted() - before.pagesFaulted(), "every page faulted once: " + after);
            assertEquals(n, after.deviceReads() - before.deviceReads(), after.toString());
            assertEquals(0, after.faultRetries() - before.faultRetries(), "nothing invalidated the range: " + after);
            Snapshot s = mirror.snapshot(mem);
            assertTrue(s.all(PageState.DEVICE_READ) && s.none(PageState.DEVICE_WRITE) && s.none(PageState.CPU_WRITE),
                    s.toString());
            assertTrue(s.page(0).contains(PageState.ZERO_PAGE) && s.page(1).contains(PageState.ZERO_PAGE), s.toString());
            assertEquals(n - 2, n - s.count(PageState.ZERO_PAGE), "only the untouched pages are the zero page: " + s);
        }
    }

    /** Upstream anon_write_prot: a read-only mapping of zero pages, device write refused, then allowed. */
    @Test
    void deviceWriteAfterMprotectReplacesTheZeroPage() throws Exception {
        int n = 256;
        try (Memory mem = Memory.anonymous(n)) {
            mem.protect(Memory.Protection.READ);
            assertArrayEquals(new byte[PAGE], mirror.read(mem.address(), 1), "the device reads the zero page");
            byte[] data = pattern(n, 21);
            HmmException e = assertThrows(HmmException.class, () -> mirror.write(mem.address(), data));
            assertEquals(Errno.EPERM.number(), e.errno(), e.getMessage());
            assertArrayEquals(new byte[n * PAGE], mem.bytes(), "the refused write changed nothing");
            mem.protect(Memory.Protection.READ_WRITE);
            Counters before = mirror.counters();
            mirror.write(mem.address(), data);
            Counters after = mirror.counters();
            assertArrayEquals(data, mem.bytes(), "the device's write replaced the zero pages");
            assertEquals(n, after.deviceWrites() - before.deviceWrites(), after.toString());
            Snapshot s = mirror.snapshot(mem);
            assertTrue(s.all(PageState.DEVICE_WRITE) && s.all(PageState.CPU_WRITE) && s.none(PageState.ZERO_PAGE),
                    s.toString());
        }
    }

    /**
     * A device write over pages the CPU only read (each maps the shared zero page, read-only) is faulted for
     * writing by {@code hmm_range_fault()} itself, the whole range in one walk: the module retries once after
     * the copy-on-write invalidations, not once per page. The module re-faults a page returned without write
     * permission on its own ({@code fixup_user_fault}, meant for its device-private pages after fork), which
     * would hide a kernel that stopped asking for the write fault (mutant 01-hmm-no-write-fault: every page
     * came back read-only and cost one retry); the retry count shows it.
     */
    @Test
    void writeFaultOfZeroPagesIsTheKernelsInOneWalk() throws Exception {
        int n = 64;
        try (Memory mem = Memory.anonymous(n)) {
            for (int i = 0; i < n; i++) {
                assertEquals(0, mem.getByte((long) i * PAGE), "page " + i + " maps the zero page");
            }
            Counters before = mirror.counters();
            assertEquals(n, mirror.fault(mem, Access.WRITE));
            Counters after = mirror.counters();
            long retries = after.faultRetries() - before.faultRetries();
            assertTrue(retries <= 8, n + " read-only zero pages faulted for a device write took " + retries
                    + " retries: hmm_range_fault() returned them without the write fault it was asked for (the "
                    + "module re-faulted them one by one): " + after);
            assertEquals(n, after.pagesFaulted() - before.pagesFaulted(), after.toString());
            Snapshot s = mirror.snapshot(mem);
            assertTrue(s.all(PageState.DEVICE_WRITE) && s.none(PageState.ZERO_PAGE), s.toString());
        }
    }

    /** Upstream anon_read_multiple: new memory, new data, read by the device, ten times over. */
    @Test
    void repeatedReadsOfFreshMemorySeeEachTimesData() throws Exception {
        for (int round = 0; round < 10; round++) {
            try (Memory mem = Memory.anonymous(256)) {
                byte[] data = Bytes.pattern(256, round);
                mem.write(0, data);
                Counters before = mirror.counters();
                Bytes.assertSame(data, mirror.read(mem.address(), 256), "round " + round);
                assertEquals(256, mirror.counters().pagesFaulted() - before.pagesFaulted(), "round " + round);
            }
        }
    }

    /** Upstream file_read: a read-only shared mapping of a file written with write(2). */
    @Test
    void readOnlySharedFileMappingReadsWhatTheFileHolds() throws Exception {
        Path file = Files.createTempFile(Path.of("/tmp"), "hmm-mirror", ".bin");
        try {
            byte[] data = pattern(256, 50);
            Files.write(file, data);
            try (Memory m = Memory.file(file, 256)) {
                m.protect(Memory.Protection.READ);
                Counters before = mirror.counters();
                assertArrayEquals(data, mirror.read(m.address(), 256));
                assertEquals(256, mirror.counters().pagesFaulted() - before.pagesFaulted());
                Snapshot s = mirror.snapshot(m);
                assertTrue(s.all(PageState.DEVICE_READ) && s.none(PageState.DEVICE_WRITE), s.toString());
            }
        } finally {
            Files.delete(file);
        }
    }

    /** Upstream anon_write_huge: the device writes a THP range the CPU never touched. */
    @Test
    void deviceWriteIntoAnUntouchedThpRange() throws Exception {
        assumeThp();
        try (Memory m = Memory.hugeAnonymous(1)) {
            int n = (int) m.pages();
            Counters before = mirror.counters();
            Bytes.deviceWrite(mirror, m.address(), n, 3); // a slice at a time: a THP is 512 MiB with 64 KiB pages
            Counters after = mirror.counters();
            Bytes.assertCpuReads(Bytes.pattern(3), m, n, "the CPU sees what the device wrote");
            assertEquals(n, after.pagesFaulted() - before.pagesFaulted(), after.toString());
            assertEquals(n, after.deviceWrites() - before.deviceWrites(), after.toString());
            assertTrue(mirror.snapshot(m).all(PageState.DEVICE_WRITE), mirror.snapshot(m).toString());
        }
    }

    /** Upstream anon_write_hugetlbfs: the device writes a hugetlbfs page. */
    @Test
    void deviceWriteIntoAHugetlbPage() throws Exception {
        try (HugetlbPool pool = HugetlbPool.reserve(1); Memory m = Memory.hugetlb(1)) {
            int n = (int) m.pages();
            Counters before = mirror.counters();
            Bytes.deviceWrite(mirror, m.address(), n, 8);
            Bytes.assertCpuReads(Bytes.pattern(8), m, n, "the CPU sees what the device wrote");
            assertEquals(n, mirror.counters().deviceWrites() - before.deviceWrites());
            assertTrue(pool.inUse() >= 1, "the range is backed by a hugetlb page: " + pool);
        }
    }

    /** Upstream compound: a hugetlbfs page snapshots as one huge mapping, writable then read-only. */
    @Test
    void hugetlbPageSnapshotsAsHugeWithItsProtection() throws Exception {
        try (HugetlbPool pool = HugetlbPool.reserve(1); Memory m = Memory.hugetlb(1)) {
            Bytes.write(m, (int) m.pages(), 4);
            Snapshot s = mirror.snapshot(m);
            assertTrue(s.all(PageState.HUGE) && s.all(PageState.CPU_WRITE) && s.none(PageState.DEVICE_READ), s.toString());
            m.protect(Memory.Protection.READ);
            s = mirror.snapshot(m);
            assertTrue(s.all(PageState.HUGE) && s.all(PageState.CPU_READ) && s.none(PageState.CPU_WRITE), s.toString());
        }
    }

    /**
     * Upstream mixedmap snapshots a mapping of test_hmm's own device file (pages inserted by the
     * driver, VM_MIXEDMAP). Our device file has no mmap; the vDSO is such a special mapping of
     * driver-inserted pages with no file behind it, read-only: the snapshot says so, without faulting.
     */
    @Test
    void specialMappingWithoutAFileSnapshotsReadOnly() throws Exception {
        String vdso = Files.readAllLines(Path.of("/proc/self/maps")).stream().filter(l -> l.endsWith("[vdso]"))
                .findFirst().orElse(null);
        assumeTrue(vdso != null, "this kernel maps no vDSO");
        long start = Long.parseUnsignedLong(vdso.substring(0, vdso.indexOf('-')), 16);
        Snapshot s = mirror.snapshot(start, 1);
        assertEquals(java.util.EnumSet.of(PageState.CPU_READ), s.page(0), s.toString());
        assertEquals(0, mirror.counters().pagesFaulted(), "a snapshot faults nothing in");
    }

    static void assumeThp() throws java.io.IOException {
        String thp = Files.readString(Path.of("/sys/kernel/mm/transparent_hugepage/enabled"));
        assumeTrue(!thp.contains("[never]"), "THP is disabled in this kernel: " + thp.strip());
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
            assumeTrue(huge > 0, "the kernel backed the range with base pages (no free " + (Memory.hugePageSize() >> 20)
                    + " MiB page?): "
                    + Files.readAllLines(Path.of("/proc/self/smaps")).stream().filter(l -> l.startsWith("AnonHugePages"))
                            .filter(l -> !l.endsWith(" 0 kB")).toList());
            assertEquals(m.pages(), huge, "every base page of the THP reports HUGE ("
                    + Memory.hugePageSize() / Memory.pageSize() + " pages of " + Memory.pageSize() + " bytes)");
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
