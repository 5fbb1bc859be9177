package dev.hmmmirror.explorer.engine;

/**
 * The system did not do what the model says: an invariant or an expectation of one step failed.
 * {@link #invariant()} names the rule (the shrinker keeps to failures of the same rule); the message
 * says what was expected, what happened, and where.
 */
public final class Violation extends AssertionError {
    private final String invariant;

    public Violation(String invariant, String message) {
        super(invariant + ": " + message);
        this.invariant = invariant;
    }

    public Violation(String invariant, String message, Throwable cause) {
        super(invariant + ": " + message, cause);
        this.invariant = invariant;
    }

    /** The rule that failed, e.g. {@code device-maps-cpu-page}. */
    public String invariant() {
        return invariant;
    }
}
