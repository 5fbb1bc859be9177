package dev.hmmmirror.guest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.hmmmirror.Access;
import dev.hmmmirror.Capability;
import dev.hmmmirror.CopyOnWriteChild;
import dev.hmmmirror.Counters;
import dev.hmmmirror.Errno;
import dev.hmmmirror.FaultInjection;
import dev.hmmmirror.HmmException;
import dev.hmmmirror.Memory;
import dev.hmmmirror.Migration;
import dev.hmmmirror.Mirror;
import dev.hmmmirror.PageState;
import dev.hmmmirror.Snapshot;
import dev.hmmmirror.guest.mm.Machinery;
import dev.hmmmirror.guest.mm.PageMap;
import dev.hmmmirror.guest.mm.Sys;
import dev.hmmmirror.junit.GuestTest;
import dev.hmmmirror.raw.RawPipe;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
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
            Snapshot home = mirror.snapshot(mem);
            assertTrue(home.none(PageState.DEVICE_PRIVATE), home.toString());
            // writable device-private entries are collected with MIGRATE_PFN_WRITE (campaign mutant 32 drops it)
            assertTrue(home.all(PageState.CPU_WRITE), "writable pages come back from device memory writable: " + home);
            assertArrayEquals(pattern(6, 4), mirror.read(mem.address(), 6));
            assertArrayEquals(pattern(6, 4), mem.bytes());
        }
    }

    /**
     * Untouched (empty) memory that device 0 migrates, with {@code meanwhile} run after
     * {@code migrate_vma_setup()} collected the empty entries and before {@code migrate_vma_pages()} fills
     * them: a slow device copy (100 ms a page, the most fault injection allows) holds that window open for
     * 0.1 s a page. The module takes each device page after that page's slow copy, so the window is read
     * from the device's memory in use: {@code meanwhile} starts once it holds one page more than before
     * (setup is over), and the window was still open when {@code meanwhile} returned if it then held fewer
     * than all the range's pages (the fill comes after the last). A window that closed first (a slow host)
     * skips the test saying so, not judged on a fill that came first. The migration holds the process's mmap
     * lock for reading through its copies, so nothing the test's thread does in the window may map memory:
     * a first call of anything (here {@code Thread.sleep}, a string concatenation's bootstrap, a first
     * {@code Memory.setLong}) loads and links classes, the JVM maps memory for them, and that mmap waits
     * until the migration ends. Hence every call of the poll and of {@code meanwhile} runs once before the
     * window, and the poll's failure message is built only on failure: with the poll's first
     * {@code Thread.sleep} in the window, the window was lost in 8 of 13 runs under TCG (that sleep took
     * 1.7 s, the whole migration), without it in none of 12. (The range's
     * {@code MMU_NOTIFY_MIGRATE} invalidations do not tell: setup alone sends two on 7.2, and the collect's
     * comes before its walk, so a CPU write right after it may still be collected as a populated page.)
     */
    private Migration migrateEmptyWhile(Memory mem, Callable<?> meanwhile) throws Exception {
        long usedBefore = dmemUsedPages();
        Thread.sleep(1); // the poll's calls once before the window: see above
        mirror.injectFaults(FaultInjection.copyDelay(Duration.ofMillis(100)));
        long started = System.nanoTime();
        try {
            CompletableFuture<Migration> migration = CompletableFuture.supplyAsync(() -> {
                try {
                    return mirror.migrateToDevice(mem.address(), mem.pages());
                } catch (HmmException e) {
                    throw new IllegalStateException(e);
                }
            });
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (dmemUsedPages() == usedBefore) { // the first page's copy is done: setup is over
                if (System.nanoTime() > deadline) { // the message built only then: see above
                    fail("the migration took no device page in 60 s ("
                            + (migration.isDone() ? migration.join() : "still running") + ")");
                }
                Thread.sleep(10);
            }
            long began = System.nanoTime();
            meanwhile.call();
            long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - began);
            long taken = dmemUsedPages() - usedBefore;
            long startedMs = TimeUnit.NANOSECONDS.toMillis(began - started);
            Migration done = migration.get(120, TimeUnit.SECONDS);
            long migrationMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
            assumeTrue(taken < mem.pages(), "the migration had taken all " + taken + " device pages (the fill comes"
                    + " next) before the work meant for the window between collect and fill was done (" + tookMs
                    + " ms, the window " + mem.pages() * 100 + " ms): this host is too slow for the window to mean"
                    + " anything (" + done + "; the window's work began " + startedMs + " ms after the migration, which"
                    + " took " + migrationMs + " ms)");
            return done;
        } finally {
            mirror.injectFaults(FaultInjection.NONE);
        }
    }

    /** Pages of device 0's memory in use ({@code /sys/class/misc/hmm_mirror0/dmem_used_pages}). */
    private static long dmemUsedPages() {
        return Machinery.readLong(Machinery.MIRROR0.resolve("dmem_used_pages"));
    }

    /**
     * Device 1 maps the zero page for empty memory while device 0 migrates it (between collect and fill);
     * filling the empty entries must invalidate every page device 1 mapped meanwhile, so that device 1 then
     * reads what device 0 wrote into its memory, not zeros. (Campaign mutant 34, that invalidation one page
     * long, survived every detector.)
     */
    @Test
    void zeroPagesMappedDuringAMigrationOfEmptyMemoryAreInvalidatedWhenFilled() throws Exception {
        try (Mirror dev1 = Mirror.open(1); Memory mem = Memory.anonymous(16); Memory warm = Memory.anonymous(1)) {
            dev1.fault(warm, Access.READ); // the first call links its downcall: slow under TCG, longer than the window
            Migration m = migrateEmptyWhile(mem, () -> dev1.fault(mem, Access.READ));
            assertEquals(16, m.migrated(), m.toString());
            assertTrue(mirror.snapshot(mem).all(PageState.DEVICE_PRIVATE), mirror.snapshot(mem).toString());
            byte[] data = pattern(16, 34);
            mirror.write(mem.address(), data); // into device 0's memory, in place: no CPU fault, no invalidation
            assertArrayEquals(data, dev1.read(mem.address(), 16),
                    "device 1 read the zero pages it mapped during the migration: the fill did not invalidate them");
        }
    }

    /**
     * A CPU write into empty memory while it is being migrated (between collect and fill) populates the
     * entry, and reclaim then swaps the page out: the entry is a swap entry when the fill comes. Filling must
     * leave any entry that is no longer empty alone, so the write stays. (Campaign mutant 35, the fill
     * overwriting a non-present entry, survived every detector: the page is then device memory, its swap slot
     * leaked, and swapoff searches for that slot forever; it was first missed here because, on a loaded host,
     * the CPU's write came after the fill: hence the warm-up, 32 pages, and the fill's own event checked.)
     */
    @Test
    void aCpuWriteIntoEmptyMemoryDuringItsMigrationIsKept() throws Exception {
        try (Machinery.SwapHold swap = Machinery.holdSwap(); Memory mem = Memory.anonymous(32);
                Memory warm = Memory.anonymous(1)) {
            // the calls of the window once before it (see migrateEmptyWhile)
            warm.setLong(0, 0x35L);
            Sys.madvise(mem.address() + 31L * PAGE, PAGE, Sys.MADV_PAGEOUT);
            assertEquals(0, PageMap.swapped(mem.address() + 31L * PAGE, 1), "an untouched page is not in swap");
            Migration m = migrateEmptyWhile(mem, () -> {
                mem.setLong(12L * PAGE, 0x35L);
                Sys.madvise(mem.address() + 12L * PAGE, PAGE, Sys.MADV_PAGEOUT);
                assertEquals(1, PageMap.swapped(mem.address() + 12L * PAGE, 1), "the written page is in swap");
                return null;
            });
            assertEquals(0x35L, mem.getLong(12L * PAGE), "the CPU's write during the migration (" + m + ")");
            assertEquals(31, m.migrated(), "the page the CPU populated stays where it is: " + m);
        }
    }

    /**
     * Empty memory of a read-only mapping migrates to device memory read-only: the device-private entries
     * the fill creates are writable only in a writable VMA. (Campaign mutant 36 made them writable: the
     * process could then write to read-only memory once it came back.)
     */
    @Test
    void emptyReadOnlyMemoryMigratesToDeviceMemoryReadOnly() throws Exception {
        try (Memory mem = Memory.anonymous(4)) {
            mem.protect(Memory.Protection.READ);
            assertEquals(4, mirror.migrateToDevice(mem.address(), 4).migrated());
            Snapshot s = mirror.snapshot(mem);
            assertTrue(s.all(PageState.DEVICE_PRIVATE), s.toString());
            assertTrue(s.none(PageState.CPU_WRITE), "device-private entries of a read-only mapping: " + s);
        }
    }

    /**
     * Written memory in device memory made read-only by mprotect(): its device-private entries lose their
     * write permission ({@code change_softleaf_pte()}), and the pages come back read-only. (Campaign mutant
     * 57 kept them writable: the process could write read-only memory once it came back.)
     */
    @Test
    void deviceMemoryMadeReadOnlyComesBackReadOnly() throws Exception {
        try (Memory mem = filled(4, 57)) {
            assertEquals(4, mirror.migrateToDevice(mem.address(), 4).migrated());
            mem.protect(Memory.Protection.READ);
            Snapshot s = mirror.snapshot(mem);
            assertTrue(s.all(PageState.DEVICE_PRIVATE), s.toString());
            assertTrue(s.none(PageState.CPU_WRITE), "device-private entries made read-only: " + s);
            assertArrayEquals(pattern(4, 57), mem.bytes(), "the CPU reads the pages back");
            Snapshot back = mirror.snapshot(mem);
            assertTrue(back.none(PageState.DEVICE_PRIVATE) && back.none(PageState.CPU_WRITE),
                    "pages back from device memory into a read-only mapping: " + back);
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
        try (Mirror other = Mirror.open(1)) {
            DeviceOwnerIT.assertRemoteAccess(mirror, other);
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

    /** Upstream migrate_file_private: the pages a process wrote in a private file mapping move. */
    @Test
    void writtenPagesOfAPrivateFileMappingMigrate() throws Exception {
        Path file = Files.createTempFile(Path.of("/tmp"), "hmm", ".bin");
        try (Memory m = Memory.privateFile(file, 256, Memory.Protection.READ_WRITE)) {
            m.write(0, pattern(256, 10));   // every page now a private anonymous copy
            Migration mig = mirror.migrateToDevice(m.address(), 256);
            assertEquals(new Migration(256, 0), mig);
            assertTrue(mirror.snapshot(m).all(PageState.DEVICE_PRIVATE), mirror.snapshot(m).toString());
            assertArrayEquals(pattern(256, 10), mirror.read(m.address(), 256));
            assertArrayEquals(pattern(256, 10), m.bytes(), "the CPU brings them back");
            assertArrayEquals(new byte[256 * PAGE], Files.readAllBytes(file), "the file never changed");
        } finally {
            Files.deleteIfExists(file);
        }
    }

    /** The file's own pages (never written) stay where they are. */
    @Test
    void unwrittenPagesOfAPrivateFileMappingStay() throws Exception {
        Path file = Files.createTempFile(Path.of("/tmp"), "hmm", ".bin");
        try {
            Files.write(file, pattern(4, 11));
            try (Memory m = Memory.privateFile(file, 4, Memory.Protection.READ_WRITE)) {
                m.getByte(0);                  // page 0: the file's page, mapped
                m.setByte(PAGE, (byte) 1);     // page 1: a private copy
                Migration mig = mirror.migrateToDevice(m.address(), 4);
                assertEquals(new Migration(1, 3), mig, "only the private copy moves");
                Snapshot s = mirror.snapshot(m);
                assertTrue(s.page(1).contains(PageState.DEVICE_PRIVATE) && !s.page(0).contains(PageState.DEVICE_PRIVATE),
                        s.toString());
            }
        } finally {
            Files.deleteIfExists(file);
        }
    }

    /** Upstream migrate_fault: half the pages come back by CPU faults, then the range migrates again. */
    @Test
    void migrateAgainAfterHalfCameBackByCpuFaults() throws Exception {
        try (Memory mem = filled(256, 12)) {
            assertEquals(new Migration(256, 0), mirror.migrateToDevice(mem.address(), 256));
            assertArrayEquals(pattern(256, 12), mirror.read(mem.address(), 256));
            long cpuBefore = mirror.counters().cpuFaultMigrations();
            assertArrayEquals(java.util.Arrays.copyOf(pattern(256, 12), 128 * PAGE), mem.bytes(0, 128 * PAGE));
            assertEquals(128, mirror.counters().cpuFaultMigrations() - cpuBefore, "half came back by CPU faults");
            Migration again = mirror.migrateToDevice(mem.address(), 256);
            assertEquals(new Migration(128, 128), again, "the other half was already there");
            assertTrue(mirror.snapshot(mem).all(PageState.DEVICE_PRIVATE), mirror.snapshot(mem).toString());
            assertArrayEquals(pattern(256, 12), mirror.read(mem.address(), 256));
        }
    }

    /**
     * Upstream migrate_multiple: fresh memory to the device and back by CPU faults, ten times
     * (64 pages a round rather than 256: each page back is one emulated CPU fault, ~5 ms under TCG).
     */
    @Test
    void migrateAndFaultBackTenTimes() throws Exception {
        for (int round = 0; round < 10; round++) {
            try (Memory mem = Memory.anonymous(64)) {
                byte[] data = Bytes.pattern(64, round);
                mem.write(0, data);
                assertEquals(new Migration(64, 0), mirror.migrateToDevice(mem.address(), 64), "round " + round);
                Bytes.assertSame(data, mirror.read(mem.address(), 64), "round " + round + ", the device");
                long back = mirror.counters().cpuFaultMigrations();
                Bytes.assertSame(data, mem.bytes(), "round " + round + ", the CPU");
                assertEquals(64, mirror.counters().cpuFaultMigrations() - back, "round " + round);
                assertTrue(mirror.snapshot(mem).none(PageState.DEVICE_PRIVATE), "round " + round);
            }
        }
    }

    /**
     * Upstream migrate_mixed: what moves and what does not in one range of mixed mappings.
     * Differences in design: a hole is skipped (test_hmm: EINVAL), and a page another device
     * holds is skipped and counted (test_hmm: ENOENT).
     */
    @Test
    void migrateARangeOfMixedMappings() throws Exception {
        try (Mirror dev1 = Mirror.open(1); Memory mem = Memory.anonymous(6)) {
            mem.protect(Memory.Protection.NONE);
            HmmException e = assertThrows(HmmException.class, () -> dev1.migrateToDevice(mem.address(), 6));
            assertEquals(Errno.EINVAL.number(), e.errno(), "a PROT_NONE range: " + e.getMessage());
            mem.unmap(1, 1);
            e = assertThrows(HmmException.class, () -> dev1.migrateToDevice(mem.address(), 3));
            assertEquals(Errno.EINVAL.number(), e.errno(), "page 0 is still PROT_NONE: " + e.getMessage());
            long p = mem.address();
            // page 2: read-only zero page; page 3: read-only data; pages 4-5: read-write data
            mem.protect(2, 1, Memory.Protection.READ);
            assertEquals(0, mem.getByte(2L * PAGE));
            mem.protect(3, 3, Memory.Protection.READ_WRITE);
            mem.setByte(3L * PAGE, (byte) 3);
            mem.protect(3, 1, Memory.Protection.READ);
            mem.setByte(4L * PAGE, (byte) 4);
            mem.setByte(5L * PAGE, (byte) 5);
            assertEquals(new Migration(4, 0), dev1.migrateToDevice(p + 2L * PAGE, 4), "pages 2-5 move to device 1");
            assertEquals(new Migration(0, 1), mirror.migrateToDevice(p + 5L * PAGE, 1),
                    "page 5 is on device 1: device 0 leaves it");
            Snapshot s = dev1.snapshot(p + 2L * PAGE, 4);
            assertTrue(s.all(PageState.DEVICE_PRIVATE), s.toString());
            assertEquals(3, mem.getByte(3L * PAGE));
            assertEquals(5, mem.getByte(5L * PAGE));
        }
    }

    /**
     * Upstream snapshot (device-private variant): hole, PROT_NONE, zero page, read-only,
     * read-write, this device's memory and the other device's memory, as device 0 sees them.
     * With one owner per device (shared_owner=N) the other device's page reads as nothing, as
     * test_hmm reports it; with the default shared owner device 0 sees it as remote
     * device-private memory.
     */
    @Test
    void snapshotOfEveryKindOfPage() throws Exception {
        try (Mirror dev1 = Mirror.open(1); Memory mem = Memory.anonymous(7)) {
            long p = mem.address();
            mem.protect(Memory.Protection.NONE);
            mem.unmap(1, 1);
            mem.protect(2, 1, Memory.Protection.READ);
            assertEquals(0, mem.getByte(2L * PAGE));
            mem.protect(3, 4, Memory.Protection.READ_WRITE);
            mem.setByte(3L * PAGE, (byte) 3);
            mem.protect(3, 1, Memory.Protection.READ);
            mem.setByte(4L * PAGE, (byte) 4);
            mem.setByte(5L * PAGE, (byte) 5);
            mem.setByte(6L * PAGE, (byte) 6);
            assertEquals(new Migration(1, 0), mirror.migrateToDevice(p + 5L * PAGE, 1));
            assertEquals(new Migration(1, 0), dev1.migrateToDevice(p + 6L * PAGE, 1));
            Snapshot s = mirror.snapshot(p, 7);
            assertEquals(java.util.EnumSet.of(PageState.INACCESSIBLE), s.page(0), "PROT_NONE: " + s);
            assertEquals(java.util.EnumSet.of(PageState.INACCESSIBLE), s.page(1), "hole: " + s);
            assertEquals(java.util.EnumSet.of(PageState.CPU_READ, PageState.ZERO_PAGE), s.page(2), "zero page: " + s);
            assertEquals(java.util.EnumSet.of(PageState.CPU_READ), s.page(3), "read-only: " + s);
            assertEquals(java.util.EnumSet.of(PageState.CPU_READ, PageState.CPU_WRITE), s.page(4), "read-write: " + s);
            assertTrue(s.page(5).contains(PageState.DEVICE_PRIVATE) && s.page(5).contains(PageState.CPU_WRITE),
                    "this device's memory: " + s);
            if (mirror.version().has(Capability.SHARED_OWNER)) {
                assertTrue(s.page(6).contains(PageState.DEVICE_PRIVATE_REMOTE) && !s.page(6).contains(PageState.DEVICE_PRIVATE),
                        "device 1's memory, shared owner: " + s);
            } else {
                assertEquals(java.util.EnumSet.noneOf(PageState.class), s.page(6), "device 1's memory, its own owner: " + s);
            }
        }
    }

    /** Upstream double_map: two devices read the same memory; then one holds it and the other still reads it. */
    @Test
    void twoDevicesReadTheSameMemoryBeforeAndAfterOneTakesIt() throws Exception {
        try (Mirror dev1 = Mirror.open(1); Memory mem = filled(6, 13)) {
            mem.protect(Memory.Protection.READ);
            for (Mirror m : new Mirror[] {mirror, dev1}) {
                Counters before = m.counters();
                assertArrayEquals(pattern(6, 13), m.read(mem.address(), 6), m.toString());
                assertEquals(6, m.counters().pagesFaulted() - before.pagesFaulted(), m.toString());
            }
            assertEquals(new Migration(6, 0), dev1.migrateToDevice(mem.address(), 6));
            assertArrayEquals(pattern(6, 13), mirror.read(mem.address(), 6), "device 0 reads device 1's memory");
            if (mirror.version().has(Capability.SHARED_OWNER)) {
                assertTrue(mirror.snapshot(mem).all(PageState.DEVICE_PRIVATE_REMOTE), "in place: " + mirror.snapshot(mem));
            } else {
                assertTrue(mirror.snapshot(mem).none(PageState.DEVICE_PRIVATE_REMOTE), "migrated back: " + mirror.snapshot(mem));
            }
        }
    }

    /**
     * Upstream benchmark_thp_migration (its behaviour, not its timing: the benchmark is
     * {@code hmm bench-migrate}): THP-advised and base-page ranges of several sizes migrate to
     * the device and back whole, with their data, round after round.
     */
    @Test
    void rangesOfSeveralSizesMigrateBackAndForthWhole() throws Exception {
        long huge = Memory.hugePageSize() / PAGE;
        // 1, 2 and 4 THPs where the device has room for them: its memory holds one 512 MiB THP with
        // 64 KiB pages (the default dmem_mib rounded up to one chunk), 128 of 2 MiB on x86-64
        long blocks = Machinery.readLong(Machinery.MIRROR0.resolve("dmem_huge_blocks"));
        long[] sizes = java.util.stream.LongStream.of(1, 2, 4).filter(n -> n == 1 || n <= blocks).map(n -> n * huge)
                .toArray();
        System.out.println("[thp] ranges of " + java.util.Arrays.toString(sizes) + " pages (device memory: " + blocks
                + " blocks of " + huge + " pages)");
        for (boolean thp : new boolean[] {false, true}) {
            for (long pages : sizes) {
                try (Memory mem = thp ? Memory.hugeAnonymous(pages / huge) : Memory.anonymous(pages)) {
                    Bytes.write(mem, (int) pages, (int) pages);
                    for (int round = 0; round < 2; round++) {
                        String what = (thp ? "THP " : "base pages ") + pages + ", round " + round;
                        assertEquals(new Migration(pages, 0), mirror.migrateToDevice(mem.address(), pages), what);
                        assertEquals(new Migration(pages, 0), mirror.migrateToSystem(mem.address(), pages), what);
                    }
                    Bytes.assertCpuReads(Bytes.pattern((int) pages), mem, (int) pages, (thp ? "THP " : "base pages ") + pages);
                }
            }
        }
    }
}
