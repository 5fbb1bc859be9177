package dev.hmmmirror.guest.mm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.hmmmirror.Access;
import dev.hmmmirror.Errno;
import dev.hmmmirror.HmmException;
import dev.hmmmirror.Invalidation.Reason;
import dev.hmmmirror.Mirror;
import dev.hmmmirror.PageState;
import dev.hmmmirror.junit.GuestTest;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * mremap: the page tables move to a new address. The old range is invalidated; the device reads
 * the data at the new address; with {@code MREMAP_DONTUNMAP} the old range stays mapped, empty.
 */
@GuestTest
class MremapIT {
    private static final int PAGES = 16;
    private static final long LEN = PAGES * Coherence.PAGE;

    @Test
    void mremapInvalidatesTheOldRangeAndTheDeviceReadsTheNewOne() throws Exception {
        run("mremap: MREMAP_MAYMOVE|FIXED", Sys.MREMAP_MAYMOVE | Sys.MREMAP_FIXED);
    }

    @Test
    void mremapDontUnmapLeavesTheOldRangeEmpty() throws Exception {
        run("mremap: MREMAP_DONTUNMAP", Sys.MREMAP_MAYMOVE | Sys.MREMAP_DONTUNMAP);
    }

    private void run(String event, int flags) throws Exception {
        boolean dontUnmap = (flags & Sys.MREMAP_DONTUNMAP) != 0;
        long old = Sys.mmap(0, LEN, Sys.PROT_READ | Sys.PROT_WRITE, Sys.MAP_PRIVATE | Sys.MAP_ANONYMOUS, -1, 0);
        long target = dontUnmap ? 0
                : Sys.mmap(0, LEN, Sys.PROT_READ | Sys.PROT_WRITE, Sys.MAP_PRIVATE | Sys.MAP_ANONYMOUS, -1, 0);
        long moved = 0;
        try (Mirror mirror = Mirror.open(0)) {
            Sys.madvise(old, LEN, Sys.MADV_NOHUGEPAGE);
            Coherence.pattern(old, PAGES, 0x51);
            mirror.fault(old, PAGES, Access.WRITE);
            Set<Reason> reasons;
            try (EventWatch w = EventWatch.start(mirror)) {
                moved = Sys.mremap(old, LEN, LEN, flags, target);
                w.close();
                assertEquals(Set.of(), w.uncovered(old, PAGES), "the old range was not invalidated");
                reasons = w.reasons(old, old + LEN);
            }
            assertEquals(0, mirror.snapshot(old, PAGES).count(PageState.DEVICE_READ), "the device still maps the old range");
            Coherence.assertDeviceFollows(mirror, moved, PAGES, Coherence.expected(PAGES, 0x51));
            if (dontUnmap) {
                assertArrayEquals(new byte[(int) LEN], mirror.read(old, PAGES),
                        "after MREMAP_DONTUNMAP the old range is mapped and empty");
            } else {
                HmmException e = assertThrows(HmmException.class, () -> mirror.read(old, PAGES));
                assertEquals(Errno.EFAULT.number(), e.errno(), e.getMessage());
            }
            MmReport.record(event, reasons, "pass: device reads the data at the new address");
        } finally {
            Sys.munmap(moved != 0 ? moved : target != 0 ? target : old, LEN);
            if (dontUnmap || moved == 0) {
                Sys.raw(Sys.MUNMAP, old, LEN);
            }
        }
    }
}
