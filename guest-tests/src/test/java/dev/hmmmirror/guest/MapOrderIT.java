package dev.hmmmirror.guest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.hmmmirror.Capability;
import dev.hmmmirror.Memory;
import dev.hmmmirror.Mirror;
import dev.hmmmirror.PageState;
import dev.hmmmirror.Snapshot;
import dev.hmmmirror.junit.GuestTest;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The map order {@code hmm_range_fault()} reports per page ({@link Mirror#mapOrders}): what a driver maps as
 * one entry. A PMD-mapped THP must be reported with the PMD's order (the page and PMD sizes of the running
 * kernel: 9 with 4 KiB pages), base pages with 0; mutation campaign mutant 05 (pmd_to_hmm_pfn_flags) reports a
 * THP with half the PMD's order, which no page state shows (the explorer's {@code map-order} invariant).
 */
@GuestTest
class MapOrderIT {
    private static final int PAGE = (int) Memory.pageSize();
    private static final int HUGE = (int) (Memory.hugePageSize() / PAGE);
    private static final byte PMD_ORDER = (byte) Integer.numberOfTrailingZeros(HUGE);
    private Mirror mirror;

    @BeforeEach
    void open() throws Exception {
        mirror = Mirror.open(0);
        assumeTrue(mirror.version().has(Capability.MAP_ORDER), "the module cannot report map orders");
    }

    @AfterEach
    void close() throws Exception {
        mirror.close();
    }

    @Test
    void aPmdMappedThpIsReportedWithThePmdOrder() throws Exception {
        MirrorAccessIT.assumeThp();
        try (Memory m = Memory.hugeAnonymous(1)) {
            m.write(0, new byte[] {1});
            m.adviseCollapse(0, HUGE);
            Snapshot s = mirror.snapshot(m);
            assertTrue(s.all(PageState.HUGE), "one PMD maps the THP: " + s);
            byte[] want = new byte[HUGE];
            Arrays.fill(want, PMD_ORDER);
            assertArrayEquals(want, mirror.mapOrders(m.address(), HUGE), "the order of a " + HUGE * (PAGE / 1024)
                    + " KiB PMD over " + PAGE / 1024 + " KiB pages");
            // a range that starts inside the THP: its pages are still the PMD's
            assertArrayEquals(Arrays.copyOf(want, 8), mirror.mapOrders(m.address() + 100L * PAGE, 8));
        }
    }

    @Test
    void basePagesAndPagesNotThereAreReportedWithOrderZero() throws Exception {
        try (Memory m = Memory.anonymous(4)) {
            m.write(0, new byte[] {1});
            m.write(2 * PAGE, new byte[] {1});
            assertTrue(mirror.snapshot(m).page(0).contains(PageState.CPU_READ), mirror.snapshot(m).toString());
            assertArrayEquals(new byte[4], mirror.mapOrders(m.address(), 4), "pages 0 and 2 written, 1 and 3 not");
        }
    }

    @Test
    void aHugetlbPageIsReportedWithItsOwnOrder() throws Exception {
        try (HugetlbPool pool = HugetlbPool.reserve(1); Memory m = Memory.hugetlb(1)) {
            m.write(0, new byte[] {1});
            int pages = (int) m.pages();
            byte[] orders = mirror.mapOrders(m.address(), pages);
            byte want = (byte) Integer.numberOfTrailingZeros(pages);
            for (int p = 0; p < pages; p++) {
                assertEquals(want, orders[p], "page " + p + " of a " + pages + "-page hugetlb page (" + pool + ")");
            }
        }
    }
}
