package dev.hmmmirror.explorer.engine;

import java.util.List;

/**
 * A program that failed: the steps that ran (up to and including the failing one) and what failed.
 *
 * @param seed  the seed the program was drawn from
 * @param steps the steps, the failing one last, without steps that did nothing
 * @param error what the failing step threw
 */
public record Failure<S>(long seed, List<Step<S>> steps, Throwable error) {
    public Failure {
        steps = List.copyOf(steps);
    }

    /** A one-line description of the error: its type and first message line. */
    public String summary() {
        String message = String.valueOf(error.getMessage());
        int nl = message.indexOf('\n');
        return error.getClass().getSimpleName() + ": " + (nl < 0 ? message : message.substring(0, nl));
    }
}
