package dev.hmmmirror.explorer.action;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.hmmmirror.explorer.model.Features;
import dev.hmmmirror.explorer.model.Kind;
import dev.hmmmirror.explorer.model.Model;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The RDMA steps ({@code --rdma}) leave the other kinds as they were: the same kinds, weights and
 * order with the flag off (so a seed draws the same programs as before the RDMA steps existed), and
 * with it on the three RDMA kinds after all of them.
 */
class KindsTest {
    /** The kinds of a guest with everything (rdma as given), as name:weight, in drawing order. */
    private static List<String> kinds(boolean rdma) {
        Features f = new Features(2, true, true, true, true, true, true, true, true, rdma, List.of(), Optional.empty());
        return Kinds.all(f).stream().map(k -> k.name() + ":" + k.weight()).toList();
    }

    /** The kinds before the RDMA steps (the list of commit 3111f9c), every feature on. */
    private static final List<String> BEFORE = List.of("map:3", "cpu-write:4", "cpu-read:3", "munmap:1", "mprotect:2",
            "madvise-dontneed:2", "madvise-pageout:1", "mremap:1", "fork-child-write:1", "device-fault:4",
            "device-read:5", "device-write:4", "migrate-to-device:3", "migrate-to-system:1", "make-exclusive:2",
            "atomic-add:2", "close-reopen:1", "device-delay:1", "move-pages:1", "compact:1");

    /** Drawn only where each device owns its memory: last, so the kinds before it keep their order. */
    private static final List<String> THP_WHOLE = List.of("map-thp:2", "migrate-thp-whole:3");

    @Test
    void withoutRdmaTheKindsAreThoseOfBeforeAndTheWholeThpMigrationLast() {
        List<String> expected = new ArrayList<>(BEFORE);
        expected.addAll(THP_WHOLE);
        assertEquals(expected, kinds(false));
    }

    @Test
    void withRdmaTheRdmaKindsComeLast() {
        List<String> expected = new ArrayList<>(BEFORE);
        expected.addAll(List.of("rdma-read:3", "rdma-write:3", "rdma-atomic:2"));
        expected.addAll(THP_WHOLE);
        assertEquals(expected, kinds(true));
    }

    /**
     * With one owner shared by the devices (every program before the second-owner phase) the whole-THP kind
     * never applies, so it takes no part in a draw: those programs are the same as before it existed.
     */
    @Test
    void theWholeThpMigrationAppliesOnlyToATHpRegionWithEachDeviceItsOwnOwner() {
        Features shared = new Features(2, true, true, true, true, true, true, true, true, false, List.of(),
                Optional.empty());
        for (boolean sharedOwner : new boolean[] {true, false}) {
            Features f = shared.withSharedOwner(sharedOwner);
            Model m = new Model(f, Model.devices(f));
            assertFalse(Kinds.thpWholeApplies(m), "no THP region yet");
            m.mapped(0, Kind.THP, 0x20_0000L, 512);
            assertEquals(!sharedOwner, Kinds.thpWholeApplies(m), "shared owner " + sharedOwner);
        }
    }

    @Test
    void rdmaStepsPrintAsWorldCalls() {
        assertEquals("w.rdmaRead(1, 2, 3);", new Steps.RdmaRead(1, 2, 3).java());
        assertEquals("w.rdmaWrite(0, 5, 16, 0xffL);", new Steps.RdmaWrite(0, 5, 16, 255).java());
        assertEquals("w.rdmaFetchAndAdd(3, 7, 511, 0x2aL);", new Steps.RdmaFetchAndAdd(3, 7, 511, 42).java());
    }
}
