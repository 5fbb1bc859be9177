package dev.hmmmirror.guest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hmmmirror.Access;
import dev.hmmmirror.Capability;
import dev.hmmmirror.CopyOnWriteChild;
import dev.hmmmirror.Counters;
import dev.hmmmirror.Errno;
import dev.hmmmirror.HmmException;
import dev.hmmmirror.Invalidation;
import dev.hmmmirror.Memory;
import dev.hmmmirror.Mirror;
import dev.hmmmirror.PageState;
import dev.hmmmirror.Snapshot;
import dev.hmmmirror.junit.GuestTest;
import dev.hmmmirror.raw.Abi;
import dev.hmmmirror.raw.Command;
import dev.hmmmirror.raw.RawDevice;
import dev.hmmmirror.raw.RawStruct;
import dev.hmmmirror.raw.Struct;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Event scopes ({@code HMM_MIRROR_IOC_EVENT_SCOPE}): a mirror scoped to ranges queues only the
 * invalidations that overlap them, so the JVM's own changes (a fork, munmaps and mprotects of other
 * memory) cannot fill its event ring, while every invalidation still reaches the device page table.
 */
@GuestTest
class EventScopeIT {
    private static final long PAGE = Memory.pageSize();
    /** {@code HMM_MIRROR_SCOPE_ADD} and {@code HMM_MIRROR_SCOPE_CLEAR} (LayoutProbeTest checks the values). */
    private static final long ADD = 1;
    private static final long CLEAR = 2;
    private Mirror mirror;

    @BeforeEach
    void open() throws Exception {
        mirror = Mirror.open(0);
        assertTrue(mirror.version().has(Capability.EVENT_SCOPE),
                "expected the module to report HMM_MIRROR_CAP_EVENT_SCOPE on every kernel");
    }

    @AfterEach
    void close() throws Exception {
        mirror.close();
    }

    /** Anonymous memory the CPU wrote and the device maps writable. */
    private Memory faulted(int pages) throws HmmException {
        Memory mem = Memory.anonymous(pages);
        mem.fill((byte) 0x3c);
        mirror.fault(mem, Access.WRITE);
        assertTrue(mirror.snapshot(mem).all(PageState.DEVICE_WRITE), "expected the device to map every page writable");
        return mem;
    }

    private List<Invalidation> eventsFor(long from, long to) throws HmmException {
        return mirror.invalidations().stream().filter(i -> i.overlaps(from, to)).toList();
    }

    private static boolean covers(Invalidation i, long from, long to) {
        return i.start() <= from && i.end() >= to;
    }

    /**
     * What the scope is for: unscoped, a fork of the JVM and 1200 mprotects of other memory overflow
     * the 1024-event ring (as InvalidationIT's overflow test shows); scoped, only the events of the
     * scoped range are queued, gapless, and nothing overflows.
     */
    @Test
    void aScopedMirrorQueuesOnlyWhatOverlapsItsRangeThroughAForkAndUnrelatedChanges() throws Exception {
        try (Memory scoped = faulted(8); Memory other = faulted(8)) {
            long a = scoped.address();
            long end = a + scoped.byteSize();
            mirror.scopeEvents(scoped);
            mirror.invalidations(); // what was queued before the scope
            Counters before = mirror.counters();

            try (CopyOnWriteChild child = CopyOnWriteChild.fork()) {
                assertTrue(child.pid() > 0, "expected a forked child");
            }
            for (int i = 0; i < 1200; i++) {
                other.protect(i % 2 == 0 ? Memory.Protection.READ : Memory.Protection.READ_WRITE);
            }
            for (int i = 0; i < 64; i++) {
                try (Memory m = Memory.anonymous(2)) {
                    m.fill((byte) i);
                }
            }
            other.adviseDontNeed(4, 4);
            other.unmap(0, 4);
            Snapshot afterFork = mirror.snapshot(scoped);
            assertTrue(afterFork.none(PageState.DEVICE_WRITE),
                    "expected the fork to have write-protected the scoped pages for the device too: " + afterFork);

            // inside the scope: the device maps the pages again, then the CPU drops and unmaps some
            mirror.fault(scoped, Access.READ);
            scoped.adviseDontNeed(0, 2);
            scoped.unmap(6, 2);
            Counters after = mirror.counters();
            List<Invalidation> ev = mirror.invalidations();

            for (Invalidation i : ev) {
                assertTrue(i.overlaps(a, end), "expected only events overlapping the scope [0x" + Long.toHexString(a)
                        + ", 0x" + Long.toHexString(end) + "), got " + i + " among " + ev);
                assertFalse(i.afterOverflow(),
                        "expected no overflow flag (the scope kept the ring from filling): " + ev);
            }
            assertEquals(before.eventsDropped(), after.eventsDropped(),
                    "expected no event dropped for a full ring while scoped: " + after);
            assertTrue(after.invalidations() - before.invalidations() >= 1200,
                    "expected the filtered invalidations to be received and counted all the same: " + before + " -> "
                            + after);
            assertTrue(ev.stream().anyMatch(i -> covers(i, a, end)),
                    "expected the fork's write protection of the scoped pages as an event covering them: " + ev);
            assertTrue(ev.stream().anyMatch(i -> i.reason() == Invalidation.Reason.CLEAR && i.pages() == 2
                    && covers(i, a, a + 2 * PAGE)),
                    "expected MADV_DONTNEED of pages 0-1 as a CLEAR event covering them that removed 2 device entries: "
                            + ev);
            assertTrue(ev.stream().anyMatch(i -> i.reason() == Invalidation.Reason.UNMAP && i.pages() == 2
                    && covers(i, a + 6 * PAGE, end)), "expected munmap of pages 6-7 as an UNMAP event covering them "
                    + "that removed 2 device entries: " + ev);
            for (int i = 1; i < ev.size(); i++) {
                assertEquals(ev.get(i - 1).seq() + 1, ev.get(i).seq(),
                        "expected consecutive sequence numbers (filtered invalidations take none): " + ev);
            }
        }
    }

    @Test
    void anInvalidationOutsideTheScopeStillInvalidatesTheDeviceButQueuesNoEvent() throws Exception {
        try (Memory scoped = faulted(4); Memory outside = faulted(4)) {
            long o = outside.address();
            mirror.scopeEvents(scoped);
            mirror.invalidations();
            Counters before = mirror.counters();

            outside.adviseDontNeed(0, 2);
            Snapshot s = mirror.snapshot(outside);
            assertTrue(!s.page(0).contains(PageState.DEVICE_READ) && !s.page(1).contains(PageState.DEVICE_READ),
                    "expected MADV_DONTNEED outside the scope to remove the device's entries of pages 0-1: " + s);
            assertTrue(s.page(2).contains(PageState.DEVICE_WRITE) && s.page(3).contains(PageState.DEVICE_WRITE),
                    "expected pages 2-3 still mapped by the device: " + s);
            assertArrayEquals(new byte[(int) PAGE], mirror.read(o, 1),
                    "expected the device to read the fresh zero-filled page, not the old contents");

            outside.unmap(2, 2);
            Snapshot gone = mirror.snapshot(o + 2 * PAGE, 2);
            assertTrue(gone.all(PageState.INACCESSIBLE) && gone.none(PageState.DEVICE_READ),
                    "expected munmap outside the scope to remove the device's entries of pages 2-3: " + gone);

            Counters after = mirror.counters();
            assertTrue(after.pagesInvalidated() - before.pagesInvalidated() >= 4,
                    "expected the 4 device entries outside the scope counted as invalidated: " + before + " -> "
                            + after);
            assertEquals(List.of(), eventsFor(o, o + 4 * PAGE),
                    "expected no event for invalidations outside the scope");
            assertTrue(mirror.snapshot(scoped).all(PageState.DEVICE_WRITE),
                    "expected the scoped range, which nothing changed, still mapped writable");
        }
    }

    @Test
    void clearEventScopeRecordsEverythingAgainAndScopeChangesKeepQueuedEvents() throws Exception {
        try (Memory scoped = faulted(2); Memory outside = faulted(4)) {
            long o = outside.address();
            mirror.invalidations();
            outside.adviseDontNeed(0, 1); // unscoped: queued
            mirror.scopeEvents(scoped);    // does not touch what is queued
            outside.adviseDontNeed(1, 1); // scoped out: not queued
            List<Invalidation> ev = eventsFor(o, o + 4 * PAGE);
            assertEquals(1, ev.size(), "expected the one event queued before the scope (page 0), none after it: " + ev);
            assertTrue(ev.getFirst().reason() == Invalidation.Reason.CLEAR && covers(ev.getFirst(), o, o + PAGE),
                    "expected the queued event to be the CLEAR of page 0: " + ev);

            mirror.clearEventScope();
            outside.adviseDontNeed(2, 1);
            mirror.clearEventScope(); // an empty scope clears as well
            outside.unmap(3, 1);
            ev = eventsFor(o, o + 4 * PAGE);
            assertTrue(ev.stream().anyMatch(i -> i.reason() == Invalidation.Reason.CLEAR && i.pages() == 1
                    && covers(i, o + 2 * PAGE, o + 3 * PAGE)),
                    "expected MADV_DONTNEED of page 2 recorded again after clearEventScope(): " + ev);
            assertTrue(ev.stream().anyMatch(i -> i.reason() == Invalidation.Reason.UNMAP && i.pages() == 1
                    && covers(i, o + 3 * PAGE, o + 4 * PAGE)),
                    "expected munmap of page 3 recorded again after clearEventScope(): " + ev);
            assertTrue(ev.stream().noneMatch(i -> i.overlaps(o + PAGE, o + 2 * PAGE)),
                    "expected no late event for page 1, which was dropped while scoped: " + ev);
        }
    }

    @Test
    void aSeventeenthRangeIsEnospcAndClearingMakesRoom() throws Exception {
        int n = Abi.SCOPE_RANGES;
        try (Memory mem = Memory.anonymous(2L * n + 2)) {
            mem.fill((byte) 1);
            for (int i = 0; i < n; i++) {
                mirror.scopeEvents(mem.pageAddress(2L * i), PAGE); // pages 0, 2, .. 30
            }
            long refused = mem.pageAddress(2L * n);
            HmmException e = assertThrows(HmmException.class, () -> mirror.scopeEvents(refused, PAGE),
                    "expected range " + (n + 1) + " to be refused");
            assertEquals(Errno.ENOSPC.number(), e.errno(),
                    "expected ENOSPC for range " + (n + 1) + ": " + e.getMessage());
            assertTrue(e.getMessage().contains("clearEventScope()"), "expected the hint to name clearEventScope(): "
                    + e.getMessage());

            mirror.invalidations();
            mem.adviseDontNeed(2L * n, 1);      // the refused range: not in the scope
            mem.adviseDontNeed(2L * (n - 1), 1); // the 16th range
            List<Invalidation> ev = eventsFor(mem.address(), mem.address() + mem.byteSize());
            assertTrue(ev.stream().noneMatch(i -> i.overlaps(refused, refused + PAGE)),
                    "expected the refused range left out of the scope: " + ev);
            assertTrue(ev.stream().anyMatch(i -> i.overlaps(mem.pageAddress(2L * (n - 1)), refused)),
                    "expected the 16th range in the scope: " + ev);

            mirror.clearEventScope();
            mirror.scopeEvents(refused, PAGE); // room again
            mem.setByte(2L * n * PAGE, (byte) 4);
            mem.adviseDontNeed(2L * n, 1);
            assertEquals(1, eventsFor(refused, refused + PAGE).size(),
                    "expected the range added after clearEventScope() to be in the scope");
        }
    }

    @Test
    void unalignedEmptyAndOutOfRangeScopesAreEinvalAndChangeNothing() throws Exception {
        try (Memory mem = Memory.anonymous(2)) {
            mem.fill((byte) 2);
            long a = mem.address();
            long[][] bad = {
                {a + 8, PAGE},           // unaligned start
                {a, PAGE + 1},           // unaligned end
                {a, 0},                  // end == start
                {a + PAGE, -PAGE},       // end < start
                {0xffff_8000_0000_0000L, PAGE}, // past TASK_SIZE
                {-PAGE, 2 * PAGE},       // end wraps past the top of the address space
            };
            for (long[] r : bad) {
                HmmException e = assertThrows(HmmException.class, () -> mirror.scopeEvents(r[0], r[1]),
                        "expected scopeEvents(0x" + Long.toHexString(r[0]) + ", " + r[1] + ") to be refused");
                assertEquals(Errno.EINVAL.number(), e.errno(), "expected EINVAL for scopeEvents(0x"
                        + Long.toHexString(r[0]) + ", " + r[1] + "): " + e.getMessage());
            }
            // nothing was scoped: an invalidation anywhere is still recorded
            try (Memory elsewhere = Memory.anonymous(1)) {
                elsewhere.fill((byte) 3);
                mirror.invalidations();
                elsewhere.adviseDontNeed(0, 1);
                assertEquals(1, eventsFor(elsewhere.address(), elsewhere.address() + PAGE).size(),
                        "expected the refused ranges to leave the scope empty, so that everything is recorded");
            }
        }
    }

    private static RawStruct scope(long flags, long start, long end) {
        return RawStruct.of(Struct.EVENT_SCOPE).set("flags", flags).set("start", start).set("end", end);
    }

    private static int errno(RawDevice device, RawStruct arg) {
        HmmException e = assertThrows(HmmException.class, () -> device.ioctl(Command.EVENT_SCOPE, arg),
                "expected HMM_MIRROR_IOC_EVENT_SCOPE to refuse " + arg);
        return e.errno();
    }

    @Test
    void rawReservedWordsFlagsSizeAndPointerAreChecked() throws Exception {
        try (RawDevice device = RawDevice.open("/dev/hmm_mirror0"); Memory mem = Memory.anonymous(1)) {
            long a = mem.address();
            long b = a + PAGE;
            int einval = Errno.EINVAL.number();
            assertEquals(0, device.ioctl(Command.EVENT_SCOPE, scope(ADD, a, b)), "expected a valid ADD to succeed");
            assertEquals(0, device.ioctl(Command.EVENT_SCOPE, scope(CLEAR, 0, 0)), "expected a valid CLEAR to succeed");

            assertEquals(einval, errno(device, scope(ADD, a, b).set("reserved", 0, 1L)),
                    "expected EINVAL for reserved[0] != 0");
            assertEquals(einval, errno(device, scope(ADD, a, b).set("reserved", 1, 1L << 63)),
                    "expected EINVAL for reserved[1] != 0");
            assertEquals(einval, errno(device, scope(0, a, b)), "expected EINVAL for neither flag");
            assertEquals(einval, errno(device, scope(ADD | CLEAR, a, b)), "expected EINVAL for both flags");
            assertEquals(einval, errno(device, scope(1L << 2, a, b)), "expected EINVAL for an unknown flag");
            assertEquals(einval, errno(device, scope(ADD | (1L << 31), a, b)),
                    "expected EINVAL for ADD with an unknown flag");
            assertEquals(einval, errno(device, scope(CLEAR, a, 0)), "expected EINVAL for CLEAR with a start");
            assertEquals(einval, errno(device, scope(CLEAR, 0, b)), "expected EINVAL for CLEAR with an end");
            assertEquals(einval, errno(device, scope(ADD, b, a)), "expected EINVAL for end < start");
            assertEquals(einval, errno(device, scope(ADD, a, a)), "expected EINVAL for end == start");
            assertEquals(einval, errno(device, scope(ADD, a, b).set("size", Struct.EVENT_SCOPE.byteSize() - 8)),
                    "expected EINVAL for a struct size the module does not know");
            HmmException e = assertThrows(HmmException.class, () -> device.ioctlAt(Command.EVENT_SCOPE, 0x30),
                    "expected a bad struct pointer to be refused");
            assertEquals(Errno.EFAULT.number(), e.errno(),
                    "expected EFAULT for a bad struct pointer: " + e.getMessage());
        }
    }
}
