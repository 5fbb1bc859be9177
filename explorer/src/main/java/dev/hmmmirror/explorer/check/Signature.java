package dev.hmmmirror.explorer.check;

import dev.hmmmirror.HmmException;
import dev.hmmmirror.explorer.engine.Violation;

/** What makes two failures "the same" while shrinking: the rule, or the unexpected error. */
public final class Signature {
    private Signature() {}

    public static String of(Throwable t) {
        if (t instanceof Violation v) {
            return "violation " + v.invariant();
        }
        if (t instanceof HmmException h) {
            return "unexpected " + h.operation() + " " + h.errnoName();
        }
        return "error " + t.getClass().getName();
    }
}
