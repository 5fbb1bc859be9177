package dev.hmmmirror.guest.rdma;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.hmmmirror.Access;
import dev.hmmmirror.CopyOnWriteChild;
import dev.hmmmirror.Errno;
import dev.hmmmirror.HmmException;
import dev.hmmmirror.Invalidation.Reason;
import dev.hmmmirror.Memory;
import dev.hmmmirror.Mirror;
import dev.hmmmirror.PageState;
import dev.hmmmirror.explorer.sys.Kernel;
import dev.hmmmirror.guest.Bytes;
import dev.hmmmirror.guest.mm.Coherence;
import dev.hmmmirror.guest.mm.EventWatch;
import dev.hmmmirror.guest.mm.Machinery;
import dev.hmmmirror.guest.mm.MmReport;
import dev.hmmmirror.guest.mm.PageMap;
import dev.hmmmirror.guest.mm.Sys;
import dev.hmmmirror.guest.mm.Triggers;
import dev.hmmmirror.junit.GuestTest;
import dev.hmmmirror.rdma.MemoryRegion;
import dev.hmmmirror.rdma.OdpOperation;
import dev.hmmmirror.rdma.RdmaDevice;
import dev.hmmmirror.rdma.RdmaException;
import dev.hmmmirror.rdma.WorkCompletionException;
import dev.hmmmirror.rdma.WorkCompletionStatus;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The kernel moving pages under two mirrors at once: the same pages registered in an rxe
 * On-Demand Paging region and mirrored by our device, both mapping them before the event
 * (rxe by an RDMA READ, ours by a fault). The kernel then unmaps, protects, drops, copies on
 * write, remaps, swaps, migrates, merges, collapses, splits or compacts them with the machinery
 * of the mm-event tests ({@code guest/mm}), and each test shows three things: an RDMA READ through
 * the ODP region returns the bytes the CPU sees now (new bytes written after the event where it
 * replaced the page: a stale ODP mapping would read the old page), our device got invalidations
 * covering the range with the reason the mm tests see, and the page really moved (page frame,
 * node, swap entry or huge mapping), so that a kernel that moved nothing fails the test. After
 * {@code munmap} and {@code mprotect(PROT_NONE)} the READ completes with {@code REM_ACCESS_ERR}
 * and our device's read fails with {@code EFAULT}. Each result is a row of the mm-event table,
 * in the column "KERNEL + rxe ODP".
 *
 * <p>Skips, saying why, where the kernel has no rxe ODP (trixie 6.12, bookworm 6.1).
 * The kernel settings a test changes (NUMA balancing, swap, ksmd, khugepaged) are given back.
 */
@GuestTest
class RxeMmEventsIT {
    private static final int PAGE = (int) Memory.pageSize();
    private static final int PAGES = 16;
    private RdmaDevice device;
    private Mirror mirror;

    @BeforeEach
    void open() throws Exception {
        device = Rxe.openForOdp(OdpOperation.READ);
        mirror = Mirror.open(0);
    }

    @AfterEach
    void close() throws Exception {
        Rxe.close(mirror, device);
    }

    /** One {@link Memory} under both mirrors: rxe's ODP region over it and our device ({@link #mirror}). Owns the memory. */
    private final class Both implements AutoCloseable {
        final Memory mem;
        final long a;
        final MemoryRegion odp;
        private final OdpPages rxe;

        Both(Memory mem) throws Exception {
            this.rxe = new OdpPages(device, mem, "RxeMmEventsIT");
            this.mem = mem;
            this.a = mem.address();
            this.odp = rxe.region();
        }

        /** RDMA READ of pages {@code [first, first + pages)} of this memory's ODP region. */
        byte[] read(long first, int pages) throws Exception {
            return rxe.read(first, pages);
        }

        /** RDMA READ of pages {@code [first, first + pages)} of {@code region}. */
        byte[] read(MemoryRegion region, long first, int pages) throws Exception {
            return rxe.read(region, first, pages);
        }

        /** Connections for the reconnect after a refused READ, made before a test makes a hole: {@link OdpPages#prepareConnections}. */
        void prepareConnections(int n) throws RdmaException {
            rxe.prepareConnections(n);
        }

        @Override
        public void close() throws RdmaException {
            rxe.close();
        }
    }

    /** The CPU writes pattern {@code seed}; then rxe (an RDMA READ) and our device ({@code access}) map every page. */
    private void mapBoth(Both b, int pages, int seed, Access access) throws Exception {
        Coherence.pattern(b.a, pages, seed);
        mirror.fault(b.a, pages, access);
        Coherence.assertDeviceMapsAll(mirror, b.a, pages);
        Bytes.assertSame(Coherence.expected(pages, seed), b.read(0, pages), "rxe's first READ");
    }

    /**
     * After the event: the CPU writes new bytes ({@code seed}); an RDMA READ sees them (a stale
     * ODP mapping would read the old page), and our device re-faults and maps the CPU's page.
     */
    private void bothFollow(Both b, int pages, int seed) throws Exception {
        Coherence.pattern(b.a, pages, seed);
        byte[] expected = Coherence.expected(pages, seed);
        Bytes.assertSame(expected, b.read(0, pages), "an RDMA READ after the event must see the CPU's new bytes");
        Coherence.assertDeviceFollows(mirror, b.a, pages, expected);
    }

    /** Our device's events covered every page of the range, with {@code reason} among them. */
    private static Set<Reason> covered(EventWatch w, long a, int pages, Reason reason) throws Exception {
        assertEquals(Set.of(), w.uncovered(a, pages), "pages without an invalidation of our device (dropped: "
                + w.dropped() + ")");
        Set<Reason> reasons = w.reasons(a, a + pages * Coherence.PAGE);
        assertTrue(reasons.contains(reason), "our device's invalidations: " + reasons + ", expected " + reason);
        return reasons;
    }

    private static void record(String event, Set<Reason> reasons, String outcome) {
        MmReport.record(Machinery.kernel() + " + rxe ODP", event, reasons, outcome);
    }

    private static long[] pfns(long a, int pages) {
        return Arrays.stream(PageMap.entries(a, pages)).mapToLong(PageMap.Entry::pfn).toArray();
    }

    private static void assertAllMoved(long[] before, long[] after, String how) {
        for (int i = 0; i < before.length; i++) {
            assertTrue(after[i] >= 0, "page " + i + " is not mapped after " + how);
            assertNotEquals(before[i], after[i], "page " + i + " kept its page frame through " + how);
        }
    }

    @Test
    void munmapFailsTheRdmaReadAndOurRead() throws Exception {
        try (Both b = new Both(Memory.anonymous(PAGES))) {
            mapBoth(b, PAGES, 0x21, Access.READ);
            b.prepareConnections(1); // the refused READ's reconnect must not map rxe's queues into the hole
            Set<Reason> reasons;
            try (EventWatch w = EventWatch.start(mirror)) {
                b.mem.unmap(0, PAGES);
                w.close();
                reasons = covered(w, b.a, PAGES, Reason.UNMAP);
            }
            WorkCompletionException e = assertThrows(WorkCompletionException.class, () -> b.read(0, 1));
            assertEquals(WorkCompletionStatus.REM_ACCESS_ERR, e.status(), e.getMessage());
            HmmException ours = assertThrows(HmmException.class, () -> mirror.read(b.a, 1));
            assertEquals(Errno.EFAULT.number(), ours.errno(), ours.getMessage());
            record("munmap", reasons, "pass: RDMA READ " + e.status() + ", our read EFAULT");
        }
    }

    @Test
    void mprotectProtNoneFailsTheRdmaReadUntilAccessComesBack() throws Exception {
        try (Both b = new Both(Memory.anonymous(PAGES))) {
            mapBoth(b, PAGES, 0x31, Access.READ);
            Set<Reason> reasons;
            try (EventWatch w = EventWatch.start(mirror)) {
                b.mem.protect(Memory.Protection.NONE);
                w.close();
                reasons = covered(w, b.a, PAGES, Reason.PROTECTION_VMA);
            }
            WorkCompletionException e = assertThrows(WorkCompletionException.class, () -> b.read(0, 1));
            assertEquals(WorkCompletionStatus.REM_ACCESS_ERR, e.status(), e.getMessage());
            HmmException ours = assertThrows(HmmException.class, () -> mirror.read(b.a, 1));
            assertEquals(Errno.EFAULT.number(), ours.errno(), ours.getMessage());
            b.mem.protect(Memory.Protection.READ_WRITE);
            bothFollow(b, PAGES, 0x32);
            record("mprotect(PROT_NONE)", reasons, "pass: RDMA READ " + e.status() + ", our read EFAULT; "
                    + "both read the new bytes after PROT_READ|PROT_WRITE");
        }
    }

    @Test
    void madvDontneedDropsThePagesUnderBoth() throws Exception {
        try (Both b = new Both(Memory.anonymous(PAGES))) {
            mapBoth(b, PAGES, 0x41, Access.WRITE);
            Set<Reason> reasons;
            try (EventWatch w = EventWatch.start(mirror)) {
                b.mem.adviseDontNeed(0, PAGES);
                w.close();
                reasons = covered(w, b.a, PAGES, Reason.CLEAR);
            }
            assertEquals(0, PageMap.present(b.a, PAGES), "MADV_DONTNEED must have dropped every page");
            Bytes.assertSame(new byte[PAGES * PAGE], b.read(0, PAGES), "an RDMA READ of the dropped pages");
            assertArrayEquals(new byte[PAGES * PAGE], mirror.read(b.a, PAGES), "our read of the dropped pages");
            bothFollow(b, PAGES, 0x42);
            record("MADV_DONTNEED", reasons, "pass: both read zeros, then the CPU's new bytes");
        }
    }

    @Test
    void copyOnWriteAfterForkGivesBothTheNewPage() throws Exception {
        try (Both b = new Both(Memory.anonymous(PAGES))) {
            mapBoth(b, PAGES, 0x51, Access.WRITE);
            long[] before = pfns(b.a, PAGES);
            Set<Reason> reasons;
            try (CopyOnWriteChild child = CopyOnWriteChild.fork()) {
                try (EventWatch w = EventWatch.start(mirror)) {
                    Coherence.pattern(b.a, PAGES, 0x52); // the parent's writes copy every page
                    w.close();
                    reasons = covered(w, b.a, PAGES, Reason.CLEAR);
                }
                assertAllMoved(before, pfns(b.a, PAGES), "the parent's copy-on-write");
                Bytes.assertSame(Coherence.expected(PAGES, 0x51), child.bytes(b.a, PAGES * PAGE),
                        "the child keeps the old pages");
                byte[] expected = Coherence.expected(PAGES, 0x52);
                Bytes.assertSame(expected, b.read(0, PAGES), "an RDMA READ after the copy-on-write");
                Coherence.assertDeviceFollows(mirror, b.a, PAGES, expected);
            }
            record("fork, then the parent's copy-on-write", reasons, "pass: " + PAGES
                    + " pages copied, both read the parent's new pages");
        }
    }

    @Test
    void mremapDontUnmapLeavesTheOldRegionEmpty() throws Exception {
        try (Both b = new Both(Memory.anonymous(PAGES))) {
            mapBoth(b, PAGES, 0x61, Access.WRITE);
            long[] before = pfns(b.a, PAGES);
            Set<Reason> reasons;
            Memory moved;
            try (EventWatch w = EventWatch.start(mirror)) {
                moved = b.mem.remap(0, true);
                w.close();
                reasons = covered(w, b.a, PAGES, Reason.UNMAP);
            }
            try (moved; MemoryRegion there = device.registerOnDemand(moved)) {
                long n = moved.address();
                assertArrayEquals(before, pfns(n, PAGES), "mremap moves the page tables: the same frames, new address");
                assertEquals(0, PageMap.present(b.a, PAGES), "MREMAP_DONTUNMAP leaves the old range empty");
                Bytes.assertSame(new byte[PAGES * PAGE], b.read(0, PAGES),
                        "an RDMA READ through the region over the old range (empty now)");
                Bytes.assertSame(Coherence.expected(PAGES, 0x61), b.read(there, 0, PAGES),
                        "an RDMA READ through a region over the new range");
                Coherence.pattern(n, PAGES, 0x62);
                Bytes.assertSame(Coherence.expected(PAGES, 0x62), b.read(there, 0, PAGES), "the CPU's new bytes");
                Coherence.assertDeviceFollows(mirror, n, PAGES, Coherence.expected(PAGES, 0x62));
            }
            record("mremap: MREMAP_DONTUNMAP", reasons, "pass: the old region reads zeros, a region over the new "
                    + "range the data");
        }
    }

    @Test
    void swappedOutPagesComeBackForTheRdmaRead() throws Exception {
        int pages = 32;
        try (Machinery.SwapHold swap = Machinery.holdSwap(); Both b = new Both(Memory.anonymous(pages))) {
            mapBoth(b, pages, 0x71, Access.READ);
            Set<Reason> reasons;
            try (EventWatch w = EventWatch.start(mirror)) {
                Sys.madvise(b.a, pages * Coherence.PAGE, Sys.MADV_PAGEOUT);
                w.close();
                reasons = covered(w, b.a, pages, Reason.CLEAR);
            }
            assertEquals(pages, PageMap.swapped(b.a, pages), "MADV_PAGEOUT must swap every page out: neither "
                    + "mirror may hold a reference");
            Bytes.assertSame(Coherence.expected(pages, 0x71), b.read(0, pages), "an RDMA READ of swapped-out pages");
            assertEquals(0, PageMap.swapped(b.a, pages), "rxe's READ must have faulted the pages back in");
            bothFollow(b, pages, 0x72);
            record("reclaim: MADV_PAGEOUT, anonymous", reasons, "pass: " + pages + "/" + pages
                    + " swapped, rxe's READ swapped them in");
        }
    }

    @Test
    void numaMigrationMovesThePagesUnderBoth() throws Exception {
        Machinery.requireTwoNodes();
        try (Kernel.NumaBalancingHold balancing = Kernel.keepNumaBalancingOff();
                Both b = new Both(Memory.anonymous(PAGES))) {
            mapBoth(b, PAGES, 0x81, Access.WRITE);
            long[] before = pfns(b.a, PAGES);
            int target = PageMap.nodes(b.a, 1)[0] == 0 ? 1 : 0;
            Set<Reason> reasons;
            try (EventWatch w = EventWatch.start(mirror)) {
                int[] status = PageMap.movePages(b.a, PAGES, target);
                w.close();
                assertTrue(Arrays.stream(status).allMatch(s -> s == target), "move_pages: " + Arrays.toString(status));
                reasons = covered(w, b.a, PAGES, Reason.CLEAR);
            }
            int[] nodes = PageMap.nodes(b.a, PAGES);
            assertTrue(Arrays.stream(nodes).allMatch(n -> n == target), "on node " + target + ": " + Arrays.toString(nodes));
            assertAllMoved(before, pfns(b.a, PAGES), "the migration");
            bothFollow(b, PAGES, 0x82);
            record("NUMA: move_pages(2)", reasons, "pass: " + PAGES + " pages to node " + target
                    + ", both read the CPU's new bytes");
        }
    }

    @Test
    void ksmMergeAndOurWriteThatBreaksIt() throws Exception {
        Machinery.requireKsm();
        int pages = 8;
        try (Both b = new Both(Memory.anonymous(pages)); Memory two = Memory.anonymous(pages)) {
            Coherence.pattern(two.address(), pages, 0x91);
            mapBoth(b, pages, 0x91, Access.WRITE);
            mirror.fault(two, Access.WRITE);
            Set<Reason> reasons = EnumSet.noneOf(Reason.class);
            try (EventWatch w = EventWatch.start(mirror)) {
                boolean merged = Triggers.ksmMerge(mirror, b.a, two.address(), pages);
                w.close();
                assertTrue(merged, "ksmd did not merge the two ranges within 120 s");
                reasons.addAll(covered(w, b.a, pages, Reason.CLEAR));
                reasons.addAll(covered(w, two.address(), pages, Reason.CLEAR));
            }
            byte[] expected = Coherence.expected(pages, 0x91);
            Bytes.assertSame(expected, b.read(0, pages), "an RDMA READ of the merged pages");
            long merged = pfns(b.a, 1)[0];
            byte[] page = new byte[PAGE];
            Arrays.fill(page, (byte) 0x5e);
            mirror.write(b.a, page); // breaks the merge of page 0 (a copy-on-write fault for our device)
            assertNotEquals(merged, pfns(b.a, 1)[0], "our write must have broken the merge");
            System.arraycopy(page, 0, expected, 0, PAGE);
            Bytes.assertSame(expected, b.read(0, pages), "an RDMA READ must see our device's write");
            Bytes.assertSame(Coherence.expected(pages, 0x91), Coherence.cpuBytes(two.address(), pages),
                    "the other range is unchanged");
            record("KSM: merge, then device write", reasons, "pass: " + pages + " pages merged, rxe read them and "
                    + "our device's write that broke one merge");
        }
    }

    @Test
    void thpCollapseUnderBoth() throws Exception {
        requireThp();
        int pages = (int) (Triggers.HUGE / PAGE);
        try (Both b = new Both(Memory.hugeAnonymous(1))) {
            Sys.madvise(b.a, Triggers.HUGE, Sys.MADV_NOHUGEPAGE); // small pages first
            mapBoth(b, pages, 0x05, Access.READ);
            assertEquals(0, mirror.snapshot(b.a, pages).count(PageState.HUGE), "small pages expected first");
            Sys.madvise(b.a, Triggers.HUGE, Sys.MADV_HUGEPAGE);
            Set<Reason> reasons;
            String how;
            try (EventWatch w = EventWatch.start(mirror)) {
                how = Triggers.collapse(mirror, b.a);
                w.close();
                assertEquals(pages, mirror.snapshot(b.a, pages).count(PageState.HUGE), "one huge page after " + how);
                reasons = covered(w, b.a, pages, Reason.CLEAR);
            }
            bothFollow(b, pages, 0x06);
            assertEquals(pages, mirror.snapshot(b.a, pages).count(PageState.HUGE), "still huge");
            record("THP: collapse", reasons, "pass: " + how + ", both read the CPU's new bytes");
        }
    }

    @Test
    void thpSplitByPartialMprotectUnderBoth() throws Exception {
        requireThp();
        int pages = (int) (Triggers.HUGE / PAGE);
        try (Both b = new Both(Memory.hugeAnonymous(1))) {
            Coherence.pattern(b.a, pages, 0x09);
            assumeTrue(mirror.snapshot(b.a, 1).page(0).contains(PageState.HUGE),
                    "the kernel gave no huge page here (no free " + (Triggers.HUGE >> 20) + " MiB block?)");
            mapBoth(b, pages, 0x09, Access.READ);
            assertEquals(pages, mirror.snapshot(b.a, pages).count(PageState.HUGE));
            Set<Reason> reasons;
            try (EventWatch w = EventWatch.start(mirror)) {
                b.mem.protect(5, 1, Memory.Protection.READ);
                w.close();
                assertFalse(w.overlapping(b.a, b.a + Triggers.HUGE).isEmpty(), "split without invalidating our device");
                reasons = w.reasons(b.a, b.a + Triggers.HUGE);
                assertTrue(reasons.contains(Reason.PROTECTION_VMA), reasons.toString());
            }
            assertEquals(0, mirror.snapshot(b.a, pages).count(PageState.HUGE), "the huge mapping must be split");
            b.mem.protect(5, 1, Memory.Protection.READ_WRITE);
            bothFollow(b, pages, 0x0a);
            record("THP: split by partial mprotect", reasons, "pass: both read the CPU's new bytes in the split pages");
        }
    }

    @Test
    void compactionMovesThePagesUnderBoth() throws Exception {
        int pages = Triggers.COMPACT_PAGES;
        int every = Triggers.COMPACT_KEEP_EVERY;
        try (Both b = new Both(Memory.anonymous(pages))) {
            long t0 = System.nanoTime();
            Triggers.placeForCompaction(b.a, b.mem.byteSize(), 0x11);
            mirror.fault(b.a, pages, Access.READ);
            long t1 = System.nanoTime();
            int[] kept = IntStream.iterate(0, i -> i < pages, i -> i + every).toArray();
            for (int i : kept) { // rxe maps the kept pages only (a fault in a hole could fill it)
                b.odp.prefetch((long) i * PAGE, PAGE, false);
            }
            long t2 = System.nanoTime();
            long[] before = Coherence.cpuPfns(mirror, b.a, pages);
            Set<Integer> moved = new HashSet<>();
            Set<Reason> reasons;
            try (EventWatch w = EventWatch.start(mirror)) {
                Triggers.compact();
                w.close();
                long[] after = Coherence.cpuPfns(mirror, b.a, pages);
                for (int i : kept) {
                    if (before[i] != after[i]) {
                        moved.add(i);
                    }
                }
                assertFalse(moved.isEmpty(), "compaction moved none of the " + kept.length + " pages");
                Set<Integer> missed = w.uncovered(b.a, pages);
                missed.retainAll(moved);
                assertEquals(Set.of(), missed, "moved without an invalidation of our device");
                reasons = w.reasons(b.a, b.a + pages * Coherence.PAGE);
                assertTrue(reasons.contains(Reason.CLEAR), reasons.toString());
            }
            long t3 = System.nanoTime();
            for (int i : kept) {
                Coherence.pattern(b.a + (long) i * PAGE, 1, 0x12 + i);
            }
            // an RDMA READ of one page costs ~24 ms here (TCG): every 4th kept page is read, 128 of 512
            int[] read = IntStream.of(kept).filter(i -> i % (4 * every) == 0).toArray();
            for (int i : read) {
                Bytes.assertSame(page(0x12 + i), b.read(i, 1), "an RDMA READ of page " + i
                        + (moved.contains(i) ? ", moved by compaction" : ""));
            }
            long readMoved = IntStream.of(read).filter(moved::contains).count();
            assertTrue(readMoved > 0, "none of the pages read had moved");
            System.out.printf("RxeMmEventsIT compaction: placed and faulted by our device in %.1f s, %d pages "
                    + "prefetched by rxe in %.1f s, compacted in %.1f s, %d RDMA READs of a page in %.1f s%n",
                    (t1 - t0) / 1e9, kept.length, (t2 - t1) / 1e9, (t3 - t2) / 1e9, read.length,
                    (System.nanoTime() - t3) / 1e9);
            Coherence.assertDeviceFollows(mirror, b.a, pages, Triggers.compactionExpected(pages, 0x12));
            record("compaction: compact_memory", reasons, "pass: " + moved.size() + "/" + kept.length
                    + " pages moved; rxe read the CPU's new bytes in " + readMoved + " of them");
        }
    }

    /** One page of {@link Coherence#pattern}'s bytes: every byte {@code value}. */
    private static byte[] page(int value) {
        byte[] p = new byte[PAGE];
        Arrays.fill(p, (byte) value);
        return p;
    }

    private static void requireThp() {
        assumeTrue(Files.exists(Path.of("/sys/kernel/mm/transparent_hugepage/enabled")),
                "the kernel lacks CONFIG_TRANSPARENT_HUGEPAGE");
    }
}
