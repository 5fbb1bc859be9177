package dev.hmmmirror.guest.rdma;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.hmmmirror.Access;
import dev.hmmmirror.Capability;
import dev.hmmmirror.Counters;
import dev.hmmmirror.Invalidation;
import dev.hmmmirror.Memory;
import dev.hmmmirror.Migration;
import dev.hmmmirror.Mirror;
import dev.hmmmirror.PageState;
import dev.hmmmirror.junit.GuestTest;
import dev.hmmmirror.rdma.LoopbackConnection;
import dev.hmmmirror.rdma.MemoryRegion;
import dev.hmmmirror.rdma.OdpOperation;
import dev.hmmmirror.rdma.RdmaDevice;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Two HMM mirrors on one page: our device ({@code /dev/hmm_mirror0}) and rxe's On-Demand Paging
 * region over the same {@link Memory}. Each faults pages in through {@code hmm_range_fault()} (or
 * takes them with {@code make_device_exclusive}) and each is invalidated through its own
 * {@code mmu_interval_notifier} when the other takes a page from it: our exclusive grant
 * invalidates rxe ({@code MMU_NOTIFY_EXCLUSIVE}), rxe's fault revokes our grant, and both see
 * what the CPU and the other wrote. Closing either mirror leaves the other coherent.
 *
 * <p>The CPU takes no part in the same-word atomics: rxe's atomics are atomic with respect to
 * the HCA's own ({@code IBV_ATOMIC_HCA}: a read-modify-write under rxe's lock on a page the CPU
 * still maps), not to CPU atomics, while ours go through a device-exclusive entry that the CPU
 * must revoke first. Skips, saying why, where the kernel has no rxe ODP (trixie 6.12, bookworm
 * 6.1) or no device-private memory.
 */
@GuestTest
class TwoMirrorsIT {
    private static final int PAGE = (int) Memory.pageSize();
    private static final int WORDS = PAGE / 8;
    private RdmaDevice device;
    private Mirror mirror;

    @BeforeEach
    void open() throws Exception {
        device = Rxe.openForOdp(OdpOperation.READ, OdpOperation.WRITE, OdpOperation.ATOMIC);
        assumeTrue(device.hasAtomics(), Rxe.DEVICE + " reports no atomics");
        mirror = Mirror.open(0);
        assumeTrue(mirror.version().has(Capability.EXCLUSIVE) && mirror.version().has(Capability.MIGRATE),
                "kernel " + System.getProperty("os.version") + " lacks CONFIG_DEVICE_PRIVATE: no device-exclusive "
                        + "access or device memory for our mirror");
    }

    @AfterEach
    void close() throws Exception {
        Rxe.close(mirror, device);
    }

    private static long[] words(byte[] page) {
        long[] w = new long[page.length / 8];
        ByteBuffer.wrap(page).order(ByteOrder.nativeOrder()).asLongBuffer().get(w);
        return w;
    }

    /**
     * Our device and rxe write alternate words of one page, taking turns: each of our atomics
     * takes the page device-exclusive (invalidating rxe's mapping), each rxe atomic faults it back
     * (revoking our grant). Every word lands; the CPU, an RDMA READ and our device's read all see
     * every word.
     */
    @Test
    void ourDeviceAndRxeWritingDisjointWordsOfOnePageBothLand() throws Exception {
        try (Memory target = Memory.anonymous(1); Memory local = Memory.anonymous(1)) {
            MemoryRegion odp = device.registerOnDemand(target);
            MemoryRegion result = device.registerPinned(local);
            LoopbackConnection c = device.connectLoopback();
            Counters before = mirror.counters();
            long[] expected = new long[WORDS];
            for (int k = 0; k < WORDS / 2; k++) {
                long ours = 0x1000_0000L + k;
                long theirs = 0x2000_0000L + k;
                assertEquals(0, mirror.atomicAdd(target.address() + 16L * k, ours), "our word " + 2 * k);
                assertEquals(0, c.fetchAndAdd(odp, 16L * k + 8, theirs, result, 0), "rxe's word " + (2 * k + 1));
                expected[2 * k] = ours;
                expected[2 * k + 1] = theirs;
            }
            Counters after = mirror.counters();
            // each of our atomics after an rxe one needed a new grant: rxe's fault revoked the last one
            assertEquals(WORDS / 2, after.exclusiveGrants() - before.exclusiveGrants(),
                    "one grant per turn: " + before + " -> " + after);
            assertTrue(after.exclusiveRevocations() - before.exclusiveRevocations() >= WORDS / 2 - 1,
                    "rxe revoked our grant on each turn: " + before + " -> " + after);

            assertArrayEquals(expected, words(target.bytes()), "the CPU sees both devices' words");
            local.write(0, new byte[PAGE]);
            c.read(result, 0, odp, 0, PAGE);
            assertArrayEquals(expected, words(local.bytes()), "an RDMA READ sees both");
            assertArrayEquals(expected, words(mirror.read(target.address(), 1)), "our device's read sees both");
        }
    }

    /**
     * The same, at once: our device, rxe and the CPU each add 1 to their own word of one page,
     * {@code n} times, from three threads; the page ping-pongs between our exclusive grant, rxe's
     * mapping and the CPU. No update to any word is lost.
     */
    @Test
    void concurrentWritesToDisjointWordsOfOnePageLoseNothing() throws Exception {
        int n = 400;
        try (Memory target = Memory.anonymous(1); Memory local = Memory.anonymous(1)) {
            MemoryRegion odp = device.registerOnDemand(target);
            MemoryRegion result = device.registerPinned(local);
            LoopbackConnection c = device.connectLoopback();
            long ourWord = 0;
            long rxeWord = 8 * 100;
            long cpuWord = 8 * 300;
            c.read(result, 0, odp, 0, 8); // warm up rxe (slow in a cold JVM: see the same-word test)
            runTogether(List.of(() -> {
                for (int i = 0; i < n; i++) {
                    mirror.atomicAdd(target.address() + ourWord, 1);
                }
                return null;
            }, () -> {
                for (int i = 0; i < n; i++) {
                    c.fetchAndAdd(odp, rxeWord, 1, result, 0);
                }
                return null;
            }, () -> {
                for (int i = 0; i < n; i++) {
                    target.getAndAddLong(cpuWord, 1);
                }
                return null;
            }));
            assertEquals(n, target.getLong(ourWord), "our device's word");
            assertEquals(n, target.getLong(rxeWord), "rxe's word");
            assertEquals(n, target.getLong(cpuWord), "the CPU's word");
            long[] w = words(target.bytes());
            w[0] = 0;
            w[100] = 0;
            w[300] = 0;
            assertArrayEquals(new long[WORDS], w, "no other word written");
        }
    }

    /**
     * Our device-exclusive atomics and rxe's fetch-and-add on the same word, from two threads:
     * rxe adds {@code n} times while our device adds for as long as rxe runs (ours are some 30
     * times faster: this way every rxe atomic meets our grant). The total is exact and the values
     * the additions returned are exactly {@code 0 .. total-1} (each saw a different predecessor:
     * none was lost or doubled); the page changed hands many times. Then, taking turns, each side
     * sees the other's last value and our device needs a new grant each turn.
     */
    @Test
    void ourExclusiveAtomicsAndRxeAtomicsOnTheSameWordLoseNoUpdate() throws Exception {
        int n = 50; // meanwhile ours: 390-860 additions, 45-50 handovers (a probe, TCG)
        try (Memory target = Memory.anonymous(1); Memory local = Memory.anonymous(1)) {
            MemoryRegion odp = device.registerOnDemand(target);
            MemoryRegion result = device.registerPinned(local);
            LoopbackConnection c = device.connectLoopback();
            long word = 8 * 17;
            List<Long> returned = new ArrayList<>();
            // warm up both paths: in a cold JVM rxe's first operations are slow (one stalled 3.7 s in a probe)
            returned.add(mirror.atomicAdd(target.address() + word, 1));
            returned.add(c.fetchAndAdd(odp, word, 1, result, 0));
            long grants0 = mirror.counters().exclusiveGrants();
            AtomicBoolean rxeDone = new AtomicBoolean();
            List<Long> ours = new ArrayList<>();
            long[] theirs = new long[n];
            runTogether(List.of(() -> {
                while (!rxeDone.get() && ours.size() < 1_000_000) {
                    ours.add(mirror.atomicAdd(target.address() + word, 1));
                }
                return null;
            }, () -> {
                try {
                    for (int i = 0; i < n; i++) {
                        theirs[i] = c.fetchAndAdd(odp, word, 1, result, 0);
                    }
                } finally {
                    rxeDone.set(true);
                }
                return null;
            }));
            returned.addAll(ours);
            LongStream.of(theirs).forEach(returned::add);
            long handovers = mirror.counters().exclusiveGrants() - grants0;
            long total = returned.size();
            assertEquals(total, target.getLong(word), "no update lost (" + ours.size() + " of ours, " + n
                    + " of rxe's, " + handovers + " handovers)");
            assertArrayEquals(LongStream.range(0, total).toArray(),
                    returned.stream().mapToLong(Long::longValue).sorted().toArray(),
                    "every addition saw a different predecessor");
            assertTrue(handovers >= 10, "the page changed hands while both added (" + handovers + " grants for "
                    + ours.size() + " of ours and " + n + " of rxe's)");

            // taking turns: every step sees the other device's result, and each of ours re-takes the page
            Counters before = mirror.counters();
            long v = total;
            int turns = 50;
            for (int i = 0; i < turns; i++) {
                assertEquals(v, mirror.atomicAdd(target.address() + word, 3), "ours after rxe's, turn " + i);
                assertEquals(v + 3, c.fetchAndAdd(odp, word, 5, result, 0), "rxe's after ours, turn " + i);
                v += 8;
            }
            assertEquals(v, target.getLong(word));
            assertEquals(turns, mirror.counters().exclusiveGrants() - before.exclusiveGrants(),
                    "rxe's fault revoked our grant every turn");
        }
    }

    /**
     * Our mirror closes while it holds page 0 device-exclusive, pages 1-2 in its device-private
     * memory and page 3 in its page table, all four also mapped by rxe (which our grant and
     * migration invalidated). Closing moves our device memory back ({@code MMU_NOTIFY_MIGRATE}
     * for rxe); afterwards rxe reads the data, then the CPU's new writes, atomics and writes land.
     */
    @Test
    void closingOurMirrorLeavesRxeCoherent() throws Exception {
        int pages = 4;
        try (Memory target = Memory.anonymous(pages); Memory local = Memory.anonymous(pages)) {
            target.write(0, RxeOdpIT.pattern(pages, 21));
            MemoryRegion odp = device.registerOnDemand(target);
            MemoryRegion buf = device.registerPinned(local);
            LoopbackConnection c = device.connectLoopback();
            c.read(buf, 0, odp, 0, pages * PAGE); // rxe maps all four
            mirror.fault(target, Access.READ);
            Migration m = mirror.migrateToDevice(target.address() + PAGE, 2);
            assertEquals(2, m.migrated(), m.toString());
            long old = target.getLong(8); // before our grant
            assertEquals(old, mirror.atomicAdd(target.address() + 8, 1000));
            var s = mirror.snapshot(target);
            assertTrue(s.page(0).contains(PageState.EXCLUSIVE) && s.page(1).contains(PageState.DEVICE_PRIVATE)
                    && s.page(2).contains(PageState.DEVICE_PRIVATE), "our mirror holds what it should: " + s);

            mirror.close();
            mirror = null;
            byte[] expected = RxeOdpIT.pattern(pages, 21);
            ByteBuffer.wrap(expected).order(ByteOrder.nativeOrder()).putLong(8, old + 1000);
            local.write(0, new byte[pages * PAGE]);
            c.read(buf, 0, odp, 0, pages * PAGE);
            assertArrayEquals(expected, local.bytes(), "rxe reads our atomic's result, the pages back from our "
                    + "device memory and the rest");

            target.write(0, RxeOdpIT.pattern(pages, 22));
            c.read(buf, 0, odp, 0, pages * PAGE);
            assertArrayEquals(RxeOdpIT.pattern(pages, 22), local.bytes(), "the CPU's new writes");
            target.adviseDontNeed(0, pages);
            target.write(0, RxeOdpIT.pattern(pages, 23));
            c.read(buf, 0, odp, 0, pages * PAGE);
            assertArrayEquals(RxeOdpIT.pattern(pages, 23), local.bytes(), "after MADV_DONTNEED: the new pages");
            long w = target.getLong(8);
            assertEquals(w, c.fetchAndAdd(odp, 8, 7, buf, 0));
            assertEquals(w + 7, target.getLong(8), "rxe's atomic on the word our grant held");
            local.write(0, RxeOdpIT.pattern(pages, 24));
            c.write(buf, 0, odp, 0, pages * PAGE);
            assertArrayEquals(RxeOdpIT.pattern(pages, 24), target.bytes(), "rxe's write lands where the CPU reads");
        }
    }

    /** rxe's region closes (deregistered alone): our mirror stays coherent. */
    @Test
    void closingTheRxeRegionLeavesOurMirrorCoherent() throws Exception {
        closingRxeLeavesOurMirrorCoherent(false);
    }

    /** rxe's device closes (region, queue pairs, protection domain and context): our mirror stays coherent. */
    @Test
    void closingTheRxeDeviceLeavesOurMirrorCoherent() throws Exception {
        closingRxeLeavesOurMirrorCoherent(true);
    }

    /**
     * Both mirrors map four pages (rxe through a read, ours through a fault) and hold the last one
     * by turns (rxe's atomic, our grant); then rxe's region or whole device closes. Our device then
     * reads the CPU's writes, gets the invalidations of MADV_DONTNEED for the range, and a new rxe
     * region over the same memory sees the current bytes.
     */
    private void closingRxeLeavesOurMirrorCoherent(boolean wholeDevice) throws Exception {
        int pages = 4;
        try (Memory target = Memory.anonymous(pages); Memory local = Memory.anonymous(pages)) {
            target.write(0, RxeOdpIT.pattern(pages, 31));
            MemoryRegion odp = device.registerOnDemand(target);
            MemoryRegion buf = device.registerPinned(local);
            LoopbackConnection c = device.connectLoopback();
            c.read(buf, 0, odp, 0, pages * PAGE);
            mirror.fault(target, Access.READ);
            long last = 3L * PAGE;
            long w = target.getLong(last);
            assertEquals(w, c.fetchAndAdd(odp, last, 1, buf, 0));
            assertEquals(w + 1, mirror.atomicAdd(target.address() + last, 1));
            assertEquals(w + 2, c.fetchAndAdd(odp, last, 1, buf, 0)); // rxe holds the page mapped last

            if (wholeDevice) {
                device.close();
                device = null;
            } else {
                odp.close();
            }
            byte[] expected = RxeOdpIT.pattern(pages, 31);
            ByteBuffer.wrap(expected).order(ByteOrder.nativeOrder()).putLong((int) last, w + 3);
            assertArrayEquals(expected, mirror.read(target.address(), pages), "our device reads both devices' result");

            target.write(0, RxeOdpIT.pattern(pages, 32));
            assertArrayEquals(RxeOdpIT.pattern(pages, 32), mirror.read(target.address(), pages),
                    "the CPU's new writes");
            mirror.invalidations(); // drain
            target.adviseDontNeed(0, pages);
            List<Invalidation> events = new ArrayList<>();
            for (Invalidation i : mirror.invalidations()) {
                if (i.overlaps(target.address(), target.address() + (long) pages * PAGE)) {
                    events.add(i);
                }
            }
            assertTrue(events.stream().anyMatch(i -> i.reason() == Invalidation.Reason.CLEAR
                    && i.start() <= target.address() && i.end() >= target.address() + (long) pages * PAGE),
                    "MADV_DONTNEED still invalidates our mirror over the whole range: " + events);
            target.write(0, RxeOdpIT.pattern(pages, 33));
            assertArrayEquals(RxeOdpIT.pattern(pages, 33), mirror.read(target.address(), pages),
                    "after MADV_DONTNEED: the new pages");
            long x = target.getLong(last + 8);
            assertEquals(x, mirror.atomicAdd(target.address() + last + 8, 5), "our grant works with rxe gone");
            assertEquals(x + 5, target.getLong(last + 8));

            // and a new rxe region over the same memory starts from the current bytes
            try (RdmaDevice again = RdmaDevice.open(Rxe.DEVICE)) {
                MemoryRegion odp2 = again.registerOnDemand(target);
                MemoryRegion buf2 = again.registerPinned(local);
                local.write(0, new byte[pages * PAGE]);
                again.connectLoopback().read(buf2, 0, odp2, 0, pages * PAGE);
                assertArrayEquals(target.bytes(), local.bytes(), "a new ODP region reads the current bytes");
            }
        }
    }

    /** Runs the tasks on their own threads at once; waits for all (10 min), then rethrows the first failure. */
    private static void runTogether(List<Callable<Void>> tasks) throws Exception {
        List<CompletableFuture<Void>> running = new ArrayList<>();
        java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
        for (Callable<Void> t : tasks) {
            running.add(CompletableFuture.runAsync(() -> {
                try {
                    go.await();
                    t.call();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }, r -> new Thread(r).start()));
        }
        go.countDown();
        // every task must stop before the memory is unmapped: a failed one must not leave another touching it
        for (CompletableFuture<Void> f : running) {
            f.handle((v, e) -> null).get(600, TimeUnit.SECONDS);
        }
        for (CompletableFuture<Void> f : running) {
            f.get();
        }
    }
}
