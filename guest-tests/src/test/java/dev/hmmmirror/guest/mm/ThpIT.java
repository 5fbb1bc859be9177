package dev.hmmmirror.guest.mm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.hmmmirror.Access;
import dev.hmmmirror.Invalidation.Reason;
import dev.hmmmirror.Memory;
import dev.hmmmirror.Mirror;
import dev.hmmmirror.PageState;
import dev.hmmmirror.junit.GuestTest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Transparent huge pages: khugepaged's collapse (or {@code MADV_COLLAPSE}) replaces the mirrored
 * small pages of a PMD range with one huge page; a partial mprotect or munmap splits a mirrored huge
 * page. The device is invalidated each time and, after re-faulting, maps what the CPU maps. The
 * sizes are the running kernel's: a PMD THP is {@code hpage_pmd_size} (2 MiB = 512 pages of 4 KiB on
 * x86-64, 32 MiB = 2048 pages of 16 KiB on arm64-16k).
 */
@GuestTest
class ThpIT {
    private static final long HUGE = Memory.hugePageSize();
    private static final int PAGES = (int) (HUGE / Coherence.PAGE);

    private static void requireThp() {
        assumeTrue(Files.exists(Path.of("/sys/kernel/mm/transparent_hugepage/enabled")),
                "the kernel lacks CONFIG_TRANSPARENT_HUGEPAGE");
    }

    @Test
    void collapseOfMirroredSmallPagesInvalidatesAndTheDeviceMapsTheHugePage() throws Exception {
        requireThp();
        long a = Sys.mmapAligned(HUGE, HUGE, 0);
        try (Mirror mirror = Mirror.open(0)) {
            Sys.madvise(a, HUGE, Sys.MADV_NOHUGEPAGE);
            Coherence.pattern(a, PAGES, 0x05);
            mirror.fault(a, PAGES, Access.READ);
            assertEquals(0, mirror.snapshot(a, PAGES).count(PageState.HUGE), "small pages expected first");
            Sys.madvise(a, HUGE, Sys.MADV_HUGEPAGE);
            String how;
            Set<Reason> reasons;
            try (EventWatch w = EventWatch.start(mirror)) {
                how = Triggers.collapse(mirror, a);
                w.close();
                assertEquals(PAGES, mirror.snapshot(a, PAGES).count(PageState.HUGE),
                        "the range must be one huge page after " + how);
                assertEquals(Set.of(), w.uncovered(a, PAGES), "collapsed without invalidating the device");
                reasons = w.reasons(a, a + HUGE);
            }
            assertEquals(0, mirror.snapshot(a, PAGES).count(PageState.DEVICE_READ),
                    "the device must not map the old small pages");
            Coherence.assertDeviceFollows(mirror, a, PAGES, 0x05);
            assertEquals(PAGES, mirror.snapshot(a, PAGES).count(PageState.HUGE), "re-faulted: still huge");
            MmReport.record("THP: collapse", reasons, "pass: " + how + ", device re-faulted the huge page");
        } finally {
            Sys.munmap(a, HUGE);
        }
    }

    @Test
    void partialMprotectSplitsAMirroredHugePage() throws Exception {
        split("THP: split by partial mprotect", (mem) -> {
            Sys.mprotect(mem.address() + 5 * Coherence.PAGE, Coherence.PAGE, Sys.PROT_READ);
            return -1;
        });
    }

    @Test
    void partialMunmapSplitsAMirroredHugePage() throws Exception {
        split("THP: split by partial munmap", (mem) -> {
            mem.unmap(PAGES - 1, 1);
            return PAGES - 1;
        });
    }

    interface Splitter {
        /** Splits; returns the page it unmapped, or -1. */
        int apply(Memory mem) throws Exception;
    }

    private void split(String event, Splitter splitter) throws Exception {
        requireThp();
        try (Mirror mirror = Mirror.open(0); Memory mem = Memory.hugeAnonymous(1)) {
            long a = mem.address();
            Coherence.pattern(a, PAGES, 0x09);
            assumeTrue(mirror.snapshot(a, 1).page(0).contains(PageState.HUGE),
                    "the kernel gave no huge page here (no free " + (HUGE >> 20) + " MiB block?)");
            mirror.fault(a, PAGES, Access.READ);
            assertEquals(PAGES, mirror.snapshot(a, PAGES).count(PageState.HUGE));
            int gone;
            Set<Reason> reasons;
            try (EventWatch w = EventWatch.start(mirror)) {
                gone = splitter.apply(mem);
                w.close();
                assertTrue(!w.overlapping(a, a + HUGE).isEmpty(), "split without invalidating the device");
                reasons = w.reasons(a, a + HUGE);
            }
            int keep = gone < 0 ? PAGES : gone;
            assertEquals(0, mirror.snapshot(a, keep).count(PageState.HUGE), "the huge mapping must be split");
            Coherence.assertDeviceFollows(mirror, a, keep, 0x09);
            assertEquals(0, mirror.snapshot(a, keep).count(PageState.HUGE), "re-faulted: small pages now");
            MmReport.record(event, reasons, "pass: device re-faulted the split pages");
        }
    }
}
