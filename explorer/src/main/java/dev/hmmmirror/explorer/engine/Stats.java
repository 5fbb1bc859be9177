package dev.hmmmirror.explorer.engine;

import java.util.Map;
import java.util.TreeMap;

/** What an exploration did: programs, steps by kind, invariant checks, replays, failures. */
public final class Stats {
    /** Programs drawn and run. */
    public long programs;
    /** Replays while shrinking. */
    public long replays;
    /** Programs that failed. */
    public long failures;
    /** Invariant checks made (counted by the state). */
    public long checks;
    /** System calls and ioctls issued by steps and checks (counted by the state). */
    public long calls;
    /** Commands repeated after EBUSY (a walk that outlasted the module's retry deadline). */
    public long busyRetries;
    /**
     * Page-state checks that failed on a first read and passed on a second (the kernel changed a
     * page between the two calls the check reads, e.g. another process's compaction).
     */
    public long secondReads;
    private final Map<String, Long> steps = new TreeMap<>();
    private final Map<String, Long> nanos = new TreeMap<>();

    /** Counts one step of {@code kind}. */
    public void count(String kind) {
        steps.merge(kind, 1L, Long::sum);
    }

    /**
     * Adds {@code nanos} to the time spent in steps of {@code kind} (the action and the invariant
     * checks after it), or in {@link #SETUP} (opening and closing each program's state).
     */
    public void time(String kind, long nanos) {
        this.nanos.merge(kind, nanos, Long::sum);
    }

    /** The {@link #time} key of a program's setup and teardown. */
    public static final String SETUP = "setup";

    /** Adds what another process of the campaign counted. */
    public void add(long programs, long checks, long calls, long replays, long secondReads,
            Map<String, Long> stepsByKind, Map<String, Long> millisByKind) {
        this.programs += programs;
        this.checks += checks;
        this.calls += calls;
        this.replays += replays;
        this.secondReads += secondReads;
        stepsByKind.forEach((k, n) -> steps.merge(k, n, Long::sum));
        millisByKind.forEach((k, n) -> nanos.merge(k, n * 1_000_000, Long::sum));
    }

    /** Milliseconds spent, by kind (and {@link #SETUP}). */
    public Map<String, Long> millis() {
        Map<String, Long> out = new TreeMap<>();
        nanos.forEach((k, n) -> out.put(k, n / 1_000_000));
        return out;
    }

    /** Steps drawn, by kind. */
    public Map<String, Long> steps() {
        return Map.copyOf(steps);
    }

    /** Steps drawn, all kinds. */
    public long totalSteps() {
        return steps.values().stream().mapToLong(Long::longValue).sum();
    }
}
