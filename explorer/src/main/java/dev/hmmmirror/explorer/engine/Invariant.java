package dev.hmmmirror.explorer.engine;

/**
 * A rule the state must keep after every step: the engine checks each one on the fresh state and
 * after every step that did something, in the order given, the action's own postconditions first.
 *
 * @param <S> the state
 */
public interface Invariant<S> {
    /** The rule's name, as a {@link Violation} of it says. */
    String name();

    /** Checks the rule; throws (a {@link Violation}) when the state breaks it. */
    void check(S state) throws Exception;
}
