package dev.hmmmirror.explorer;

import dev.hmmmirror.explorer.sys.Kernel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A campaign of the explorer in this (guest) process: programs drawn from a campaign seed run
 * against the module until the budget (programs or seconds) is spent or one fails; a failure is
 * shrunk by replaying it on fresh memory and mirrors, and written as a reproducer.
 *
 * <pre>
 * java -cp ... dev.hmmmirror.explorer.Explorer [--seed S] [--programs N | --seconds T] [--steps K]
 *      [--replay PROGRAM_SEED] [--fuzz-ioctls N | --fuzz-seconds T] [--stress] [--race-seconds S --threads T]
 *      [--kmemleak] [--jobs J] [--out DIR] [--name NAME]
 * </pre>
 * With {@code --jobs J} the programs run in J processes at once (this one and J-1 more, each drawing
 * from its own seed, derived from the campaign seed) and the fuzzing in one more, for guests with
 * several vCPUs; the figures printed at the end are the whole campaign's.
 * Exit code 0: nothing found; 1: a failure (shrunk, its reproducer in {@code DIR}); 125: bad arguments.
 */
public final class Explorer {
    private Explorer() {}

    public static void main(String[] args) throws Exception {
        Options o;
        try {
            o = parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("explorer: " + e.getMessage());
            System.exit(125);
            return;
        }
        Result r = run(o);
        System.exit(r.failed() ? 1 : 0);
    }

    static Options parse(String[] args) {
        long seed = ThreadLocalRandom.current().nextLong();
        long programs = 0;
        long seconds = 0;
        int steps = 30;
        Long replay = null;
        Path out = null;
        String name = MAIN;
        int shrink = 400;
        long fuzzIoctls = 0;
        long fuzzSeconds = 0;
        boolean stress = false;
        long raceSeconds = 0;
        int threads = 4;
        boolean kmemleak = false;
        int jobs = 1;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--stress") || a.equals("--kmemleak")) {
                stress |= a.equals("--stress");
                kmemleak |= a.equals("--kmemleak");
                continue;
            }
            String v = i + 1 < args.length ? args[i + 1] : null;
            if (v == null) {
                throw new IllegalArgumentException(a + " needs a value");
            }
            switch (a) {
                case "--seed" -> seed = Long.parseLong(v);
                case "--programs" -> programs = Long.parseLong(v);
                case "--seconds" -> seconds = Long.parseLong(v);
                case "--steps" -> steps = Integer.parseInt(v);
                case "--replay" -> replay = Long.parseLong(v);
                case "--out" -> out = Path.of(v);
                case "--name" -> name = v;
                case "--shrink-replays" -> shrink = Integer.parseInt(v);
                case "--fuzz-ioctls" -> fuzzIoctls = Long.parseLong(v);
                case "--fuzz-seconds" -> fuzzSeconds = Long.parseLong(v);
                case "--race-seconds" -> raceSeconds = Long.parseLong(v);
                case "--threads" -> threads = Integer.parseInt(v);
                case "--jobs" -> jobs = Integer.parseInt(v);
                default -> throw new IllegalArgumentException("unknown option " + a + " (--seed --programs --seconds"
                        + " --steps --replay --out --name --shrink-replays --fuzz-ioctls --fuzz-seconds --stress --race-seconds"
                        + " --threads --kmemleak --jobs)");
            }
            i++;
        }
        if (programs <= 0 && seconds <= 0 && replay == null && fuzzIoctls <= 0 && fuzzSeconds <= 0
                && raceSeconds <= 0) {
            programs = 50;
        }
        if (jobs < 1 || jobs > 16) {
            throw new IllegalArgumentException("--jobs takes 1-16, not " + jobs);
        }
        if (jobs > 1 && (replay != null || out == null)) {
            throw new IllegalArgumentException("--jobs needs --out (each job reports in a folder of it) and no --replay");
        }
        return new Options(seed, programs, seconds, steps, replay, out, name, shrink, fuzzIoctls, fuzzSeconds, stress,
                raceSeconds, threads, kmemleak, jobs);
    }

    /** The name of a campaign's first process (its jobs are named job-N and fuzz). */
    private static final String MAIN = "explorer";

    /**
     * Runs a campaign, printing progress and the result, writing the report files to {@code out};
     * khugepaged stays off ranges with pages in device memory meanwhile (see
     * {@link Kernel#keepKhugepagedOffDeviceMemory()}).
     */
    public static Result run(Options o) throws Exception {
        try (Kernel.KhugepagedHold khugepaged = Kernel.keepKhugepagedOffDeviceMemory()) {
            if (MAIN.equals(o.name()) && khugepaged.held()) {
                System.out.println("explorer: khugepaged kept off ranges in device memory while this runs"
                        + " (max_ptes_swap 0, restored at the end)");
            }
            return new Campaign(o, Explorer.class.getName()).run();
        }
    }
}
