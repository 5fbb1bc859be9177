package dev.hmmmirror.guest.mm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hmmmirror.Access;
import dev.hmmmirror.Invalidation.Reason;
import dev.hmmmirror.Memory;
import dev.hmmmirror.Mirror;
import dev.hmmmirror.PageFrame;
import dev.hmmmirror.junit.GuestTest;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * KSM: two mirrored ranges with the same content are merged by ksmd into one write-protected
 * page; the device reads the merged page; a device write to one range breaks the merge (a
 * copy-on-write fault taken for the device) and only that range changes.
 */
@GuestTest
class KsmIT {
    private static final int PAGES = 8;

    @Test
    void ksmMergesMirroredPagesAndADeviceWriteBreaksTheMerge() throws Exception {
        Machinery.requireKsm();
        long len = PAGES * Coherence.PAGE;
        try (Mirror mirror = Mirror.open(0); Memory one = Memory.anonymous(PAGES); Memory two = Memory.anonymous(PAGES)) {
            long a = one.address(), b = two.address();
            Coherence.pattern(a, PAGES, 0x71);
            Coherence.pattern(b, PAGES, 0x71);
            mirror.fault(one, Access.WRITE);
            mirror.fault(two, Access.WRITE);
            Set<Reason> reasons = EnumSet.noneOf(Reason.class);
            try (EventWatch w = EventWatch.start(mirror)) {
                boolean merged = Triggers.ksmMerge(mirror, a, b, PAGES);
                w.close();
                assertTrue(merged, "ksmd did not merge the two ranges within 120 s: "
                        + mirror.pageFrames(a, PAGES) + " / " + mirror.pageFrames(b, PAGES));
                assertEquals(Set.of(), w.uncovered(a, PAGES), "range one merged without an invalidation");
                assertEquals(Set.of(), w.uncovered(b, PAGES), "range two merged without an invalidation");
                reasons.addAll(w.reasons(a, a + len));
                reasons.addAll(w.reasons(b, b + len));
            }
            byte[] expected = Coherence.expected(PAGES, 0x71);
            assertArrayEquals(expected, mirror.read(a, PAGES));
            assertArrayEquals(expected, mirror.read(b, PAGES));
            mirror.fault(a, PAGES, Access.READ);
            mirror.fault(b, PAGES, Access.READ);
            List<PageFrame> fa = mirror.pageFrames(a, PAGES), fb = mirror.pageFrames(b, PAGES);
            for (int i = 0; i < PAGES; i++) {
                assertEquals(fa.get(i).cpuPfn(), fb.get(i).devicePfn(), "the device must map the merged page");
                assertTrue(fa.get(i).coherent() && fb.get(i).coherent(), fa.get(i) + " / " + fb.get(i));
            }
            // a device write to page 0 of range one breaks that merge only
            byte[] page = new byte[(int) Coherence.PAGE];
            java.util.Arrays.fill(page, (byte) 0x5e);
            mirror.write(a, page);
            assertArrayEquals(page, Coherence.cpuBytes(a, 1), "the CPU must see the device's write");
            assertArrayEquals(expected, Coherence.cpuBytes(b, PAGES), "range two must be unchanged");
            assertArrayEquals(expected, mirror.read(b, PAGES));
            List<PageFrame> after = mirror.pageFrames(a, 1);
            assertNotEquals(fb.get(0).cpuPfn(), after.get(0).cpuPfn(), "the write must have broken the merge");
            MmReport.record("KSM: merge, then device write", reasons, "pass: " + PAGES
                    + " pages merged, device write broke one merge");
        }
    }
}
