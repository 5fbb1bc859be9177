package dev.hmmmirror.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.hmmmirror.Capability;
import dev.hmmmirror.Errno;
import dev.hmmmirror.FaultInjection;
import dev.hmmmirror.HmmException;
import dev.hmmmirror.Memory;
import dev.hmmmirror.Migration;
import dev.hmmmirror.Mirror;
import dev.hmmmirror.PageState;
import dev.hmmmirror.Snapshot;
import dev.hmmmirror.guest.mm.Machinery;
import dev.hmmmirror.junit.GuestTest;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Transparent huge pages and device memory, as upstream's migrate_anon_huge_* and
 * migrate_*_fault tests exercise them: empty, zero and populated THP ranges migrate to the device
 * with every base page accounted for, come back by CPU faults, and survive MADV_FREE, a partial
 * munmap and mremap while in device memory. Where the module reports {@link Capability#THP_MIGRATE}
 * (7.2), a THP must move whole, as one large device-private folio, and come back whole; elsewhere
 * it is split to base pages on the way. Each test prints which path ran.
 */
@GuestTest
class ThpMigrationIT {
    private static final int PAGE = (int) Memory.pageSize();
    private static final int HUGE = (int) (Memory.hugePageSize() / PAGE);
    private Mirror mirror;

    @BeforeEach
    void open() throws Exception {
        mirror = Mirror.open(0);
        assumeTrue(mirror.version().has(Capability.MIGRATE), "kernel " + System.getProperty("os.version")
                + " lacks CONFIG_DEVICE_PRIVATE: no device-private memory, migration unavailable");
        MirrorAccessIT.assumeThp();
    }

    @AfterEach
    void close() throws Exception {
        mirror.close();
    }

    /**
     * A THP-aligned range holding {@link Bytes#pattern(int, int) the pattern of seed}, collapsed to one
     * transparent huge page. Whole THPs are written and compared a slice at a time (Bytes): one is 512 MiB
     * with 64 KiB pages.
     */
    private Memory collapsedThp(int seed) throws Exception {
        Memory m = Memory.hugeAnonymous(1);
        Bytes.write(m, HUGE, seed);
        m.adviseCollapse(0, HUGE);
        Snapshot s = mirror.snapshot(m);
        assertTrue(s.all(PageState.HUGE), "MADV_COLLAPSE made a huge mapping: " + s);
        return m;
    }

    /**
     * {@link #collapsedThp(int) A THP of seed's pattern} migrated to device memory whole, as one large device
     * folio mapped by a device-private PMD; the test is skipped where the kernel splits it on the way.
     */
    private Memory wholeInDeviceMemory(int seed, String what) throws Exception {
        Memory m = collapsedThp(seed);
        try {
            assertEquals(new Migration(HUGE, 0), mirror.migrateToDevice(m.address(), HUGE));
            String path = migrationPath(mirror, mirror.snapshot(m), what);
            assumeTrue(path.startsWith("whole"), "kernel " + System.getProperty("os.version")
                    + " split the THP on its way to device memory: no device-private PMD (" + what + ")");
            return m;
        } catch (Throwable t) {
            m.close();
            throw t;
        }
    }

    /** Upstream migrate_anon_huge_empty: a read-only THP range never touched migrates as zeros. */
    @Test
    void emptyThpRangeMigratesAsZeros() throws Exception {
        try (Memory m = Memory.hugeAnonymous(1)) {
            m.protect(Memory.Protection.READ);
            assertEquals(new Migration(HUGE, 0), mirror.migrateToDevice(m.address(), HUGE));
            assertTrue(mirror.snapshot(m).all(PageState.DEVICE_PRIVATE), mirror.snapshot(m).toString());
            migrationPath(mirror, mirror.snapshot(m), "an empty THP range");
            Bytes.assertDeviceReads(Bytes.zeros(), mirror, m.address(), HUGE, "what the device reads");
        }
    }

    /** Upstream migrate_anon_huge_zero: the huge zero page migrates, and faults back as zeros. */
    @Test
    void hugeZeroPageMigratesAndFaultsBackAsZeros() throws Exception {
        try (Memory m = Memory.hugeAnonymous(1)) {
            m.protect(Memory.Protection.READ);
            assertEquals(0, m.getLong(0), "a read maps the huge zero page");
            assertEquals(new Migration(HUGE, 0), mirror.migrateToDevice(m.address(), HUGE));
            Bytes.assertDeviceReads(Bytes.zeros(), mirror, m.address(), HUGE, "what the device reads");
            Bytes.assertCpuReads(Bytes.zeros(), m, HUGE, "the CPU faults zeros back");
            assertTrue(mirror.snapshot(m).none(PageState.DEVICE_PRIVATE), mirror.snapshot(m).toString());
        }
    }

    /** Upstream migrate_anon_huge_free: MADV_FREE of a THP range in device memory. */
    @Test
    void madviseFreeOfAThpInDeviceMemory() throws Exception {
        try (Memory m = Memory.hugeAnonymous(1)) {
            Bytes.write(m, HUGE, 1);
            assertEquals(new Migration(HUGE, 0), mirror.migrateToDevice(m.address(), HUGE));
            Bytes.assertDeviceReads(Bytes.pattern(1), mirror, m.address(), HUGE, "what the device reads");
            m.adviseFree(0, HUGE);
            for (int p = 0; p < HUGE; p++) {
                byte[] page = m.bytes((long) p * PAGE, PAGE);
                assertTrue(Arrays.equals(page, Bytes.pattern(p, 1, 1)) || Arrays.equals(page, new byte[PAGE]),
                        "MADV_FREE leaves each page's data or zeros: page " + p);
            }
        }
    }

    /**
     * Upstream migrate_anon_huge_fault: a collapsed THP migrates; the CPU page table then holds
     * device-private (swap-type, not present) entries for all of it; CPU faults bring the data back.
     */
    @Test
    void collapsedThpMigratesAndFaultsBack() throws Exception {
        Bytes.Expected data = Bytes.pattern(2);
        try (Memory m = collapsedThp(2)) {
            assertEquals(new Migration(HUGE, 0), mirror.migrateToDevice(m.address(), HUGE));
            Bytes.assertDeviceReads(data, mirror, m.address(), HUGE, "what the device reads");
            Snapshot s = mirror.snapshot(m);
            assertTrue(s.all(PageState.DEVICE_PRIVATE) && s.all(PageState.CPU_WRITE), s.toString());
            migrationPath(mirror, s, "a collapsed THP");
            long[] entries = pagemap(m.address(), HUGE);
            for (int i = 0; i < HUGE; i++) {
                assertTrue((entries[i] & PM_SWAP) != 0 && (entries[i] & PM_PRESENT) == 0,
                        "page " + i + ": pagemap entry 0x" + Long.toHexString(entries[i]) + " is not a swap-type entry");
            }
            Bytes.assertCpuReads(data, m, HUGE, "the CPU faults the data back");
        }
    }

    /**
     * {@code MADV_COLLAPSE} of a range with some pages in device memory: the kernel counts a
     * device-private entry as a swap entry and "swaps it in" through {@code do_swap_page()}, which
     * migrates it back from device memory, then collapses the range into one THP. khugepaged does
     * the same, up to its {@code max_ptes_swap} (64) such entries, at a moment of its own: found
     * by the explorer's 7.2 debug campaign (a page the model had in device 1's memory was back and
     * then migrated to device 0), which now keeps khugepaged off ranges in device memory. The data
     * must stay whatever the kernel does.
     */
    @Test
    void aCollapseBringsPagesBackFromDeviceMemory() throws Exception {
        Bytes.Expected data = Bytes.pattern(7);
        try (Memory m = collapsedThp(7)) {
            int first = 100;
            int count = 20;
            assertEquals(new Migration(count, 0), mirror.migrateToDevice(m.address() + (long) first * PAGE, count));
            Snapshot before = mirror.snapshot(m);
            assertEquals(count, before.count(PageState.DEVICE_PRIVATE), before.toString());
            String outcome;
            try {
                m.adviseCollapse(0, HUGE);
                outcome = "collapsed";
            } catch (HmmException e) {
                outcome = "refused (" + e.errnoName() + ")";
            }
            Snapshot after = mirror.snapshot(m);
            System.out.println("[thp] MADV_COLLAPSE of a THP range with " + count + " pages in device memory on kernel "
                    + System.getProperty("os.version") + ": " + outcome + ", " + after.count(PageState.DEVICE_PRIVATE)
                    + " pages still in device memory, " + after.count(PageState.HUGE) + " mapped huge");
            if (outcome.equals("collapsed")) {
                assertTrue(after.none(PageState.DEVICE_PRIVATE) && after.all(PageState.HUGE),
                        "a collapse that succeeded left device memory or small pages: " + after);
            }
            Bytes.assertCpuReads(data, m, HUGE, "what the CPU reads");
            Bytes.assertDeviceReads(data, mirror, m.address(), HUGE, "what the device reads");
        }
    }

    /**
     * A whole THP goes to device memory as one large folio and comes back by MIGRATE_TO_SYS as
     * one THP again (the whole path in both directions, where the module has it).
     */
    @Test
    void aThpMigratesToTheDeviceAndBackWhole() throws Exception {
        try (Memory m = collapsedThp(5)) {
            assertEquals(new Migration(HUGE, 0), mirror.migrateToDevice(m.address(), HUGE));
            String path = migrationPath(mirror, mirror.snapshot(m), "a THP, to the device");
            assertEquals(new Migration(HUGE, 0), mirror.migrateToSystem(m.address(), HUGE));
            Snapshot back = mirror.snapshot(m);
            assertTrue(back.none(PageState.DEVICE_PRIVATE), back.toString());
            if (path.startsWith("whole")) {
                assertTrue(back.all(PageState.HUGE), "a large device folio comes back as one THP: " + back);
            }
            Bytes.assertCpuReads(Bytes.pattern(5), m, HUGE, "the CPU reads the data back");
        }
    }

    /**
     * A CPU fault on one page of a THP in device memory: a large device folio (mapped by a PMD)
     * comes back whole, as one THP; base pages come back one at a time.
     */
    @Test
    void aCpuFaultOnALargeDeviceFolioBringsTheWholeThpBack() throws Exception {
        try (Memory m = collapsedThp(6)) {
            assertEquals(new Migration(HUGE, 0), mirror.migrateToDevice(m.address(), HUGE));
            String path = migrationPath(mirror, mirror.snapshot(m), "a THP, for a CPU fault");
            int page = HUGE / 3;
            assertEquals(Bytes.pattern(page, 1, 6)[7], m.getByte((long) page * PAGE + 7), "the faulting byte");
            Snapshot after = mirror.snapshot(m);
            if (path.startsWith("whole")) {
                assertTrue(after.none(PageState.DEVICE_PRIVATE) && after.all(PageState.HUGE),
                        "one fault brought the whole THP back: " + after);
            } else {
                assertEquals(HUGE - 1, after.count(PageState.DEVICE_PRIVATE), "one base page came back: " + after);
            }
            Bytes.assertCpuReads(Bytes.pattern(6), m, HUGE, "the CPU reads the data back");
        }
    }

    /**
     * A large device folio seen from inside: a second mirror of the same device (no device page
     * table entries yet) reads it page by page, so each fault starts inside the PMD, and asks for
     * the page frame of a page in its middle. Linux 7.2's hmm_range_fault() reports such a PMD's
     * pfns from the folio's first page whatever the range's start (every page read back as page
     * 0's data before the module took the page from the folio by address).
     */
    @Test
    void faultsStartingInsideALargeDeviceFolioSeeTheirOwnPages() throws Exception {
        try (Memory m = collapsedThp(7); Mirror other = Mirror.open(0)) {
            assertEquals(new Migration(HUGE, 0), mirror.migrateToDevice(m.address(), HUGE));
            migrationPath(mirror, mirror.snapshot(m), "a THP, read from inside");
            long whole = mirror.pageFrames(m.address(), HUGE).get(100).cpuPfn();
            long inside = other.pageFrames(m.address() + 100L * PAGE, 1).get(0).cpuPfn();
            assertEquals(whole, inside, "page 100's frame, asked for from page 0 and from page 100");
            Bytes.assertDeviceReads(Bytes.pattern(7), other, m.address(), HUGE, "what the second mirror reads, page by page");
        }
    }

    /**
     * A large device folio's PMD split by a partial munmap: each of the device-private PTEs it becomes
     * keeps the PMD's write permission ({@code __split_huge_pmd_locked()}). Without it the pages are
     * read-only device memory: every later CPU or device write takes an extra fault, and a snapshot
     * shows them without CPU_WRITE. (Campaign mutant 54 survived every detector: the pages still came
     * back with their data.)
     */
    @Test
    void aSplitOfAWritableLargeDeviceFolioKeepsItsPagesWritable() throws Exception {
        try (Memory m = wholeInDeviceMemory(8, "a THP, to be split in device memory")) {
            Snapshot whole = mirror.snapshot(m);
            assertTrue(whole.all(PageState.DEVICE_PRIVATE) && whole.all(PageState.CPU_WRITE),
                    "a writable THP in device memory: " + whole);
            m.unmap(0, 1); // splits the PMD
            Snapshot rest = mirror.snapshot(m.address() + PAGE, HUGE - 1);
            assertTrue(rest.none(PageState.HUGE), "the PMD was split: " + rest);
            assertEquals(HUGE - 1, rest.count(PageState.DEVICE_PRIVATE), "still in device memory: " + rest);
            assertEquals(HUGE - 1, rest.count(PageState.CPU_WRITE),
                    "pages of the split writable PMD that stayed writable (the first: " + rest.pages().get(0) + ")");
            Bytes.assertCpuReads(Bytes.pattern(8), m, 1, HUGE - 1, "the CPU reads the rest back");
        }
    }

    /**
     * mprotect(PROT_READ) of a THP in device memory as one large folio: the device-private PMD loses its
     * write permission ({@code change_non_present_huge_pmd()}) and the THP comes back read-only.
     * (Campaign mutant 56 kept it writable: the process could write read-only memory once it came back.)
     */
    @Test
    void aLargeDeviceFolioMadeReadOnlyComesBackReadOnly() throws Exception {
        try (Memory m = wholeInDeviceMemory(9, "a THP, to be made read-only in device memory")) {
            m.protect(Memory.Protection.READ);
            Snapshot ro = mirror.snapshot(m);
            assertEquals(HUGE, ro.count(PageState.DEVICE_PRIVATE), "still in device memory (the first: " + ro.pages().get(0) + ")");
            assertEquals(0, ro.count(PageState.CPU_WRITE), "writable pages of a THP made read-only in device memory (the first: "
                    + ro.pages().get(0) + ")");
            Bytes.assertCpuReads(Bytes.pattern(9), m, HUGE, "the CPU reads the THP back");
            Snapshot back = mirror.snapshot(m);
            assertEquals(0, back.count(PageState.DEVICE_PRIVATE) + back.count(PageState.CPU_WRITE),
                    "device-private or writable pages after the THP came back read-only (the first: " + back.pages().get(0) + ")");
        }
    }

    /** Upstream migrate_partial_unmap_fault: half the range is unmapped while in device memory. */
    @Test
    void partialMunmapOfARangeInDeviceMemory() throws Exception {
        for (boolean thp : new boolean[] {false, true}) {
            for (int offset : new int[] {0, HUGE / 4, HUGE / 2}) {
                String what = (thp ? "THP" : "base pages") + ", unmap from page " + offset;
                try (Memory m = thp ? Memory.hugeAnonymous(1) : Memory.anonymous(HUGE)) {
                    Bytes.write(m, HUGE, offset);
                    assertEquals(new Migration(HUGE, 0), mirror.migrateToDevice(m.address(), HUGE), what);
                    Bytes.assertDeviceReads(Bytes.pattern(offset), mirror, m.address(), HUGE, what);
                    m.unmap(offset, HUGE / 2);
                    // the pages before and after the unmapped half
                    Bytes.assertCpuReads(Bytes.pattern(offset), m, 0, offset, what);
                    Bytes.assertCpuReads(Bytes.pattern(offset), m, offset + HUGE / 2, HUGE - offset - HUGE / 2, what);
                }
            }
        }
    }

    /**
     * Upstream migrate_remap_fault: mremap before or after migrating, moving or keeping the old
     * range. The data at the new address is checked through the device for every combination,
     * through CPU faults for every page in the THP cases moved off the huge boundary by a quarter
     * and for three pages elsewhere (a CPU fault back is ~5 ms under TCG, 24 x 512 of them 60 s).
     */
    @Test
    void mremapBeforeOrAfterMigratingKeepsTheData() throws Exception {
        for (boolean before : new boolean[] {true, false}) {
            for (boolean keepOld : new boolean[] {false, true}) {
                for (boolean thp : new boolean[] {false, true}) {
                    for (int offset : new int[] {0, HUGE / 4, HUGE / 2}) {
                        String what = (before ? "mremap, migrate" : "migrate, mremap") + (keepOld ? " (DONTUNMAP)" : "")
                                + ", " + (thp ? "THP" : "base pages") + ", to huge boundary + " + offset + " pages";
                        try (Memory m = thp ? Memory.hugeAnonymous(1) : Memory.anonymous(HUGE)) {
                            int seed = offset + (before ? 1 : 0) + (keepOld ? 2 : 0);
                            Bytes.Expected data = Bytes.pattern(seed);
                            Bytes.write(m, HUGE, seed);
                            Memory moved = null;
                            try {
                                if (before) {
                                    moved = m.remap((long) offset * PAGE, keepOld);
                                }
                                Memory target = before ? moved : m;
                                assertEquals(new Migration(HUGE, 0), mirror.migrateToDevice(target.address(), HUGE), what);
                                Bytes.assertDeviceReads(data, mirror, target.address(), HUGE, what);
                                if (!before) {
                                    moved = m.remap((long) offset * PAGE, keepOld);
                                }
                                Bytes.assertDeviceReads(data, mirror, moved.address(), HUGE, what + ": the device at the new address");
                                if (thp && offset == HUGE / 4) {
                                    Bytes.assertCpuReads(data, moved, HUGE, what + ": the CPU faults the data back");
                                } else {
                                    // every page back by a CPU fault costs ~5 ms under TCG: first, middle, last here
                                    for (int p : new int[] {0, HUGE / 2, HUGE - 1}) {
                                        Bytes.assertCpuReads(data, moved, p, 1, what + ": the CPU, page " + p);
                                    }
                                }
                            } finally {
                                if (moved != null) {
                                    moved.close();
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * Device memory a split THP used holds a whole THP again once it is free. Every PMD-sized block
     * of the device is broken into base pages (THPs migrated with an injected failure of their large
     * allocation, so that the module takes base pages and the kernel splits each THP), all of it is
     * freed, and a THP must then migrate whole. Found on 16 KiB pages, where the default 256 MiB of
     * device memory are 8 blocks of 32 MiB: a block once broken stayed broken, and this class's
     * last test found its THP split after the class's other tests.
     */
    @Test
    void blocksOfSplitThpsHoldWholeThpsAgainOnceFree() throws Exception {
        assumeTrue(mirror.version().has(Capability.THP_MIGRATE), "kernel " + System.getProperty("os.version")
                + ": the module has no whole-THP migration (large device folios, 7.2), so no block is ever whole");
        long blocks = deviceCount("dmem_huge_blocks");
        assertTrue(blocks > 0, "the device has no block of device memory large enough for a THP");
        long split = 0;
        try (Memory m = Memory.hugeAnonymous(blocks)) {
            m.protect(Memory.Protection.READ);
            for (long b = 0; b < blocks; b++) {
                long address = m.address() + b * HUGE * PAGE;
                mirror.injectFaults(FaultInjection.failedAllocations(1));
                try {
                    mirror.migrateToDevice(address, HUGE);
                } catch (HmmException e) {
                    // device memory full (pages of other mirrors): every block is broken or in use
                    assertEquals(Errno.ENOMEM.number(), e.errno(), e.getMessage());
                    break;
                }
                Snapshot s = mirror.snapshot(address, HUGE);
                assertTrue(s.all(PageState.DEVICE_PRIVATE) && s.none(PageState.HUGE),
                        "THP " + b + " was to be split to base pages by the injected failure: " + s);
                split++;
            }
            mirror.injectFaults(FaultInjection.NONE);
            assertEquals(0, deviceCount("dmem_free_huge_blocks"), "whole free blocks after splitting " + split
                    + " THPs over the device's " + blocks + " blocks");
        }
        long used = deviceCount("dmem_used_pages");
        long free = deviceCount("dmem_free_huge_blocks");
        System.out.println("[thp] " + split + " THPs split over " + blocks + " blocks and freed: " + free
                + " blocks whole again, " + used + " device pages in use");
        if (used == 0) {
            assertEquals(blocks, free, "with no device page in use every block is whole");
        }
        try (Memory m = collapsedThp(9)) {
            assertEquals(new Migration(HUGE, 0), mirror.migrateToDevice(m.address(), HUGE));
            migrationPath(mirror, mirror.snapshot(m), "a THP after " + split + " split THPs were freed");
            Bytes.assertDeviceReads(Bytes.pattern(9), mirror, m.address(), HUGE, "what the device reads");
        }
    }

    /**
     * The device's memory is made of whole PMD-sized blocks on every page size: chunks of 128 MiB, or of
     * a PMD where that is larger (512 MiB on arm64 with 64 KiB pages, where a 128 MiB chunk held no
     * block at all, so no device page), {@code dmem_mib} rounded up to whole chunks, at most 8 of them.
     */
    @Test
    void deviceMemoryIsWholePmdSizedBlocksOnAnyPageSize() throws Exception {
        assumeTrue(mirror.version().has(Capability.THP_MIGRATE), "kernel " + System.getProperty("os.version")
                + ": the module has no whole-THP migration (large device folios, 7.2): it shows no blocks");
        long pmd = Memory.hugePageSize();
        long chunk = Math.max(128L << 20, pmd);
        long mib = Long.parseLong(Files.readString(Path.of("/sys/module/hmm_mirror/parameters/dmem_mib")).strip());
        long chunks = Math.min(8, ((mib << 20) + chunk - 1) / chunk);
        long blocks = deviceCount("dmem_huge_blocks");
        System.out.println("[thp] dmem_mib=" + mib + ", PMD " + (pmd >> 20) + " MiB, chunk " + (chunk >> 20) + " MiB: "
                + blocks + " blocks");
        assertEquals(chunks * (chunk / pmd), blocks, "PMD-sized blocks of " + mib + " MiB of device memory");
        assertTrue(blocks > 0, "no block of device memory large enough for a THP");
    }

    /** A count the module shows in {@code /sys/class/misc/hmm_mirror0/}. */
    private static long deviceCount(String name) throws IOException {
        return Machinery.readLong(Machinery.MIRROR0.resolve(name));
    }

    /**
     * Which way a THP range went to device memory, from its snapshot: whole (one large
     * device-private folio: every page HUGE) or split to base pages (no page HUGE); printed with
     * the test's output. Anything in between is a failure, and so is a split where the module
     * reports {@link Capability#THP_MIGRATE}.
     */
    static String migrationPath(Mirror mirror, Snapshot s, String what) throws Exception {
        long huge = s.count(PageState.HUGE);
        assertTrue(huge == 0 || huge == s.pages().size(), what + ": partly huge after migration: " + s);
        String path = huge == 0 ? "split to base pages" : "whole, as a large device-private folio";
        System.out.println("[thp] " + what + ": migrated " + path + " on kernel " + System.getProperty("os.version"));
        if (mirror.version().has(Capability.THP_MIGRATE)) {
            assertTrue(huge > 0, what + ": the module reports THP_MIGRATE but the THP was split: " + s);
        } else {
            assertEquals(0, huge, what + ": whole without THP_MIGRATE: " + s);
        }
        return path;
    }

    private static final long PM_PRESENT = 1L << 63;
    private static final long PM_SWAP = 1L << 62;

    /** {@code /proc/self/pagemap} entries of {@code pages} pages from {@code address}. */
    static long[] pagemap(long address, int pages) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(pages * 8).order(ByteOrder.nativeOrder());
        try (FileChannel ch = FileChannel.open(Path.of("/proc/self/pagemap"), StandardOpenOption.READ)) {
            while (b.hasRemaining()) {
                if (ch.read(b, address / PAGE * 8 + b.position()) <= 0) {
                    throw new IOException("short read of /proc/self/pagemap");
                }
            }
        }
        b.flip();
        long[] out = new long[pages];
        b.asLongBuffer().get(out);
        return out;
    }
}
