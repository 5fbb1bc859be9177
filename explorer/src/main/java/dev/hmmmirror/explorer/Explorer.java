package dev.hmmmirror.explorer;

import dev.hmmmirror.explorer.action.Kinds;
import dev.hmmmirror.explorer.check.Signature;
import dev.hmmmirror.explorer.engine.Failure;
import dev.hmmmirror.explorer.engine.Programs;
import dev.hmmmirror.explorer.engine.Shrinker;
import dev.hmmmirror.explorer.engine.Stats;
import dev.hmmmirror.explorer.engine.Step;
import dev.hmmmirror.explorer.check.Violation;
import dev.hmmmirror.explorer.fuzz.Fuzzer;
import dev.hmmmirror.explorer.leak.Kmemleak;
import dev.hmmmirror.explorer.race.Race;
import dev.hmmmirror.explorer.model.Features;
import dev.hmmmirror.explorer.model.World;
import dev.hmmmirror.explorer.options.CampaignOptions;
import dev.hmmmirror.explorer.report.PageMap;
import dev.hmmmirror.explorer.report.Reproducer;
import dev.hmmmirror.explorer.report.Tracer;
import dev.hmmmirror.explorer.sys.Kernel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A campaign of the explorer in this (guest) process: programs drawn from a campaign seed run
 * against the module until the budget (programs or seconds) is spent or one fails; a failure is
 * shrunk by replaying it on fresh memory and mirrors, and written as a reproducer.
 *
 * <pre>
 * java -cp ... dev.hmmmirror.explorer.Explorer [the options of hmm explore, and the hidden ones]
 * </pre>
 * The options are {@link CampaignOptions}, the class {@code hmm explore} parses its own with.
 * With {@code --jobs J} the programs run in J processes at once (this one and J-1 more, each drawing
 * from its own seed, derived from the campaign seed) and the fuzzing in one more, for guests with
 * several vCPUs; the figures printed at the end are the whole campaign's.
 * Exit code 0: nothing found; 1: a failure (shrunk, its reproducer in {@code DIR}); 125: bad arguments.
 */
public final class Explorer {
    private Explorer() {}

    /** What a campaign is asked to do. */
    public record Options(long seed, long programs, long seconds, int steps, Long replay, Path out, String name,
            int shrinkReplays, long fuzzIoctls, long fuzzSeconds, boolean stress, long raceSeconds, int threads, boolean kmemleak,
            int jobs) {
        boolean fuzz() {
            return fuzzIoctls > 0 || fuzzSeconds > 0;
        }
    }

    /** What a campaign did. */
    public record Result(Options options, Stats stats, Features features, Optional<Failure<World>> found,
            Optional<Failure<World>> shrunk, double seconds, Optional<Throwable> laterFailure, long fuzzed) {
        // laterFailure: what failed after the programs (fuzzing, racing, a kmemleak scan)
        boolean failed() {
            return shrunk.isPresent() || laterFailure.isPresent();
        }
    }

    public static void main(String[] args) throws Exception {
        Options o;
        try {
            CampaignOptions c = CampaignOptions.parse(args);
            requirePlantedBug(c.plantBug());
            o = options(c);
        } catch (IllegalArgumentException e) {
            System.err.println("explorer: " + e.getMessage());
            System.exit(125);
            return;
        }
        Result r = run(o);
        System.exit(r.failed() ? 1 : 0);
    }

    /** The campaign {@code c} asks for, its seed drawn when it names none. */
    static Options options(CampaignOptions c) {
        return new Options(c.seed() != null ? c.seed() : ThreadLocalRandom.current().nextLong(), c.programs(),
                c.seconds(), c.steps(), c.replay(), c.out(), c.name(), c.shrinkReplays(), c.fuzzIoctls(),
                c.fuzzSeconds(), c.stress(), c.raceSeconds(), c.threads(), c.kmemleak(), c.jobs());
    }

    /**
     * A campaign that is to find planted bug {@code bug} (0: none) runs only where the module was
     * loaded with it ({@code hmm explore --plant-bug} reloads the module before it starts this).
     */
    private static void requirePlantedBug(int bug) {
        if (bug == 0) {
            return;
        }
        String loaded;
        try {
            loaded = Files.readString(PLANT_BUG).strip();
        } catch (java.io.IOException e) {
            loaded = "(unreadable: " + e.getMessage() + ")";
        }
        if (!loaded.equals(Integer.toString(bug))) {
            throw new IllegalArgumentException("--plant-bug " + bug + ", but the module was loaded with plant_bug="
                    + loaded + ": reload it with plant_bug=" + bug + " first (hmm explore --plant-bug does)");
        }
    }

    private static final Path PLANT_BUG = Path.of("/sys/module/hmm_mirror/parameters/plant_bug");

    /** The name of a campaign's first process (its jobs are named job-N and fuzz). */
    private static final String MAIN = CampaignOptions.MAIN;

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
            return campaign(o);
        }
    }

    private static Result campaign(Options o) throws Exception {
        Features features = Features.detect();
        Stats stats = new Stats();
        var kinds = Kinds.all(features);
        Programs<World> programs = new Programs<>(() -> World.open(features, stats), kinds, stats);
        String kernel = System.getProperty("os.version");
        System.out.println("explorer: kernel " + kernel + ", campaign seed " + o.seed() + ", "
                + kinds.size() + " action kinds, at most " + o.steps() + " steps per program");
        for (String m : features.missing()) {
            System.out.println("explorer: left out: " + m);
        }
        long start = System.nanoTime();
        long deadline = o.seconds() > 0 ? start + o.seconds() * 1_000_000_000L : Long.MAX_VALUE;
        List<Jobs.Job> jobs = startJobs(o);
        // stopped by the campaign's first process (SIGTERM): the figures so far still count
        Thread stopped = Thread.ofPlatform().unstarted(() -> writeStopped(o, stats, kernel, start));
        if (o.out() != null) {
            Runtime.getRuntime().addShutdownHook(stopped);
        }
        // with jobs, this process runs its share of the programs and the fuzzing is a job of its own
        long myPrograms = o.jobs() > 1 && o.programs() > 0 ? o.programs() / o.jobs() + o.programs() % o.jobs()
                : o.programs();
        boolean fuzzHere = o.fuzz() && o.jobs() == 1;
        Optional<Failure<World>> found = Optional.empty();
        if (o.replay() != null) {
            found = programs.run(o.replay(), o.steps());
        } else if (myPrograms > 0 || o.seconds() > 0) {
            SplittableRandom seeds = new SplittableRandom(o.seed());
            long lastReport = start;
            for (long n = 0; (myPrograms <= 0 || n < myPrograms) && System.nanoTime() < deadline; n++) {
                found = programs.run(seeds.nextLong(), o.steps());
                if (found.isPresent()) {
                    break;
                }
                if (System.nanoTime() - lastReport > 10_000_000_000L) {
                    lastReport = System.nanoTime();
                    System.out.println("explorer: " + stats.programs + " programs, " + stats.totalSteps() + " steps, "
                            + stats.checks + " checks so far");
                }
            }
        }
        Optional<Failure<World>> shrunk = Optional.empty();
        PageMap.Trace trace = null;
        if (found.isPresent()) {
            Failure<World> f = found.get();
            System.out.println("explorer: FAILED: program seed " + f.seed() + " after " + f.steps().size()
                    + " steps: " + f.summary());
            long replaysBefore = stats.replays;
            Failure<World> s = new Shrinker<>(programs, o.shrinkReplays(), Signature::of).shrink(f);
            shrunk = Optional.of(s);
            System.out.println("explorer: shrunk to " + s.steps().size() + " steps in " + (stats.replays - replaysBefore)
                    + " replays (" + Signature.of(s.error()) + "):");
            for (Step<World> step : s.steps()) {
                System.out.println("explorer:   " + step.java());
            }
            System.out.println("explorer: " + s.summary());
            System.out.println("explorer: replay with --replay " + f.seed() + " --steps " + o.steps());
            trace = Tracer.trace(() -> World.open(features, new Stats()), s.steps(), s.summary());
        }
        Optional<Throwable> laterFailure = Optional.empty();
        long fuzzed = 0;
        if (fuzzHere && shrunk.isEmpty()) {
            long fuzzStart = System.nanoTime();
            long fuzzDeadline = o.fuzzSeconds() > 0 ? fuzzStart + o.fuzzSeconds() * 1_000_000_000L : Long.MAX_VALUE;
            try (Fuzzer f = new Fuzzer(o.seed(), features.devices())) {
                fuzzing = f;
                try {
                    f.run(fuzzDeadline, o.fuzzIoctls(), o.stress());
                } catch (Exception | AssertionError e) {
                    laterFailure = Optional.of(e);
                    System.out.println("explorer: fuzzing FAILED after " + f.ioctls() + " ioctls: " + e.getMessage());
                }
                fuzzed = f.ioctls();
                System.out.printf("explorer: fuzzed %d ioctls (%d valid checks, %d mm mutations%s) in %.1f s: %s%n",
                        f.ioctls(), f.validChecks(), f.mutations(), o.stress() ? " from a second thread" : "",
                        (System.nanoTime() - fuzzStart) / 1e9, f.outcomes());
            }
        }
        for (Jobs.Job job : jobs) {
            if (shrunk.isPresent()) {
                job.stop(); // this process found one: the campaign's verdict is made
            }
            Jobs.Done d = job.await();
            stats.add(d.count("programs"), d.count("checks"), d.count("calls"), d.count("replays"),
                    d.count("second-reads"), kinds(d, "kind."),
                    kinds(d, "millis."));
            fuzzed += d.count("fuzzed");
            if (d.exitCode() != 0 && shrunk.isEmpty() && laterFailure.isEmpty()) {
                String what = d.properties().getProperty("signature", d.properties().getProperty("failure",
                        "exit code " + d.exitCode()));
                laterFailure = Optional.of(new Violation("job", d.name() + " failed: " + what + " (report: " + d.out()
                        + (d.properties().containsKey("reproducer") ? ", reproducer " + d.properties()
                        .getProperty("reproducer") : "") + ")"));
                System.out.println("explorer: " + d.name() + " FAILED: " + what + "; its report: " + d.out());
            }
        }
        if (o.raceSeconds() > 0 && shrunk.isEmpty() && laterFailure.isEmpty()) {
            long raceStart = System.nanoTime();
            try (Race race = new Race(o.seed(), o.threads(), features.devices(), features.migrate())) {
                try {
                    race.run(o.raceSeconds());
                } catch (Throwable e) {
                    laterFailure = Optional.of(e);
                    System.out.println("explorer: race FAILED: " + e);
                }
                int cpus = Runtime.getRuntime().availableProcessors();
                double t = (System.nanoTime() - raceStart) / 1e9;
                System.out.printf("explorer: race on %d CPU(s), %d threads + a mutator: %d writes, %d device reads"
                        + " (%d page checks, %.0f reads/s), %d mm mutations in %.1f s; refused: %s%n", cpus,
                        o.threads(), race.writes(), race.reads(), race.checks(), race.reads() / t, race.mutations(), t,
                        race.refused());
            }
        }
        if (o.kmemleak() && Kmemleak.available()) {
            Kmemleak leaks = Kmemleak.scan();
            System.out.println("explorer: kmemleak: " + leaks.ours().size() + " suspected leak(s) of hmm_mirror, "
                    + leaks.others().size() + " of the rest of the kernel (reported apart)");
            if (o.out() != null) {
                Files.createDirectories(o.out());
                Files.writeString(o.out().resolve("kmemleak.txt"), String.join("", leaks.ours()) + "---- the rest of"
                        + " the kernel ----\n" + String.join("", leaks.others()));
            }
            if (!leaks.ours().isEmpty() && laterFailure.isEmpty()) {
                laterFailure = Optional.of(new Violation("kmemleak", leaks.ours().size() + " leak(s) of hmm_mirror:\n"
                        + leaks.ours().get(0)));
                System.out.println("explorer: kmemleak FAILED:\n" + leaks.ours().get(0));
            }
        }
        if (o.out() != null) {
            Runtime.getRuntime().removeShutdownHook(stopped);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        boolean failed = shrunk.isPresent() || laterFailure.isPresent();
        System.out.printf("explorer: %s: %d programs, %d steps, %d invariant checks, %d calls, %d fuzzed ioctls in"
                + " %.1f s%n", failed ? "FAILED" : "passed", stats.programs, stats.totalSteps(), stats.checks,
                stats.calls, fuzzed, seconds);
        if (stats.secondReads > 0) {
            System.out.println("explorer: " + stats.secondReads + " page-state checks passed only on a second read"
                    + " (the kernel changed a page between the two calls of the first, e.g. another process's"
                    + " compaction)");
        }
        System.out.println("explorer: steps by kind " + stats.steps());
        System.out.println("explorer: time by kind " + timeByKind(stats));
        Result result = new Result(o, stats, features, found, shrunk, seconds, laterFailure, fuzzed);
        if (o.out() != null) {
            write(result, kernel, trace);
        }
        return result;
    }

    private static void write(Result r, String kernel, PageMap.Trace trace) throws Exception {
        Path out = r.options().out();
        Files.createDirectories(out);
        StringBuilder p = figures(kernel, r.options().seed(), r.stats(), r.seconds(), r.fuzzed());
        p.append("failed=").append(r.failed()).append('\n');
        r.laterFailure().ifPresent(t -> p.append("failure=").append(String.valueOf(t.getMessage())
                .replace('\n', ' ')).append('\n'));
        if (r.shrunk().isPresent()) {
            Failure<World> s = r.shrunk().get();
            p.append("programSeed=").append(s.seed()).append('\n');
            p.append("foundSteps=").append(r.found().get().steps().size()).append('\n');
            p.append("shrunkSteps=").append(s.steps().size()).append('\n');
            p.append("signature=").append(Signature.of(s.error())).append('\n');
            String cls = "Reproducer" + sanitize(r.options().name());
            Files.writeString(out.resolve(cls + ".java"),
                    Reproducer.source("dev.hmmmirror.guest.explore", cls, s, kernel, r.options().seed()));
            p.append("reproducer=").append(cls).append(".java\n");
            if (trace != null) {
                Files.writeString(out.resolve(cls + ".html"), PageMap.html(trace));
                p.append("pageMap=").append(cls).append(".html\n");
            }
        }
        Files.writeString(out.resolve("explorer.properties"), p.toString());
    }

    /** The figures every explorer.properties starts with (what {@link Jobs.Done} sums). */
    private static StringBuilder figures(String kernel, long seed, Stats stats, double seconds, long fuzzed) {
        StringBuilder p = new StringBuilder();
        p.append("kernel=").append(kernel).append('\n');
        p.append("seed=").append(seed).append('\n');
        p.append("programs=").append(stats.programs).append('\n');
        p.append("steps=").append(stats.totalSteps()).append('\n');
        p.append("checks=").append(stats.checks).append('\n');
        p.append("calls=").append(stats.calls).append('\n');
        p.append("replays=").append(stats.replays).append('\n');
        p.append("second-reads=").append(stats.secondReads).append('\n');
        p.append("seconds=").append(String.format("%.1f", seconds)).append('\n');
        p.append("fuzzed=").append(fuzzed).append('\n');
        stats.steps().forEach((kind, n) -> p.append("kind.").append(kind).append('=').append(n).append('\n'));
        new java.util.TreeMap<>(stats.millis()).forEach((kind, n) -> p.append("millis.").append(kind).append('=').append(n)
                .append('\n'));
        return p;
    }

    /** The fuzzer now running, for the figures of a stopped job. */
    private static volatile Fuzzer fuzzing;

    /** What a job stopped by the campaign writes: its figures so far, marked {@code stopped=true}. */
    private static void writeStopped(Options o, Stats stats, String kernel, long start) {
        try {
            Fuzzer f = fuzzing;
            StringBuilder p = figures(kernel, o.seed(), stats, (System.nanoTime() - start) / 1e9,
                    f == null ? 0 : f.ioctls());
            p.append("stopped=true\n"); // no verdict: the campaign stopped it
            Files.createDirectories(o.out());
            Files.writeString(o.out().resolve("explorer.properties"), p.toString());
        } catch (java.io.IOException | RuntimeException e) {
            // exiting anyway (the main thread may have been counting): the figures are lost
        }
    }

    /** The campaign's other processes: programs with derived seeds (jobs 2..J) and, when asked, the fuzzing. */
    private static List<Jobs.Job> startJobs(Options o) throws java.io.IOException {
        List<Jobs.Job> jobs = new ArrayList<>();
        if (o.jobs() <= 1) {
            return jobs;
        }
        SplittableRandom derive = new SplittableRandom(o.seed() ^ 0x5DEECE66DL);
        for (int j = 2; j <= o.jobs(); j++) {
            long seed = derive.nextLong();
            if (o.programs() <= 0 && o.seconds() <= 0) {
                continue; // nothing but fuzzing and racing was asked for
            }
            List<String> args = new ArrayList<>(List.of("--seed", Long.toString(seed), "--steps",
                    Integer.toString(o.steps()), "--shrink-replays", Integer.toString(o.shrinkReplays())));
            if (o.programs() > 0) {
                args.addAll(List.of("--programs", Long.toString(o.programs() / o.jobs())));
            }
            if (o.seconds() > 0) {
                args.addAll(List.of("--seconds", Long.toString(o.seconds())));
            }
            System.out.println("explorer: job-" + j + ": campaign seed " + seed);
            jobs.add(Jobs.start("job-" + j, args, o.out().resolve("job-" + j)));
        }
        if (o.fuzz()) {
            List<String> args = new ArrayList<>(List.of("--seed", Long.toString(o.seed())));
            args.addAll(o.fuzzSeconds() > 0 ? List.of("--fuzz-seconds", Long.toString(o.fuzzSeconds()))
                    : List.of("--fuzz-ioctls", Long.toString(o.fuzzIoctls())));
            if (o.stress()) {
                args.add("--stress");
            }
            jobs.add(Jobs.start("fuzz", args, o.out().resolve("fuzz")));
        }
        return jobs;
    }

    /** Each kind's share of the time and milliseconds per step, the largest first: where a campaign's time goes. */
    static String timeByKind(Stats stats) {
        long total = Math.max(1, stats.millis().values().stream().mapToLong(Long::longValue).sum());
        java.util.Map<String, Long> steps = stats.steps();
        return stats.millis().entrySet().stream()
                .sorted(java.util.Map.Entry.<String, Long>comparingByValue().reversed())
                .map(e -> String.format("%s %.1f%%%s", e.getKey(), 100.0 * e.getValue() / total,
                        steps.getOrDefault(e.getKey(), 0L) > 0
                                ? String.format(" (%.1f ms/step)", (double) e.getValue() / steps.get(e.getKey()))
                                : String.format(" (%.1f ms/program)", (double) e.getValue() / Math.max(1, stats.programs))))
                .collect(java.util.stream.Collectors.joining(", ", "{", "}"));
    }

    /** A job's figures under {@code prefix} ("kind." steps, "millis." time), by kind. */
    private static java.util.Map<String, Long> kinds(Jobs.Done d, String prefix) {
        java.util.Map<String, Long> out = new java.util.TreeMap<>();
        for (String k : d.properties().stringPropertyNames()) {
            if (k.startsWith(prefix)) {
                out.put(k.substring(prefix.length()), Long.parseLong(d.properties().getProperty(k)));
            }
        }
        return out;
    }

    private static String sanitize(String name) {
        StringBuilder b = new StringBuilder();
        boolean up = true;
        for (char c : name.toCharArray()) {
            if (Character.isLetterOrDigit(c)) {
                b.append(up ? Character.toUpperCase(c) : c);
                up = false;
            } else {
                up = true;
            }
        }
        return b.toString();
    }
}
