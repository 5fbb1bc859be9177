package dev.hmmmirror.explorer.engine;

import java.util.SplittableRandom;

/**
 * A kind of action: when it applies (its precondition on the state) and how it draws the
 * parameters of one step from a random source and the current state.
 *
 * @param <S> the state
 */
public interface ActionKind<S> {
    /** A short name, for statistics. */
    String name();

    /** Whether a step of this kind can be drawn in {@code state}. */
    boolean applies(S state);

    /** Draws one step; called only when {@link #applies} is true. */
    Step<S> draw(S state, SplittableRandom random);

    /** How often this kind is drawn relative to the others (default 1). */
    default int weight() {
        return 1;
    }
}
