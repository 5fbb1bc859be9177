package dev.hmmmirror.guest.mm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.hmmmirror.Access;
import dev.hmmmirror.Invalidation.Reason;
import dev.hmmmirror.Mirror;
import dev.hmmmirror.junit.GuestTest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Compaction: {@code /proc/sys/vm/compact_memory} moves movable pages to make free memory
 * contiguous. Mirrored pages are movable (the mirror pins nothing); whichever the kernel moves, the
 * device must have been invalidated and must then map the new page.
 */
@GuestTest
class CompactionIT {
    /**
     * 16 MiB, of which every eighth page stays: with 4 KiB pages 512 mirrored pages spread thinly over 8
     * pageblocks of 2 MiB; with 16 KiB pages 128 over half a 32 MiB pageblock.
     */
    private static final int PAGES = (int) ((16L << 20) / Coherence.PAGE);
    private static final int KEEP_EVERY = 8;

    @Test
    void compactMemoryKeepsTheMirrorCoherent() throws Exception {
        Path compact = Path.of("/proc/sys/vm/compact_memory");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.exists(compact), "the kernel lacks CONFIG_COMPACTION");
        Machinery.requireTwoNodes();
        // Node 1 is nearly empty and hands out its highest free blocks first, where compaction's free
        // scanner works: pages there never move. A filler takes the top of the node first, so that the
        // mirrored range lands below it, in the migration scanner's half, and the filler is given back.
        Path node = Path.of("/sys/devices/system/node/node1");
        long free = freeKb(node) * 1024;
        long fillerLen = (free - (64L << 20)) & -dev.hmmmirror.Memory.hugePageSize();
        long filler = Sys.mmap(0, fillerLen, Sys.PROT_READ | Sys.PROT_WRITE, Sys.MAP_PRIVATE | Sys.MAP_ANONYMOUS, -1, 0);
        PageMap.mbind(filler, fillerLen, 1);
        Sys.madvise(filler, fillerLen, Sys.MADV_POPULATE_WRITE);
        long len = PAGES * Coherence.PAGE;
        long a = Sys.mmap(0, len, Sys.PROT_READ | Sys.PROT_WRITE, Sys.MAP_PRIVATE | Sys.MAP_ANONYMOUS, -1, 0);
        try (Mirror mirror = Mirror.open(0)) {
            Sys.madvise(a, len, Sys.MADV_NOHUGEPAGE);
            PageMap.mbind(a, len, 1);
            Coherence.pattern(a, PAGES, 0x11);
            Sys.munmap(filler, fillerLen);
            filler = 0;
            // holes between the mirrored pages, so that their pageblocks are mostly free: compaction's
            // migration scanner empties such blocks by moving the pages still in them
            for (int i = 0; i < PAGES; i += KEEP_EVERY) {
                Sys.madvise(a + (i + 1) * Coherence.PAGE, (KEEP_EVERY - 1) * Coherence.PAGE, Sys.MADV_DONTNEED);
            }
            mirror.fault(a, PAGES, Access.READ);
            long[] before = Coherence.cpuPfns(mirror, a, PAGES);
            Path trigger = Files.exists(node.resolve("compact")) ? node.resolve("compact") : compact;
            Set<Reason> reasons;
            Set<Integer> moved = new HashSet<>();
            try (EventWatch w = EventWatch.start(mirror)) {
                Machinery.write(trigger, "1");
                w.close();
                long[] after = Coherence.cpuPfns(mirror, a, PAGES);
                for (int i = 0; i < PAGES; i++) {
                    if (before[i] != after[i]) {
                        moved.add(i);
                    }
                }
                Set<Integer> missed = w.uncovered(a, PAGES);
                missed.retainAll(moved);
                assertEquals(Set.of(), missed, "pages compaction moved without an invalidation (dropped: "
                        + w.dropped() + ")");
                reasons = w.reasons(a, a + PAGES * Coherence.PAGE);
            }
            Coherence.assertDeviceDropped(mirror, a, PAGES, moved);
            byte[] expected = Coherence.expected(PAGES, 0x11);
            for (int i = 0; i < PAGES; i++) {
                if (i % KEEP_EVERY != 0) {
                    java.util.Arrays.fill(expected, (int) (i * Coherence.PAGE), (int) ((i + 1) * Coherence.PAGE),
                            (byte) 0);
                }
            }
            Coherence.assertDeviceFollows(mirror, a, PAGES, expected);
            MmReport.record("compaction: compact_memory", moved.isEmpty() ? Set.of() : reasons,
                    "pass: " + moved.size() + "/" + PAGES / KEEP_EVERY + " mirrored pages moved, device follows");
        } finally {
            Sys.munmap(a, len);
            if (filler != 0) {
                Sys.munmap(filler, fillerLen);
            }
        }
    }

    private static long freeKb(Path node) {
        return Machinery.read(node.resolve("meminfo")).lines().filter(l -> l.contains("MemFree:"))
                .mapToLong(l -> Long.parseLong(l.replaceAll(".*MemFree:\\s*(\\d+).*", "$1"))).findFirst()
                .orElseThrow();
    }
}
