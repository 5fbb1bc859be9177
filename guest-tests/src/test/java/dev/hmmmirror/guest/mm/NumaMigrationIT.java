package dev.hmmmirror.guest.mm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hmmmirror.Access;
import dev.hmmmirror.Invalidation.Reason;
import dev.hmmmirror.Memory;
import dev.hmmmirror.Mirror;
import dev.hmmmirror.explorer.sys.Kernel;
import dev.hmmmirror.junit.GuestTest;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongConsumer;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * NUMA migration: the kernel moves mirrored pages to the other node (a new physical page each),
 * invalidates the device first, and the device then maps the new page, never the old one.
 * Automatic NUMA balancing is held off meanwhile ({@link Kernel#keepNumaBalancingOff()}): its
 * scanner would move and hide pages at moments of its own.
 */
@GuestTest
class NumaMigrationIT {
    private static final int PAGES = 16;
    private static final Path NUMA_BALANCING = Path.of("/proc/sys/kernel/numa_balancing");
    private Kernel.NumaBalancingHold balancing;
    private Mirror mirror;

    @BeforeEach
    void open() throws Exception {
        Machinery.requireTwoNodes();
        balancing = Kernel.keepNumaBalancingOff();
        mirror = Mirror.open(0);
    }

    @AfterEach
    void close() throws Exception {
        try {
            if (mirror != null) {
                mirror.close();
            }
        } finally {
            if (balancing != null) {
                balancing.close();
            }
        }
    }

    /**
     * The node query ({@code move_pages(2)} without target nodes, {@link PageMap#nodes}) finds
     * present pages whose PTEs are {@code PROT_NONE} on their node, as NUMA balancing's hinting
     * PTEs are: 6.1's kernel itself answers {@code -ENOENT} for them (every page of a range its
     * scanner had just passed over, in the December 2026 NumaMigrationIT failures), so the query
     * reads their frames' node there.
     */
    @Test
    void theNodeQueryFindsPagesWhosePtesAreProtNone() throws Exception {
        try (Memory mem = Memory.anonymous(PAGES)) {
            long a = mem.address();
            Coherence.pattern(a, PAGES, 0x31);
            int target = other(PageMap.nodes(a, PAGES)[0]);
            int[] status = PageMap.movePages(a, PAGES, target);
            assertTrue(Arrays.stream(status).allMatch(s -> s == target), "move_pages status " + Arrays.toString(status));
            Sys.mprotect(a, PAGES * Coherence.PAGE, Sys.PROT_NONE);
            try {
                int[] nodes = PageMap.nodes(a, PAGES);
                assertTrue(Arrays.stream(nodes).allMatch(n -> n == target), "every page of the PROT_NONE range is "
                        + "present on node " + target + ": " + Arrays.toString(nodes) + " (pagemap: "
                        + PageMap.present(a, PAGES) + " present)");
            } finally {
                Sys.mprotect(a, PAGES * Coherence.PAGE, Sys.PROT_READ | Sys.PROT_WRITE);
            }
            assertTrue(Arrays.stream(PageMap.nodes(a, PAGES)).allMatch(n -> n == target), "accessible again");
        }
    }

    /** The hold turns a running NUMA balancer off and gives its old mode back, whatever the boot line said. */
    @Test
    void numaBalancingIsHeldOffAndGivenBack() throws Exception {
        Assumptions.assumeTrue(Files.isWritable(NUMA_BALANCING), "the kernel has no NUMA balancing to turn on");
        String boot = Files.readString(NUMA_BALANCING).strip();
        assertEquals("0", boot, "off while this test runs (held by open())");
        // the value from before this class's hold: what every later test of the guest must find again
        String original = balancing.held() ? balancing.old() : boot;
        balancing.close();
        balancing = null;
        try {
            Files.writeString(NUMA_BALANCING, "1");
            try (Kernel.NumaBalancingHold h = Kernel.keepNumaBalancingOff()) {
                assertTrue(h.held());
                assertEquals("0", Files.readString(NUMA_BALANCING).strip());
            }
            assertEquals("1", Files.readString(NUMA_BALANCING).strip(), "given back");
        } finally {
            // as it was before this test: re-holding the "1" written above left balancing on for every
            // later test of the guest (close() gave the "1" back), whose snapshots then saw PROT_NONE
            // entries as no pages (CopyOnWriteIT and NumaStepIT on bookworm, when they ran after this)
            Files.writeString(NUMA_BALANCING, original);
            balancing = Kernel.keepNumaBalancingOff();
        }
        assertEquals(original.equals("0") ? null : original, balancing.old(),
                "closing the class's hold after this test gives back the value from before it");
    }

    @Test
    void movePagesMovesMirroredPagesAndTheDeviceFollows() throws Exception {
        migrate("NUMA: move_pages(2)", (a) -> {
            int target = other(PageMap.nodes(a, PAGES)[0]);
            int[] status = PageMap.movePages(a, PAGES, target);
            assertTrue(Arrays.stream(status).allMatch(s -> s == target), "move_pages status " + Arrays.toString(status));
            return target;
        });
    }

    @Test
    void mbindMovesMirroredPagesAndTheDeviceFollows() throws Exception {
        migrate("NUMA: mbind(MPOL_MF_MOVE)", (a) -> {
            int target = other(PageMap.nodes(a, PAGES)[0]);
            PageMap.mbind(a, PAGES * Coherence.PAGE, target);
            return target;
        });
    }

    /**
     * {@code migrate_pages(2)} moves every page of the process on a node. The JVM's own pages are
     * moved off node 0 first (tens of thousands of invalidations, far more than the event ring
     * holds, none of them ours), so that the measured call moves little besides the mirrored range.
     */
    @Test
    void migratePagesMovesTheWholeProcessWithItsMirroredPages() throws Exception {
        PageMap.migrateProcess(0, 1);
        try {
            migrate("NUMA: migrate_pages(2)", (a) -> {
                int from = PageMap.nodes(a, PAGES)[0];
                PageMap.migrateProcess(from, other(from));
                return other(from);
            });
        } finally {
            // node 1 back to nearly empty for the tests after this one (CompactionIT places its range there)
            PageMap.migrateProcess(1, 0);
        }
    }

    interface Move {
        int apply(long address) throws Exception;
    }

    private void migrate(String event, Move move) throws Exception {
        try (Memory mem = Memory.anonymous(PAGES)) {
            long a = mem.address();
            Coherence.pattern(a, PAGES, 0x30);
            mirror.fault(mem, Access.WRITE);
            Coherence.assertDeviceMapsAll(mirror, a, PAGES);
            long[] before = Coherence.cpuPfns(mirror, a, PAGES);
            int target;
            Set<Reason> reasons;
            try (EventWatch w = EventWatch.start(mirror)) {
                target = move.apply(a);
                w.close();
                assertEquals(Set.of(), w.uncovered(a, PAGES), "pages migrated without an invalidation (dropped: "
                        + w.dropped() + ")");
                reasons = w.reasons(a, a + PAGES * Coherence.PAGE);
            }
            int[] nodes = PageMap.nodes(a, PAGES);
            assertTrue(Arrays.stream(nodes).allMatch(n -> n == target),
                    "every page must be on node " + target + " now: " + Arrays.toString(nodes));
            long[] after = Coherence.cpuPfns(mirror, a, PAGES);
            for (int i = 0; i < PAGES; i++) {
                assertNotEquals(before[i], after[i], "page " + i + " changed node but kept its page frame");
            }
            Coherence.assertDeviceDropped(mirror, a, PAGES, IntStream.range(0, PAGES).boxed().collect(Collectors.toSet()));
            Coherence.assertDeviceFollows(mirror, a, PAGES, Coherence.expected(PAGES, 0x30));
            MmReport.record(event, reasons, "pass: " + PAGES + " pages to node " + target
                    + ", device maps the new pages");
        }
    }

    private static int other(int node) {
        return node == 0 ? 1 : 0;
    }

    /**
     * A device reader reads the pages in a loop while the CPU writes a new generation into them
     * and the kernel migrates them between the nodes: each 64-bit word the device reads holds a
     * generation at least as new as the last one completely written before the read began and
     * no newer than the last one begun (never a stale page left behind by a migration).
     */
    @Test
    void deviceReaderNeverSeesAStalePageWhileTheKernelMigrates() throws Exception {
        int rounds = 12;
        try (Memory mem = Memory.anonymous(PAGES)) {
            long a = mem.address();
            MemorySegment cpu = MemorySegment.ofAddress(a).reinterpret(PAGES * Coherence.PAGE);
            AtomicLong begun = new AtomicLong(0), done = new AtomicLong(0);
            LongConsumer writeGen = g -> {
                begun.set(g);
                for (long off = 0; off < cpu.byteSize(); off += 8) {
                    cpu.set(ValueLayout.JAVA_LONG, off, g);
                }
                done.set(g);
            };
            writeGen.accept(1);
            mirror.fault(mem, Access.READ);
            AtomicReference<String> bad = new AtomicReference<>();
            AtomicLong reads = new AtomicLong();
            Thread reader = Thread.ofPlatform().name("device-reader").start(() -> {
                try {
                    while (bad.get() == null && done.get() < rounds + 1) {
                        long lo = done.get();
                        MemorySegment got = MemorySegment.ofArray(mirror.read(a, PAGES));
                        long hi = begun.get();
                        for (long off = 0; off < got.byteSize(); off += 8) {
                            long v = got.get(ValueLayout.JAVA_LONG_UNALIGNED, off);
                            if (v < lo || v > hi) {
                                bad.set("word at +" + off + " read " + v + ", expected a generation in [" + lo + ", "
                                        + hi + "]");
                                break;
                            }
                        }
                        reads.incrementAndGet();
                    }
                } catch (Exception e) {
                    bad.set(e.toString());
                }
            });
            int node = PageMap.nodes(a, 1)[0];
            for (int r = 2; r <= rounds + 1; r++) {
                node = other(node);
                PageMap.movePages(a, PAGES, node);
                writeGen.accept(r);
            }
            reader.join(120_000);
            assertEquals(null, bad.get());
            assertTrue(reads.get() >= 2, "the reader must have overlapped the migrations: " + reads.get() + " reads");
            Coherence.assertDeviceFollows(mirror, a, PAGES, Coherence.cpuBytes(a, PAGES));
            MmReport.record("NUMA: migration under a device reader", Set.of(), "pass: " + rounds + " migrations, "
                    + reads.get() + " device reads, none stale");
        }
    }
}
