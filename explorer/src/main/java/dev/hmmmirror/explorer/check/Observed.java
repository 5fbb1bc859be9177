package dev.hmmmirror.explorer.check;

import dev.hmmmirror.Counters;
import dev.hmmmirror.Invalidation;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * What the checks remember between steps: per mirror, the next event sequence number, the last
 * counters and this step's events; and what the step asked the invariants to check of it (the
 * pages whose invalidation it must have caused).
 */
public final class Observed {
    private final long[] nextSeq;
    private final Counters[] last;
    private final List<List<Invalidation>> events = new ArrayList<>();
    private final boolean[] overflowed;
    private final List<Required> required = new ArrayList<>();

    /**
     * Pages an mm operation took from devices, each to be covered by an event of one of {@code reasons}.
     *
     * @param operation what the step did, for the message
     * @param pages     per mirror its address runs: {mirror, from, to}
     * @param reasons   the reasons that fit
     */
    record Required(String operation, List<long[]> pages, Set<Invalidation.Reason> reasons) {}

    public Observed(int mirrors) {
        nextSeq = new long[mirrors];
        last = new Counters[mirrors];
        overflowed = new boolean[mirrors];
        for (int i = 0; i < mirrors; i++) {
            nextSeq[i] = -1;
            events.add(List.of());
        }
    }

    /** Mirror {@code slot} was opened again: its sequence numbers and counters start over. */
    public void reopened(int slot) {
        nextSeq[slot] = -1;
        last[slot] = null;
    }

    /** The events of mirror {@code slot} read since the step began. */
    public List<Invalidation> events(int slot) {
        return events.get(slot);
    }

    void events(int slot, List<Invalidation> e) {
        events.set(slot, e);
    }

    /** Forgets this step's events (a trace marks each step's own). */
    public void forgetEvents() {
        for (int i = 0; i < events.size(); i++) {
            events.set(i, List.of());
        }
    }

    /** Adds events read after the checks (by a trace). */
    public void moreEvents(int slot, List<Invalidation> more) {
        if (!more.isEmpty()) {
            List<Invalidation> all = new ArrayList<>(events.get(slot));
            all.addAll(more);
            events.set(slot, all);
        }
    }

    long nextSeq(int slot) {
        return nextSeq[slot];
    }

    void nextSeq(int slot, long seq) {
        nextSeq[slot] = seq;
    }

    boolean overflowed(int slot) {
        return overflowed[slot];
    }

    void overflowed(int slot, boolean o) {
        overflowed[slot] = o;
    }

    Counters last(int slot) {
        return last[slot];
    }

    void last(int slot, Counters c) {
        last[slot] = c;
    }

    void require(Required r) {
        required.add(r);
    }

    /** What the step required, handed over once. */
    List<Required> takeRequired() {
        List<Required> out = List.copyOf(required);
        required.clear();
        return out;
    }
}
