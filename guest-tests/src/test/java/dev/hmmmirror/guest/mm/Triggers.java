package dev.hmmmirror.guest.mm;

import dev.hmmmirror.Memory;
import dev.hmmmirror.Mirror;
import dev.hmmmirror.PageFrame;
import dev.hmmmirror.PageState;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The kernel machinery the mm-event tests set going, in one place: the tests of this package and
 * those that watch another mirror through the same events ({@code guest/rdma/RxeMmEventsIT})
 * trigger each event the same way. Every kernel setting changed on the way is given back.
 */
public final class Triggers {
    /** A PMD-sized transparent huge page, in bytes. */
    public static final long HUGE = Memory.hugePageSize();
    /**
     * The range compaction works on: 16 MiB, of which every {@link #COMPACT_KEEP_EVERY}th page stays
     * (with 4 KiB pages 512 pages spread thinly over 8 pageblocks of 2 MiB; with 16 KiB pages 128
     * over half a 32 MiB pageblock).
     */
    public static final int COMPACT_PAGES = (int) ((16L << 20) / PageMap.PAGE);
    /** One page of every this many stays in the compaction range. */
    public static final int COMPACT_KEEP_EVERY = 8;
    private static final Path NODE1 = Path.of("/sys/devices/system/node/node1");
    private static final Path COMPACT_MEMORY = Path.of("/proc/sys/vm/compact_memory");

    private Triggers() {}

    /**
     * ksmd merges the two ranges ({@code pages} each, the same content, mirrored by {@code m}):
     * both are made mergeable, ksmd runs fast until every page of {@code a} shares its frame with
     * the page of {@code b} (at most 120 s), then ksmd's settings are given back.
     *
     * @return whether the ranges were merged
     */
    public static boolean ksmMerge(Mirror m, long a, long b, int pages) throws Exception {
        Path ksm = Machinery.requireKsm();
        long len = pages * PageMap.PAGE;
        Sys.madvise(a, len, Sys.MADV_MERGEABLE);
        Sys.madvise(b, len, Sys.MADV_MERGEABLE);
        try (var scan = Machinery.set(ksm.resolve("pages_to_scan"), "5000");
                var sleep = Machinery.set(ksm.resolve("sleep_millisecs"), "20");
                var run = Machinery.set(ksm.resolve("run"), "1")) {
            long deadline = System.nanoTime() + 120_000_000_000L;
            while (!merged(m, a, b, pages) && System.nanoTime() < deadline) {
                Thread.sleep(200);
            }
        }
        return merged(m, a, b, pages);
    }

    /** Whether every page of {@code a} is mapped and shares its page frame with the page of {@code b}. */
    public static boolean merged(Mirror m, long a, long b, int pages) throws Exception {
        List<PageFrame> fa = m.pageFrames(a, pages), fb = m.pageFrames(b, pages);
        for (int i = 0; i < pages; i++) {
            if (!fa.get(i).cpuMapped() || fa.get(i).cpuPfn() != fb.get(i).cpuPfn()) {
                return false;
            }
        }
        return true;
    }

    /**
     * Collapses the small pages of the {@link #HUGE}-aligned range at {@code a} (advised
     * {@code MADV_HUGEPAGE}) into a huge page: {@code MADV_COLLAPSE}, or where the kernel refuses
     * it, khugepaged made to scan fast (its settings given back) until the mirror {@code m} sees
     * the range huge (at most 120 s).
     *
     * @return how it was collapsed
     */
    public static String collapse(Mirror m, long a) throws Exception {
        long rc = Sys.raw(Sys.MADVISE, a, HUGE, Sys.MADV_COLLAPSE);
        if (rc == 0) {
            return "MADV_COLLAPSE";
        }
        Path k = Path.of("/sys/kernel/mm/transparent_hugepage/khugepaged");
        try (var sleep = Machinery.set(k.resolve("scan_sleep_millisecs"), "100");
                var scan = Machinery.set(k.resolve("pages_to_scan"), Long.toString(8 * HUGE / PageMap.PAGE))) {
            long deadline = System.nanoTime() + 120_000_000_000L;
            while (!m.snapshot(a, 1).page(0).contains(PageState.HUGE) && System.nanoTime() < deadline) {
                Thread.sleep(250);
            }
        }
        return "khugepaged (MADV_COLLAPSE: " + Sys.name((int) -rc) + ")";
    }

    /**
     * Places the not yet populated anonymous range {@code [a, a + len)} where compaction moves
     * pages, fills it with {@link Coherence#pattern} bytes of {@code seed} and empties all but
     * every {@link #COMPACT_KEEP_EVERY}th page. Node 1 is nearly empty and hands out its highest
     * free blocks first, where compaction's free scanner works: pages there never move. A filler
     * takes the top of the node first, so that the range lands below it, in the migration
     * scanner's half, and the filler is given back; the holes leave the range's pageblocks mostly
     * free, and compaction's migration scanner empties such blocks by moving the pages still in
     * them. Skips without two nodes or compaction.
     */
    public static void placeForCompaction(long a, long len, int seed) {
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.exists(COMPACT_MEMORY), "the kernel lacks CONFIG_COMPACTION");
        Machinery.requireTwoNodes();
        long free = Machinery.read(NODE1.resolve("meminfo")).lines().filter(l -> l.contains("MemFree:"))
                .mapToLong(l -> Long.parseLong(l.replaceAll(".*MemFree:\\s*(\\d+).*", "$1"))).findFirst()
                .orElseThrow() * 1024;
        long fillerLen = (free - (64L << 20)) & -Memory.hugePageSize();
        long filler = Sys.mmap(0, fillerLen, Sys.PROT_READ | Sys.PROT_WRITE, Sys.MAP_PRIVATE | Sys.MAP_ANONYMOUS, -1, 0);
        try {
            PageMap.mbind(filler, fillerLen, 1);
            Sys.madvise(filler, fillerLen, Sys.MADV_POPULATE_WRITE);
            Sys.madvise(a, len, Sys.MADV_NOHUGEPAGE);
            PageMap.mbind(a, len, 1);
            Coherence.pattern(a, (int) (len / PageMap.PAGE), seed);
        } finally {
            Sys.munmap(filler, fillerLen);
        }
        for (long i = 0; i < len / PageMap.PAGE; i += COMPACT_KEEP_EVERY) {
            Sys.madvise(a + (i + 1) * PageMap.PAGE, (COMPACT_KEEP_EVERY - 1) * PageMap.PAGE, Sys.MADV_DONTNEED);
        }
    }

    /** Compacts node 1 ({@code /sys/devices/system/node/node1/compact}, else every node). */
    public static void compact() {
        Path node = NODE1.resolve("compact");
        Machinery.write(Files.exists(node) ? node : COMPACT_MEMORY, "1");
    }

    /** The bytes {@link #placeForCompaction} leaves: page {@code i} of the pattern where it kept it, else zeros. */
    public static byte[] compactionExpected(int pages, int seed) {
        byte[] expected = Coherence.expected(pages, seed);
        for (int i = 0; i < pages; i++) {
            if (i % COMPACT_KEEP_EVERY != 0) {
                java.util.Arrays.fill(expected, (int) (i * PageMap.PAGE), (int) ((i + 1) * PageMap.PAGE), (byte) 0);
            }
        }
        return expected;
    }
}
