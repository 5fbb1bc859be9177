package dev.hmmmirror.guest.mm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hmmmirror.Access;
import dev.hmmmirror.Invalidation.Reason;
import dev.hmmmirror.Memory;
import dev.hmmmirror.Mirror;
import dev.hmmmirror.guest.Bytes;
import dev.hmmmirror.junit.GuestTest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Reclaim: the kernel swaps out pages the device has mapped (the mirror holds no reference, so
 * nothing stops it), invalidates the device first, and the device's next read swaps them back in.
 */
@GuestTest
class ReclaimIT {
    private static final int PAGES = 32;
    /** What {@link #PAGES} pages take in swap, in kB (the system's page size, not 4 KiB). */
    private static final long SWAP_KB = PAGES * Coherence.PAGE / 1024;
    private Mirror mirror;

    @BeforeEach
    void open() throws Exception {
        Machinery.requireSwap();
        mirror = Mirror.open(0);
    }

    @AfterEach
    void close() throws Exception {
        if (mirror != null) {
            mirror.close();
        }
    }

    @Test
    void madvPageoutSwapsMirroredAnonymousPagesOut() throws Exception {
        try (Memory mem = Memory.anonymous(PAGES)) {
            long a = mem.address();
            Coherence.pattern(a, PAGES, 0x20);
            mirror.fault(mem, Access.READ);
            Coherence.assertDeviceMapsAll(mirror, a, PAGES);
            Set<Reason> reasons;
            try (EventWatch w = EventWatch.start(mirror)) {
                Sys.madvise(a, PAGES * Coherence.PAGE, Sys.MADV_PAGEOUT);
                w.close();
                assertEquals(PAGES, PageMap.swapped(a, PAGES), "MADV_PAGEOUT must swap every mirrored page out: "
                        + "a reference held by the mirror would keep them in");
                assertEquals(Set.of(), w.uncovered(a, PAGES), "pages swapped out without an invalidation");
                reasons = w.reasons(a, a + PAGES * Coherence.PAGE);
            }
            Coherence.assertDeviceDropped(mirror, a, PAGES, all());
            Coherence.assertDeviceFollows(mirror, a, PAGES, Coherence.expected(PAGES, 0x20));
            assertEquals(0, PageMap.swapped(a, PAGES), "the device read must have swapped the pages back in");
            MmReport.record("reclaim: MADV_PAGEOUT, anonymous", reasons, "pass: " + PAGES + "/" + PAGES
                    + " swapped, device re-read them");
        }
    }

    /**
     * A CPU write, then a migration to device memory that is aborted (every device copy fails), then
     * reclaim: the write must survive. The pages were swapped out (to a loop device: see
     * {@link Machinery#holdLoopSwap()}) and read back, so each is a clean page in the swap cache that keeps
     * its swap slot, mapped writable: the CPU's write sets only the PTE's dirty bit.
     * The migration replaces each PTE by a migration entry and, as nothing moved, puts it back; collecting
     * the page must mark the folio dirty as the PTE goes ({@code migrate_vma_collect_pmd}), or the restored
     * PTE is clean, the next {@code MADV_PAGEOUT} drops the "clean" page without writing it, and the CPU
     * reads the bytes of before its write from swap. (Campaign mutant 28, that folio_mark_dirty() dropped,
     * survived every detector.)
     */
    @Test
    void aCpuWriteBeforeAnAbortedMigrationToDeviceMemorySurvivesTheNextReclaim() throws Exception {
        Assumptions.assumeTrue(mirror.version().has(dev.hmmmirror.Capability.MIGRATE),
                "kernel " + System.getProperty("os.version") + " lacks CONFIG_DEVICE_PRIVATE: no device memory");
        try (Machinery.LoopSwap swap = Machinery.holdLoopSwap(); Memory mem = Memory.anonymous(PAGES)) {
            long a = mem.address();
            writtenOnlyInTheirPtes(a, 0x28, 0x29);
            System.out.println("ReclaimIT: after the CPU write: " + folios(a));
            mirror.injectFaults(dev.hmmmirror.FaultInjection.failedCopies(PAGES));
            try {
                assertEquals(0, mirror.migrateToDevice(a, PAGES).migrated(), "every device copy failed");
            } finally {
                mirror.injectFaults(dev.hmmmirror.FaultInjection.NONE);
            }
            System.out.println("ReclaimIT: after the aborted migration: " + folios(a));
            pageOutAndReadBack(a, 0x29, "the CPU's write before the aborted migration, read back from swap");
        }
    }

    /**
     * A CPU write, then the device takes the pages for atomics, then reclaim: the write must survive. As
     * in the test above, each page is clean in the swap cache and only its PTE knows of the write.
     * {@code make_device_exclusive()} replaces the PTE by a device-exclusive entry and must move its dirty
     * bit to the folio; the CPU's read then restores a PTE that is dirty only if the folio is, so without
     * that the next {@code MADV_PAGEOUT} drops the "clean" page and the CPU reads the bytes of before its
     * write from swap. (Campaign mutant 51, the {@code folio_mark_dirty()} of make_device_exclusive()
     * dropped, survived every detector.)
     */
    @Test
    void aCpuWriteBeforeTheDeviceTakesThePagesForAtomicsSurvivesTheNextReclaim() throws Exception {
        Assumptions.assumeTrue(mirror.version().has(dev.hmmmirror.Capability.EXCLUSIVE), "kernel "
                + System.getProperty("os.version") + " lacks CONFIG_DEVICE_PRIVATE: device-exclusive access unavailable");
        try (Machinery.LoopSwap swap = Machinery.holdLoopSwap(); Memory mem = Memory.anonymous(PAGES)) {
            long a = mem.address();
            writtenOnlyInTheirPtes(a, 0x51, 0x52);
            assertEquals(PAGES, mirror.makeExclusive(a, PAGES), "the device takes every page for atomics");
            System.out.println("ReclaimIT: with the device's exclusive entries: " + folios(a));
            // a CPU read takes each page back (MADV_PAGEOUT passes device-exclusive entries by)
            Bytes.assertSame(Coherence.expected(PAGES, 0x52), Coherence.cpuBytes(a, PAGES),
                    "the CPU's write, read back after the device's exclusive access");
            pageOutAndReadBack(a, 0x52, "the CPU's write before the device's exclusive access, read back from swap");
        }
    }

    /**
     * The {@link #PAGES} pages at {@code a} as the two tests above need them: written with {@code before}'s
     * pattern, swapped out to the loop device and read back (each a clean page in the swap cache that keeps its
     * swap slot, mapped writable), then written by the CPU with {@code written}'s: only their PTEs know.
     */
    private static void writtenOnlyInTheirPtes(long a, int before, int written) throws Exception {
        Coherence.pattern(a, PAGES, before);
        pageOutAndReadBack(a, before, "read back from swap");
        assertEquals(PAGES, PageMap.withFlag(a, PAGES, PageMap.KPF_SWAPCACHE),
                "pages read back from the loop device's swap stay in the swap cache");
        Coherence.pattern(a, PAGES, written);
    }

    /** MADV_PAGEOUT of the {@link #PAGES} pages at {@code a}, every one to swap, then the CPU reads {@code seed}'s pattern. */
    private static void pageOutAndReadBack(long a, int seed, String what) throws Exception {
        Sys.madvise(a, PAGES * Coherence.PAGE, Sys.MADV_PAGEOUT);
        assertEquals(PAGES, PageMap.swapped(a, PAGES), "MADV_PAGEOUT must swap every page out (" + what + ")");
        Bytes.assertSame(Coherence.expected(PAGES, seed), Coherence.cpuBytes(a, PAGES), what);
    }

    /** The dirty and swap-cache folios of the {@link #PAGES} pages at {@code a}, for the test's output. */
    private static String folios(long a) throws Exception {
        return PageMap.withFlag(a, PAGES, PageMap.KPF_DIRTY) + " dirty folios, "
                + PageMap.withFlag(a, PAGES, PageMap.KPF_SWAPCACHE) + " in the swap cache";
    }

    /**
     * Mirrored memfd (shmem) pages pushed to swap. MADV_PAGEOUT unmaps them (invalidating the
     * device) but whether it also writes them to swap varies between runs on 6.1 and 6.12 (seen:
     * 0 and 256 kB on the same kernel); they are made in a memory cgroup so that, where it kept
     * them, a limit below the group's usage pushes them out: either way they end in swap.
     */
    @Test
    void madvPageoutSwapsMirroredMemfdPagesOut() throws Exception {
        Path g = Machinery.memcg("hmm-reclaim-shmem");
        String pid = Long.toString(ProcessHandle.current().pid());
        Machinery.write(g.resolve("cgroup.procs"), pid);
        try (Memory mem = Memory.memfd(PAGES)) {
            long a = mem.address();
            Coherence.pattern(a, PAGES, 0x40);
            mirror.fault(mem, Access.READ);
            Coherence.assertDeviceMapsAll(mirror, a, PAGES);
            long swapBefore = swapUsedKb();
            Set<Reason> reasons;
            String how = "MADV_PAGEOUT";
            try (EventWatch w = EventWatch.start(mirror)) {
                Sys.madvise(a, PAGES * Coherence.PAGE, Sys.MADV_PAGEOUT);
                assertEquals(0, PageMap.present(a, PAGES), "MADV_PAGEOUT must unmap every mirrored shmem page");
                if (swapUsedKb() - swapBefore < SWAP_KB) {
                    how = "MADV_PAGEOUT unmapped, cgroup reclaim swapped";
                    // the group holds little but the memfd (charges made before this JVM joined
                    // stay where they were): reclaiming from it reaches the unmapped pages
                    pushGroupToSwap(g, swapBefore);
                }
                w.close();
                assertEquals(Set.of(), w.uncovered(a, PAGES), "pages reclaimed without an invalidation");
                reasons = w.reasons(a, a + PAGES * Coherence.PAGE);
            }
            long swapped = swapUsedKb() - swapBefore;
            Coherence.assertDeviceDropped(mirror, a, PAGES, all());
            Coherence.assertDeviceFollows(mirror, a, PAGES, Coherence.expected(PAGES, 0x40));
            assertEquals(PAGES, PageMap.present(a, PAGES));
            if (swapped < SWAP_KB) {
                // 6.1 and 6.12 kept the unmapped shmem pages resident in some runs even under cgroup
                // reclaim (CI, December 2026): what was measured is reported, and the test skipped
                MmReport.record("reclaim: MADV_PAGEOUT, memfd (shmem)", reasons, "skip: unmapped and re-read, but "
                        + "not written to swap (" + swapped + " kB)");
                Assumptions.abort("kernel " + System.getProperty("os.version") + ": MADV_PAGEOUT unmapped the mirrored"
                        + " memfd pages (checked, with their invalidations, and the device re-read them) but neither it"
                        + " nor cgroup reclaim wrote them to swap (swap use grew by " + swapped + " kB)");
            }
            MmReport.record("reclaim: MADV_PAGEOUT, memfd (shmem)", reasons, "pass: " + how + " (" + swapped
                    + " kB to swap), device re-read them");
        } finally {
            Machinery.write(Machinery.CGROUP.resolve("cgroup.procs"), pid);
            Files.deleteIfExists(g);
        }
    }

    /**
     * Reclaims from memory cgroup {@code g} until swap use grew by the memfd's size or five rounds
     * are done: {@code memory.reclaim} (5.19 and later; a write fails with EAGAIN when it reclaimed
     * less than asked, which is expected here), then a {@code memory.high} far below the group's
     * usage, which reclaims synchronously as it is written.
     */
    private static void pushGroupToSwap(Path g, long swapBefore) throws IOException {
        for (int round = 0; round < 5 && swapUsedKb() - swapBefore < SWAP_KB; round++) {
            attempt(g.resolve("memory.reclaim"), Long.toString(4L * PAGES * Coherence.PAGE));
            if (swapUsedKb() - swapBefore < SWAP_KB) {
                attempt(g.resolve("memory.high"), "4096");
                attempt(g.resolve("memory.high"), "max");
            }
        }
    }

    /**
     * A write to a cgroup file that may be refused: memory.reclaim fails (EAGAIN, or "no bytes
     * written" as Java reports a short write) when it reclaimed less than asked; what counts is the
     * swap figure afterwards.
     */
    private static void attempt(Path file, String value) {
        try {
            Files.writeString(file, value);
        } catch (IOException | RuntimeException e) {
            System.out.println("reclaim: writing " + value + " to " + file + ": " + e.getMessage());
        }
    }

    /**
     * Reclaim under memory pressure: this JVM in a memory cgroup whose limit ({@code memory.high})
     * is set below its working set; the kernel's cgroup reclaim picks the mirrored pages (made
     * cold first, so that they are the ones it finds).
     */
    @Test
    void memcgLimitBelowTheWorkingSetReclaimsMirroredPages() throws Exception {
        Path g = Machinery.memcg("hmm-reclaim");
        String pid = Long.toString(ProcessHandle.current().pid());
        Machinery.write(g.resolve("cgroup.procs"), pid);
        try (Memory mem = Memory.anonymous(PAGES * 2)) {
            int n = PAGES * 2;
            long a = mem.address();
            Coherence.pattern(a, n, 0x60);
            mirror.fault(mem, Access.READ);
            Coherence.assertDeviceMapsAll(mirror, a, n);
            Sys.madvise(a, n * Coherence.PAGE, Sys.MADV_COLD);
            Set<Reason> reasons;
            Set<Integer> out;
            try (EventWatch w = EventWatch.start(mirror)) {
                long current = Machinery.readLong(g.resolve("memory.current"));
                Machinery.write(g.resolve("memory.high"), Long.toString(Math.max(current - n * Coherence.PAGE, 4096)));
                Machinery.write(g.resolve("memory.high"), "max");
                w.close();
                out = swappedPages(a, n);
                assertTrue(out.size() >= n / 2, "a limit " + n + " pages below the cgroup's usage must reclaim most "
                        + "of the cold mirrored pages; swapped: " + out.size());
                Set<Integer> missed = w.uncovered(a, n);
                missed.retainAll(out);
                assertEquals(Set.of(), missed, "reclaimed pages without an invalidation (events dropped: "
                        + w.dropped() + ")");
                reasons = w.reasons(a, a + n * Coherence.PAGE);
            }
            Coherence.assertDeviceDropped(mirror, a, n, out);
            Coherence.assertDeviceFollows(mirror, a, n, Coherence.expected(n, 0x60));
            assertEquals(0, PageMap.swapped(a, n));
            MmReport.record("reclaim: memory cgroup limit", reasons, "pass: " + out.size() + "/" + n
                    + " swapped, device re-read them");
        } finally {
            Machinery.write(Machinery.CGROUP.resolve("cgroup.procs"), pid);
            Files.deleteIfExists(g);
        }
    }

    private static Set<Integer> swappedPages(long a, int n) {
        PageMap.Entry[] e = PageMap.entries(a, n);
        return IntStream.range(0, n).filter(i -> e[i].swapped()).boxed().collect(Collectors.toSet());
    }

    private static Set<Integer> all() {
        return IntStream.range(0, PAGES).boxed().collect(Collectors.toSet());
    }

    private static long swapUsedKb() {
        return Machinery.read(Path.of("/proc/swaps")).lines().skip(1)
                .mapToLong(l -> Long.parseLong(l.trim().split("\\s+")[3])).sum();
    }
}
