package dev.hmmmirror.mutate;

import java.util.Locale;

/** What a campaign concludes of one mutant. */
public enum Verdict {
    /** At least one detector failed on it (a test, the explorer's check, a kernel splat) where the real kernel passes. */
    KILLED,
    /** Every detector ran to the end and none noticed. */
    SURVIVED,
    /** Not run: the catalogue argues in writing that no test can tell it from the real kernel. */
    EQUIVALENT,
    /** The patch does not apply, or the kernel does not compile with it. */
    BUILD_FAILURE,
    /** The mutated kernel does not boot to the guest agent (no detector could run). */
    BOOT_FAILURE,
    /** A detector hung (the guest stopped answering without a kernel report) and none killed it. */
    TIMEOUT,
    /** The unmutated kernel itself, run first: what fails there is never counted as a kill. */
    BASELINE;

    /** The JSON and report name: {@code build-failure}. */
    public String label() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** The verdict of a label written by {@link #label()}. */
    public static Verdict of(String label) {
        return valueOf(label.toUpperCase(Locale.ROOT).replace('-', '_'));
    }
}
