package dev.hmmmirror.guest.explore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.hmmmirror.Access;
import dev.hmmmirror.explorer.action.World;
import dev.hmmmirror.explorer.engine.Violation;
import dev.hmmmirror.explorer.model.Kind;
import dev.hmmmirror.explorer.sys.Kernel;
import dev.hmmmirror.guest.HugetlbPool;
import dev.hmmmirror.guest.ModuleReload;
import dev.hmmmirror.junit.GuestTest;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The explorer's NUMA step ({@code move_pages(2)} to the other node): the pages really move, the
 * devices follow, and a module that does not report the invalidations of the move is caught.
 */
@GuestTest
class NumaStepIT {

    /** The explorer's World reserves huge pages for its hugetlb regions: given back after each test. */
    private HugetlbPool pool;

    @BeforeEach
    void keepTheHugetlbPool() throws IOException {
        pool = HugetlbPool.keep();
    }

    @AfterEach
    void giveTheHugetlbPoolBack() throws IOException {
        pool.close();
    }
    private static final int PAGES = 8;

    private static void assumeTwoNodes() {
        assumeTrue(Kernel.memoryNodes() >= 2, "the guest has " + Kernel.memoryNodes()
                + " memory node(s): move_pages needs two");
    }

    /** Maps 8 anonymous pages, writes them and lets mirrors 0 and 2 (device 1 where there are two) map them. */
    private static void mirrored(World w) throws Exception {
        w.map(0, Kind.ANONYMOUS, PAGES);
        for (int p = 0; p < PAGES; p++) {
            w.cpuWrite(0, p, p, 0x1000L + p);
        }
        w.fault(0, 0, 0, PAGES, Access.READ);
        w.fault(2, 0, 0, PAGES, Access.WRITE);
    }

    private static int[] nodes(World w) {
        long[] a = new long[PAGES];
        for (int p = 0; p < PAGES; p++) {
            a[p] = w.address(0, p);
        }
        return Kernel.movePages(a, -1);
    }

    @Test
    void movedPagesAreFollowedByTheDevices() throws Exception {
        assumeTwoNodes();
        try (World w = World.open()) {
            mirrored(w);
            int[] before = nodes(w);
            assertTrue(w.movePages(0, 0, PAGES), "the step did something");
            int[] after = nodes(w);
            List<String> moved = new ArrayList<>();
            for (int p = 0; p < PAGES; p++) {
                assertTrue(after[p] >= 0 && after[p] != before[p], "page " + p + " moved from node " + before[p]
                        + " (now " + after[p] + ")");
                moved.add(p + ": " + before[p] + "->" + after[p]);
            }
            assertEquals(PAGES, moved.size(), moved.toString());
            // the devices map the new pages: the model's reads and checks pass through both mirrors
            assertTrue(w.deviceRead(0, 0, 0, PAGES));
            assertTrue(w.deviceRead(2, 0, 0, PAGES));
            assertTrue(w.movePages(0, 2, 3), "and back, part of the range");
        }
    }

    /** With planted bug 2 (every second invalidation that removed entries goes unreported) the step fails. */
    @Test
    void aMoveWhoseInvalidationsGoUnreportedFailsTheStep() throws Exception {
        assumeTwoNodes();
        assumeTrue(ModuleReload.possible(), "the module file " + ModuleReload.MODULE
                + " is not in this guest: cannot reload it");
        ModuleReload.plantBug(2);
        try (World w = World.open()) {
            mirrored(w);
            Violation v = assertThrows(Violation.class, () -> w.movePages(0, 0, PAGES));
            assertEquals("invalidation-reported", v.invariant(), v.getMessage());
        } finally {
            ModuleReload.plantBug(0);
        }
    }
}
