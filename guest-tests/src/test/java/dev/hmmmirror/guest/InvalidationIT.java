package dev.hmmmirror.guest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.hmmmirror.Access;
import dev.hmmmirror.CopyOnWriteChild;
import dev.hmmmirror.Errno;
import dev.hmmmirror.HmmException;
import dev.hmmmirror.Invalidation;
import dev.hmmmirror.Memory;
import dev.hmmmirror.Mirror;
import dev.hmmmirror.PageState;
import dev.hmmmirror.Snapshot;
import dev.hmmmirror.junit.GuestTest;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The mmu notifier keeps the device page table coherent: every CPU change invalidates the device. */
@GuestTest
class InvalidationIT {
    private static final long PAGE = Memory.pageSize();
    private Mirror mirror;

    @BeforeEach
    void open() throws Exception {
        mirror = Mirror.open(0);
    }

    @AfterEach
    void close() throws Exception {
        mirror.close();
    }

    /** The events overlapping [from, to) among those received so far (the JVM causes others). */
    static List<Invalidation> eventsFor(Mirror m, long from, long to) throws HmmException {
        List<Invalidation> mine = new ArrayList<>();
        for (Invalidation i : m.invalidations()) {
            if (i.overlaps(from, to)) {
                mine.add(i);
            }
        }
        return mine;
    }

    private Memory faulted(int pages) throws HmmException {
        Memory mem = Memory.anonymous(pages);
        mem.fill((byte) 0x5a);
        mirror.fault(mem, Access.WRITE);
        mirror.invalidations(); // drop what came before
        assertTrue(mirror.snapshot(mem).all(PageState.DEVICE_WRITE));
        return mem;
    }

    @Test
    void munmapInvalidatesWithReasonUnmap() throws Exception {
        Memory mem = faulted(4);
        long a = mem.address();
        mem.unmap(0, 4);
        List<Invalidation> ev = eventsFor(mirror, a, a + 4 * PAGE);
        assertTrue(ev.stream().anyMatch(i -> i.reason() == Invalidation.Reason.UNMAP && i.pages() == 4
                && i.start() <= a && i.end() >= a + 4 * PAGE), ev.toString());
        assertTrue(mirror.snapshot(a, 4).all(PageState.INACCESSIBLE));
        assertTrue(mirror.snapshot(a, 4).none(PageState.DEVICE_READ));
    }

    @Test
    void mprotectInvalidatesWithReasonProtectionVma() throws Exception {
        try (Memory mem = faulted(4)) {
            mem.protect(Memory.Protection.READ);
            List<Invalidation> ev = eventsFor(mirror, mem.address(), mem.address() + 4 * PAGE);
            assertTrue(ev.stream().anyMatch(i -> i.reason() == Invalidation.Reason.PROTECTION_VMA && i.pages() == 4),
                    ev.toString());
            Snapshot s = mirror.snapshot(mem);
            assertTrue(s.none(PageState.DEVICE_READ) && s.all(PageState.CPU_READ) && s.none(PageState.CPU_WRITE),
                    s.toString());
        }
    }

    @Test
    void madviseDontNeedInvalidatesWithReasonClear() throws Exception {
        try (Memory mem = faulted(4)) {
            mem.adviseDontNeed(1, 2);
            List<Invalidation> ev = eventsFor(mirror, mem.address(), mem.address() + 4 * PAGE);
            assertTrue(ev.stream().anyMatch(i -> i.reason() == Invalidation.Reason.CLEAR && i.pages() == 2),
                    ev.toString());
            Snapshot s = mirror.snapshot(mem);
            assertTrue(s.page(0).contains(PageState.DEVICE_WRITE) && s.page(3).contains(PageState.DEVICE_WRITE), s.toString());
            assertFalse(s.page(1).contains(PageState.DEVICE_READ) || s.page(2).contains(PageState.DEVICE_READ), s.toString());
            // the device now sees the fresh zero-filled pages, not the old contents
            byte[] seen = mirror.read(mem.pageAddress(1), 1);
            assertArrayEquals(new byte[(int) PAGE], seen);
        }
    }

    @Test
    void forkThenWriteBreaksCopyOnWriteAndTheDeviceSeesTheNewPage() throws Exception {
        try (Memory mem = faulted(1)) {
            mem.setLong(0, 0x1111L);
            try (CopyOnWriteChild child = CopyOnWriteChild.fork()) {
                // fork write-protects the parent's pages: the device loses its writable mapping
                Snapshot afterFork = mirror.snapshot(mem);
                assertTrue(afterFork.none(PageState.DEVICE_WRITE), afterFork.toString());
                mirror.fault(mem, Access.READ);
                mirror.invalidations();
                mem.setLong(0, 0x2222L); // CPU write: copy-on-write break
                List<Invalidation> ev = eventsFor(mirror, mem.address(), mem.address() + PAGE);
                assertFalse(ev.isEmpty(), "the COW break must invalidate the device's mapping of the old page");
                assertTrue(mirror.snapshot(mem).none(PageState.DEVICE_READ));
                byte[] seen = mirror.read(mem.address(), 1);
                assertEquals(0x2222L, java.lang.foreign.MemorySegment.ofArray(seen).get(ValueLayout.JAVA_LONG_UNALIGNED, 0),
                        "the device must see the parent's new page, not the page shared with child " + child.pid());
            }
        }
    }

    @Test
    void twoDevicesAndTwoMirrorsAreAllInvalidated() throws Exception {
        try (Mirror onDevice1 = Mirror.open(1); Mirror secondOnDevice0 = Mirror.open(0)) {
            Memory mem = Memory.anonymous(3);
            mem.fill((byte) 3);
            Mirror[] all = {mirror, onDevice1, secondOnDevice0};
            for (Mirror m : all) {
                m.fault(mem, Access.READ);
                m.invalidations();
            }
            long a = mem.address();
            mem.unmap(0, 3);
            for (Mirror m : all) {
                List<Invalidation> ev = eventsFor(m, a, a + 3 * PAGE);
                assertTrue(ev.stream().anyMatch(i -> i.reason() == Invalidation.Reason.UNMAP && i.pages() == 3),
                        m + ": " + ev);
                assertTrue(m.snapshot(a, 3).none(PageState.DEVICE_READ), m.toString());
            }
        }
    }

    @Test
    void concurrentMunmapNeverLetsTheDeviceReadStaleData() throws Exception {
        for (int round = 0; round < 40; round++) {
            long value = 0x5100_0000L + round;
            Memory mem = Memory.anonymous(1);
            mem.setLong(0, value);
            mirror.fault(mem, Access.READ);
            long a = mem.address();
            AtomicBoolean unmapped = new AtomicBoolean();
            AtomicReference<String> violation = new AtomicReference<>();
            AtomicLong reads = new AtomicLong();
            CompletableFuture<Void> reader = CompletableFuture.runAsync(() -> {
                while (violation.get() == null) {
                    boolean after = unmapped.get();
                    try {
                        byte[] b = mirror.read(a, 1);
                        reads.incrementAndGet();
                        long v = java.lang.foreign.MemorySegment.ofArray(b).get(ValueLayout.JAVA_LONG_UNALIGNED, 0);
                        if (after) {
                            violation.set("device read 0x" + Long.toHexString(v) + " after munmap returned");
                        } else if (v != value) {
                            violation.set("device read 0x" + Long.toHexString(v) + " instead of 0x" + Long.toHexString(value));
                        }
                    } catch (HmmException e) {
                        if (e.errno() != Errno.EFAULT.number()) {
                            violation.set("unexpected " + e.getMessage());
                        }
                        if (after) {
                            return;
                        }
                    }
                }
            });
            Thread.sleep(2);
            mem.unmap(0, 1);
            unmapped.set(true);
            reader.get(60, TimeUnit.SECONDS);
            if (violation.get() != null) {
                fail("round " + round + ": " + violation.get());
            }
            assertTrue(reads.get() >= 0);
        }
    }

    @Test
    void slowDeviceDelaysMunmapByTheSetTime() throws Exception {
        Memory fast = faulted(2);
        long t0 = System.nanoTime();
        fast.unmap(0, 2);
        long fastNanos = System.nanoTime() - t0;

        mirror.setDeviceDelay(Duration.ofMillis(300));
        try {
            Memory slow = faulted(2);
            long t1 = System.nanoTime();
            slow.unmap(0, 2);
            long slowNanos = System.nanoTime() - t1;
            assertTrue(slowNanos >= TimeUnit.MILLISECONDS.toNanos(290),
                    "munmap returned after " + slowNanos / 1_000_000 + " ms; the device needs 300 ms per invalidation");
            assertTrue(slowNanos > fastNanos, "slow " + slowNanos + " ns vs fast " + fastNanos + " ns");
        } finally {
            mirror.setDeviceDelay(Duration.ZERO);
        }
    }

    @Test
    void invalidationsCanBeWaitedFor() throws Exception {
        try (Memory mem = faulted(1)) {
            CompletableFuture<List<Invalidation>> waiter = CompletableFuture.supplyAsync(() -> {
                try {
                    return mirror.invalidations(Duration.ofSeconds(60));
                } catch (HmmException e) {
                    throw new IllegalStateException(e);
                }
            });
            Thread.sleep(200);
            mem.adviseDontNeed(0, 1);
            List<Invalidation> got = waiter.get(60, TimeUnit.SECONDS);
            assertFalse(got.isEmpty());
        }
        // nothing pending and a zero timeout: returns at once, empty
        mirror.invalidations();
        long t0 = System.nanoTime();
        mirror.invalidations(Duration.ofMillis(50));
        assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(30));
    }

    @Test
    void eventRingOverflowIsCountedNeverSilent() throws Exception {
        long droppedBefore = mirror.counters().eventsDropped();
        mirror.invalidations();
        try (Memory mem = faulted(1)) {
            for (int i = 0; i < 1200; i++) {
                mem.protect(i % 2 == 0 ? Memory.Protection.READ : Memory.Protection.READ_WRITE);
            }
        }
        long dropped = mirror.counters().eventsDropped() - droppedBefore;
        assertTrue(dropped > 0, "1200 invalidations into a 1024-event ring must drop some");
        List<Invalidation> ev = mirror.invalidations();
        assertTrue(ev.getFirst().afterOverflow(), "the first event read after an overflow is flagged: " + ev.getFirst());
        for (int i = 1; i < ev.size(); i++) {
            assertEquals(ev.get(i - 1).seq() + 1, ev.get(i).seq(), "no gaps after the overflow point");
        }
    }

    @Test
    void closedMirrorRefusesUse() throws Exception {
        Mirror m = Mirror.open(1);
        m.close();
        m.close();
        assertThrows(IllegalStateException.class, m::counters);
    }
}
