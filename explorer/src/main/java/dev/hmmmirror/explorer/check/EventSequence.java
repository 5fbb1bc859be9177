package dev.hmmmirror.explorer.check;

import dev.hmmmirror.Invalidation;
import dev.hmmmirror.explorer.engine.Invariant;
import dev.hmmmirror.explorer.engine.Violation;
import dev.hmmmirror.explorer.model.Model;

/**
 * Reads every mirror's new invalidation events (the events of this step, which the invariants
 * after it judge): their sequence numbers follow on without gaps, but after an overflow.
 */
public final class EventSequence implements Invariant<Subject> {
    @Override
    public String name() {
        return "event-sequence";
    }

    @Override
    public void check(Subject s) throws Exception {
        drain(s);
    }

    /** Reads the events (also in the middle of a step that must judge them before it goes on). */
    public static void drain(Subject s) throws Exception {
        Observed o = s.observed();
        for (int i = 0; i < Model.MIRRORS; i++) {
            o.events(i, s.driver().invalidations(i));
            o.overflowed(i, false);
            for (Invalidation e : o.events(i)) {
                if (e.afterOverflow()) {
                    o.overflowed(i, true);
                } else if (o.nextSeq(i) >= 0 && e.seq() != o.nextSeq(i)) {
                    throw new Violation("event-sequence", "mirror " + i + " (device " + s.driver().device(i)
                            + "): event seq " + e.seq() + " follows " + (o.nextSeq(i) - 1)
                            + " without an overflow flag: " + e);
                }
                o.nextSeq(i, e.seq() + 1);
            }
            s.driver().stats().checks++;
        }
    }
}
