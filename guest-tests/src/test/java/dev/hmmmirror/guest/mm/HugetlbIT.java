package dev.hmmmirror.guest.mm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hmmmirror.Access;
import dev.hmmmirror.Invalidation.Reason;
import dev.hmmmirror.Memory;
import dev.hmmmirror.Mirror;
import dev.hmmmirror.PageState;
import dev.hmmmirror.junit.GuestTest;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * hugetlbfs: a {@code MAP_HUGETLB} page of the default huge page size (2 MiB on x86-64, 32 MiB on
 * arm64-16k: {@link Memory#hugetlbPageSize()}) is mirrored whole, and munmap invalidates it.
 */
@GuestTest
class HugetlbIT {
    private static final long HUGE = Memory.hugetlbPageSize();
    private static final int PAGES = (int) (HUGE / Coherence.PAGE);

    @Test
    void hugetlbPageIsMirroredHugeAndMunmapInvalidatesIt() throws Exception {
        try (AutoCloseable pool = Machinery.requireHugetlbPages(1, HUGE)) {
            mirrorAndUnmap();
        }
    }

    private static void mirrorAndUnmap() throws Exception {
        long a = Sys.mmap(0, HUGE, Sys.PROT_READ | Sys.PROT_WRITE,
                Sys.MAP_PRIVATE | Sys.MAP_ANONYMOUS | Sys.MAP_HUGETLB, -1, 0);
        boolean mapped = true;
        try (Mirror mirror = Mirror.open(0)) {
            Coherence.pattern(a, PAGES, 0x0d);
            mirror.fault(a, PAGES, Access.WRITE);
            assertEquals(PAGES, mirror.snapshot(a, PAGES).count(PageState.HUGE), "the snapshot must show a huge page");
            Coherence.assertDeviceFollows(mirror, a, PAGES, 0x0d);
            var frames = mirror.pageFrames(a, PAGES);
            for (int i = 1; i < PAGES; i++) {
                assertEquals(frames.get(0).cpuPfn() + i, frames.get(i).cpuPfn(), "one contiguous " + (HUGE >> 20) + " MiB page");
            }
            Set<Reason> reasons;
            try (EventWatch w = EventWatch.start(mirror)) {
                Sys.munmap(a, HUGE);
                mapped = false;
                w.close();
                assertEquals(Set.of(), w.uncovered(a, PAGES), "munmap did not invalidate the huge page");
                reasons = w.reasons(a, a + HUGE);
            }
            assertTrue(mirror.snapshot(a, PAGES).all(PageState.INACCESSIBLE));
            assertEquals(0, mirror.snapshot(a, PAGES).count(PageState.DEVICE_READ));
            MmReport.record("hugetlbfs: huge page, munmap", reasons, "pass: mirrored huge, invalidated by munmap");
        } finally {
            if (mapped) {
                Sys.munmap(a, HUGE);
            }
        }
    }
}
