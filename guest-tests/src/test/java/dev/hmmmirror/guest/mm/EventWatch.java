package dev.hmmmirror.guest.mm;

import dev.hmmmirror.HmmException;
import dev.hmmmirror.Invalidation;
import dev.hmmmirror.Mirror;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Collects a mirror's invalidation events while the kernel does something: a thread drains the
 * event ring the whole time (one JVM-wide operation such as reclaim or a process migration queues
 * far more events than the 1024-event ring holds), so the test sees every event that touched its
 * range, or knows that some were dropped.
 */
public final class EventWatch implements AutoCloseable {
    private final Mirror mirror;
    private final List<Invalidation> events = new ArrayList<>();
    private final long droppedBefore;
    private final Thread drainer;
    private volatile boolean stop;
    private volatile HmmException failure;

    private EventWatch(Mirror mirror) throws HmmException {
        this.mirror = mirror;
        mirror.invalidations(); // what came before is not ours
        this.droppedBefore = mirror.counters().eventsDropped();
        this.drainer = Thread.ofPlatform().daemon().name("hmm-event-drain").start(this::drain);
    }

    /** Starts collecting (events queued before this call are discarded). */
    public static EventWatch start(Mirror mirror) throws HmmException {
        return new EventWatch(mirror);
    }

    private void drain() {
        try {
            while (!stop) {
                List<Invalidation> got = mirror.invalidations(Duration.ofMillis(50));
                synchronized (events) {
                    events.addAll(got);
                }
            }
        } catch (HmmException e) {
            failure = e;
        }
    }

    /** Stops collecting; the events are read once more so that nothing queued is missed. */
    @Override
    public void close() throws HmmException {
        stop = true;
        try {
            drainer.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (failure != null) {
            throw failure;
        }
        synchronized (events) {
            events.addAll(mirror.invalidations());
        }
    }

    /** Events lost because the ring was full while collecting. */
    public long dropped() throws HmmException {
        return mirror.counters().eventsDropped() - droppedBefore;
    }

    /** The events overlapping {@code [from, to)}. */
    public List<Invalidation> overlapping(long from, long to) {
        synchronized (events) {
            return events.stream().filter(e -> e.overlaps(from, to)).toList();
        }
    }

    /** The reasons of the events overlapping {@code [from, to)}. */
    public Set<Invalidation.Reason> reasons(long from, long to) {
        Set<Invalidation.Reason> r = EnumSet.noneOf(Invalidation.Reason.class);
        overlapping(from, to).forEach(e -> r.add(e.reason()));
        return r;
    }

    /**
     * The pages of {@code [from, from + pages * PAGE)} (the system's page size) that no event overlapping the range
     * covered (empty when every page was invalidated).
     */
    public Set<Integer> uncovered(long from, int pages) {
        Set<Integer> missing = new TreeSet<>();
        List<Invalidation> ev = overlapping(from, from + pages * PageMap.PAGE);
        for (int i = 0; i < pages; i++) {
            long a = from + i * PageMap.PAGE;
            if (ev.stream().noneMatch(e -> e.start() <= a && e.end() >= a + PageMap.PAGE)) {
                missing.add(i);
            }
        }
        return missing;
    }
}
