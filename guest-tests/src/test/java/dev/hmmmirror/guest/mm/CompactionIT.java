package dev.hmmmirror.guest.mm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.hmmmirror.Access;
import dev.hmmmirror.Invalidation.Reason;
import dev.hmmmirror.Memory;
import dev.hmmmirror.Mirror;
import dev.hmmmirror.junit.GuestTest;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Compaction: {@code /proc/sys/vm/compact_memory} moves movable pages to make free memory
 * contiguous. Mirrored pages are movable (the mirror pins nothing); whichever the kernel moves, the
 * device must have been invalidated and must then map the new page. The range is placed where
 * compaction moves pages by {@link Triggers#placeForCompaction}.
 */
@GuestTest
class CompactionIT {
    private static final int PAGES = Triggers.COMPACT_PAGES;

    @Test
    void compactMemoryKeepsTheMirrorCoherent() throws Exception {
        try (Memory mem = Memory.anonymous(PAGES); Mirror mirror = Mirror.open(0)) {
            long a = mem.address();
            Triggers.placeForCompaction(a, mem.byteSize(), 0x11);
            mirror.fault(a, PAGES, Access.READ);
            long[] before = Coherence.cpuPfns(mirror, a, PAGES);
            Set<Reason> reasons;
            Set<Integer> moved = new HashSet<>();
            try (EventWatch w = EventWatch.start(mirror)) {
                Triggers.compact();
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
            Coherence.assertDeviceFollows(mirror, a, PAGES, Triggers.compactionExpected(PAGES, 0x11));
            MmReport.record("compaction: compact_memory", moved.isEmpty() ? Set.of() : reasons,
                    "pass: " + moved.size() + "/" + PAGES / Triggers.COMPACT_KEEP_EVERY
                            + " mirrored pages moved, device follows");
        }
    }
}
