package dev.hmmmirror.explorer;

import dev.hmmmirror.explorer.action.Kinds;
import dev.hmmmirror.explorer.action.World;
import dev.hmmmirror.explorer.check.Signature;
import dev.hmmmirror.explorer.driver.Probe;
import dev.hmmmirror.explorer.engine.ActionKind;
import dev.hmmmirror.explorer.engine.Failure;
import dev.hmmmirror.explorer.engine.Programs;
import dev.hmmmirror.explorer.engine.Shrinker;
import dev.hmmmirror.explorer.engine.Stats;
import dev.hmmmirror.explorer.engine.Step;
import dev.hmmmirror.explorer.engine.Violation;
import dev.hmmmirror.explorer.fuzz.Fuzzer;
import dev.hmmmirror.explorer.leak.Kmemleak;
import dev.hmmmirror.explorer.model.Features;
import dev.hmmmirror.explorer.options.CampaignOptions;
import dev.hmmmirror.explorer.race.Race;
import dev.hmmmirror.explorer.report.PageMap;
import dev.hmmmirror.explorer.report.Reproducer;
import dev.hmmmirror.explorer.report.Tracer;
import dev.hmmmirror.explorer.sys.ModuleOwners;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * One campaign of this process, phase by phase ({@link #run}): the other processes start, the
 * programs run until the budget is spent or one fails, a failure is shrunk and traced, the fuzzing
 * runs here (without jobs), the jobs are joined, the race and the kmemleak scan follow, and the
 * figures are printed and written. Each phase after the programs runs only while nothing failed.
 */
final class Campaign {
    private final Options o;
    private final String mainClass;
    /** What the kernel and the module as loaded can do. */
    private final Features features;
    /** The features the programs now run with: {@link #features}, or those with each device its own owner. */
    private volatile Features current;
    /** The module parameters to load it back with after a phase with each device its own owner, or null. */
    private List<String> reloadBack;
    /** Whether the programs ran with each device its own owner when the failure was found. */
    private boolean ownersSeparated;
    private final Stats stats = new Stats();
    private final List<ActionKind<World>> kinds;
    private final Programs<World> programs;
    private final String kernel = System.getProperty("os.version");
    private long start;
    /** The jobs of this campaign, started first. */
    private final List<Jobs.Job> jobs = new ArrayList<>();
    /** The fuzzer now running, for the figures of a stopped job (read by the shutdown hook). */
    private volatile Fuzzer fuzzing;

    private Optional<Failure<World>> found = Optional.empty();
    private Optional<Failure<World>> shrunk = Optional.empty();
    private boolean shrunkFlaky;
    private PageMap.Trace trace;
    private Optional<Throwable> laterFailure = Optional.empty();
    private long fuzzed;

    /** A campaign of {@code o}; its jobs run {@code mainClass} (the explorer's command line). */
    Campaign(Options o, String mainClass) throws Exception {
        this.o = o;
        this.mainClass = mainClass;
        this.features = Probe.features(o.rdma());
        this.current = features;
        this.kinds = Kinds.all(features);
        this.programs = new Programs<>(() -> World.driven(current, stats), kinds, World.INVARIANTS, stats);
    }

    /** Runs the campaign's phases, printing progress and the result, writing the report files to {@code out}. */
    Result run() throws Exception {
        announce();
        start = System.nanoTime();
        startJobs();
        // stopped by the campaign's first process (SIGTERM): the figures so far still count
        Thread stopped = Thread.ofPlatform().unstarted(this::writeStopped);
        if (o.out() != null) {
            Runtime.getRuntime().addShutdownHook(stopped);
        }
        try {
            runPrograms();
            if (found.isPresent()) {
                shrinkAndTrace(found.get());
            }
        } finally {
            ownersAsLoaded();
        }
        if (o.fuzz() && o.jobs() == 1 && shrunk.isEmpty()) {
            fuzz(); // with jobs, the fuzzing is a job of its own
        }
        joinJobs();
        if (o.raceSeconds() > 0 && !failed()) {
            race();
        }
        if (o.kmemleak() && Kmemleak.available()) {
            scanForLeaks();
        }
        if (o.out() != null) {
            Runtime.getRuntime().removeShutdownHook(stopped);
        }
        return finish();
    }

    private boolean failed() {
        return shrunk.isPresent() || laterFailure.isPresent();
    }

    /** The kernel, the seed, the kinds and what this guest cannot do. */
    private void announce() {
        System.out.println("explorer: kernel " + kernel + ", campaign seed " + o.seed() + ", "
                + kinds.size() + " action kinds, at most " + o.steps() + " steps per program");
        for (String m : features.missing()) {
            System.out.println("explorer: left out: " + m);
        }
    }

    /**
     * The programs of this process (with jobs, its share) from seeds drawn from the campaign seed,
     * or the one program {@code --replay} names, until the budget is spent or one fails.
     */
    private void runPrograms() throws Exception {
        long deadline = o.seconds() > 0 ? start + o.seconds() * 1_000_000_000L : Long.MAX_VALUE;
        long myPrograms = o.jobs() > 1 && o.programs() > 0 ? o.programs() / o.jobs() + o.programs() % o.jobs()
                : o.programs();
        boolean second = secondOwnerPhase();
        if (CampaignOptions.SEPARATE.equals(o.owners()) && second) {
            separateOwners();
            second = false; // all of them
        }
        if (o.replay() != null) {
            found = programs.run(o.replay(), o.steps());
            return;
        }
        if (myPrograms <= 0 && o.seconds() <= 0) {
            return;
        }
        // with a second owner, the last quarter of the budget (programs or time) runs with each device its own
        long switchAt = second && myPrograms > 0 ? secondOwnerFrom(myPrograms) : Long.MAX_VALUE;
        long switchTime = second && myPrograms <= 0 ? start + o.seconds() * 750_000_000L : Long.MAX_VALUE;
        SplittableRandom seeds = new SplittableRandom(o.seed());
        long lastReport = start;
        for (long n = 0; (myPrograms <= 0 || n < myPrograms) && System.nanoTime() < deadline; n++) {
            if (second && (n >= switchAt || System.nanoTime() >= switchTime)) {
                second = false;
                separateOwners();
            }
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

    /**
     * The index of the first of {@code programs} programs that runs with each device its own owner: the
     * last quarter of them, none of fewer than 4 (a reproducer's or a test's few programs keep the module
     * as loaded).
     */
    static long secondOwnerFrom(long programs) {
        return programs < 4 ? Long.MAX_VALUE : programs - programs / 4;
    }

    /**
     * Whether this process may give the devices each its own owner for a phase: asked for, the module
     * shares one owner between two devices with device memory, it can be reloaded, and no other process of
     * the campaign uses it. Says why not when asked for and impossible.
     */
    private boolean secondOwnerPhase() {
        if (CampaignOptions.LOADED.equals(o.owners())) {
            return false;
        }
        String why;
        if (!features.migrate() || features.devices() < 2) {
            why = "needs two devices with device memory";
        } else if (!features.sharedOwner()) {
            return false; // each device owns its memory already: every program has the second owner
        } else if (o.jobs() > 1) {
            why = "the module cannot be reloaded under the campaign's other processes (--jobs)";
        } else {
            why = ModuleOwners.whyNot().orElse(null);
        }
        if (why != null) {
            System.out.println("explorer: left out: devices with each its own owner: " + why);
            return false;
        }
        return true;
    }

    /** Reloads the module with each device its own owner; the programs from now on know it. */
    private void separateOwners() throws Exception {
        List<String> asLoaded = ModuleOwners.parameters(true);
        Optional<String> failed = ModuleOwners.reload(ModuleOwners.parameters(false), asLoaded);
        if (failed.isPresent()) {
            System.out.println("explorer: left out: devices with each its own owner: reloading the module failed: "
                    + failed.get());
            return;
        }
        reloadBack = asLoaded;
        Features f = Probe.features(o.rdma());
        if (f.sharedOwner()) {
            throw new IllegalStateException("the module reloaded with shared_owner=N still shares one owner");
        }
        current = f;
        ownersSeparated = true;
        System.out.println("explorer: from program " + (stats.programs + 1) + " on, each device owns its memory"
                + " (module reloaded with shared_owner=N): a device must not map another's device-private pages"
                + " in place, its access brings them back to system memory");
    }

    /** Loads the module back as it was when a phase gave each device its own owner. */
    private void ownersAsLoaded() throws Exception {
        if (reloadBack == null) {
            return;
        }
        Optional<String> failed = ModuleOwners.reload(reloadBack, reloadBack);
        if (failed.isPresent()) {
            throw new IllegalStateException("loading the module back with shared_owner=Y failed: " + failed.get());
        }
        reloadBack = null;
        current = features;
    }

    /** Shrinks the failing program, prints the shrunk one and traces it for the page map. */
    private void shrinkAndTrace(Failure<World> f) throws Exception {
        System.out.println("explorer: FAILED: program seed " + f.seed() + " after " + f.steps().size()
                + " steps: " + f.summary());
        long replaysBefore = stats.replays;
        Shrinker<World> shrinker = new Shrinker<>(programs, o.shrinkReplays(), Signature::of);
        Failure<World> s = shrinker.shrink(f);
        shrunk = Optional.of(s);
        shrunkFlaky = shrinker.flaky();
        if (shrunkFlaky) {
            System.out.println("explorer: the failure did not reproduce on every replay (timing or the kernel's"
                    + " background work): each shrinking candidate got up to " + Shrinker.FLAKY_ATTEMPTS + " replays");
        }
        System.out.println("explorer: shrunk to " + s.steps().size() + " steps in " + (stats.replays - replaysBefore)
                + " replays (" + Signature.of(s.error()) + "):");
        for (Step<World> step : s.steps()) {
            System.out.println("explorer:   " + step.java());
        }
        System.out.println("explorer: " + s.summary());
        System.out.println("explorer: replay with --replay " + f.seed() + " --steps " + o.steps()
                + (ownersSeparated ? " --owners " + CampaignOptions.SEPARATE : "") + (o.rdma() ? " --rdma" : ""));
        Features now = current;
        trace = Tracer.trace(() -> World.driven(now, new Stats()), s.steps(), s.summary());
    }

    /** Raw-ioctl fuzzing in this process. */
    private void fuzz() throws Exception {
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

    /** Waits for the jobs (stopping them when this process found a failure) and adds up their figures. */
    private void joinJobs() throws InterruptedException {
        for (Jobs.Job job : jobs) {
            if (shrunk.isPresent()) {
                job.stop(); // this process found one: the campaign's verdict is made
            }
            Jobs.Done d = job.await();
            stats.add(d.count("programs"), d.count("checks"), d.count("calls"), d.count("replays"),
                    d.count("second-reads"), byKind(d, "kind."), byKind(d, "millis."));
            fuzzed += d.count("fuzzed");
            if (d.exitCode() != 0 && !failed()) {
                String what = d.properties().getProperty("signature", d.properties().getProperty("failure",
                        "exit code " + d.exitCode()));
                laterFailure = Optional.of(new Violation("job", d.name() + " failed: " + what + " (report: " + d.out()
                        + (d.properties().containsKey("reproducer") ? ", reproducer " + d.properties()
                        .getProperty("reproducer") : "") + ")"));
                System.out.println("explorer: " + d.name() + " FAILED: " + what + "; its report: " + d.out());
            }
        }
    }

    /** CPU and device writers, device readers and an mm mutator on the same pages. */
    private void race() throws Exception {
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

    /** A kmemleak scan: a leak of hmm_mirror fails the campaign, the kernel's own are reported apart. */
    private void scanForLeaks() throws IOException {
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

    /** Prints the campaign's figures and verdict, writes the report files. */
    private Result finish() throws IOException {
        double seconds = (System.nanoTime() - start) / 1e9;
        System.out.printf("explorer: %s: %d programs, %d steps, %d invariant checks, %d calls, %d fuzzed ioctls in"
                + " %.1f s%n", failed() ? "FAILED" : "passed", stats.programs, stats.totalSteps(), stats.checks,
                stats.calls, fuzzed, seconds);
        if (stats.secondReads > 0) {
            System.out.println("explorer: " + stats.secondReads + " page-state and map-order checks passed only on a second read"
                    + " (the kernel changed a page between the two calls of the first, e.g. another process's"
                    + " compaction)");
        }
        System.out.println("explorer: steps by kind " + stats.steps());
        System.out.println("explorer: time by kind " + timeByKind(stats));
        Result result = new Result(o, stats, features, found, shrunk, seconds, laterFailure, fuzzed);
        if (o.out() != null) {
            write(result);
        }
        return result;
    }

    private void write(Result r) throws IOException {
        Path out = o.out();
        Files.createDirectories(out);
        StringBuilder p = figures(r.seconds(), r.fuzzed());
        p.append("failed=").append(r.failed()).append('\n');
        r.laterFailure().ifPresent(t -> p.append("failure=").append(String.valueOf(t.getMessage())
                .replace('\n', ' ')).append('\n'));
        if (r.shrunk().isPresent()) {
            Failure<World> s = r.shrunk().get();
            p.append("programSeed=").append(s.seed()).append('\n');
            p.append("foundSteps=").append(r.found().get().steps().size()).append('\n');
            p.append("shrunkSteps=").append(s.steps().size()).append('\n');
            p.append("shrunkFlaky=").append(shrunkFlaky).append('\n');
            p.append("owners=").append(ownersSeparated ? CampaignOptions.SEPARATE : CampaignOptions.LOADED)
                    .append('\n');
            p.append("signature=").append(Signature.of(s.error())).append('\n');
            String cls = "Reproducer" + sanitize(o.name());
            Files.writeString(out.resolve(cls + ".java"),
                    Reproducer.source("dev.hmmmirror.guest.explore", cls, s, kernel, o.seed(),
                            ownersSeparated));
            p.append("reproducer=").append(cls).append(".java\n");
            if (trace != null) {
                Files.writeString(out.resolve(cls + ".html"), PageMap.html(trace));
                p.append("pageMap=").append(cls).append(".html\n");
            }
        }
        Files.writeString(out.resolve("explorer.properties"), p.toString());
    }

    /** The figures every explorer.properties starts with (what {@link Jobs.Done} sums). */
    private StringBuilder figures(double seconds, long fuzzedIoctls) {
        StringBuilder p = new StringBuilder();
        p.append("kernel=").append(kernel).append('\n');
        p.append("seed=").append(o.seed()).append('\n');
        p.append("programs=").append(stats.programs).append('\n');
        p.append("steps=").append(stats.totalSteps()).append('\n');
        p.append("checks=").append(stats.checks).append('\n');
        p.append("calls=").append(stats.calls).append('\n');
        p.append("replays=").append(stats.replays).append('\n');
        p.append("second-reads=").append(stats.secondReads).append('\n');
        p.append("seconds=").append(String.format("%.1f", seconds)).append('\n');
        p.append("fuzzed=").append(fuzzedIoctls).append('\n');
        stats.steps().forEach((kind, n) -> p.append("kind.").append(kind).append('=').append(n).append('\n'));
        new TreeMap<>(stats.millis()).forEach((kind, n) -> p.append("millis.").append(kind).append('=').append(n)
                .append('\n'));
        return p;
    }

    /** What a job stopped by the campaign writes: its figures so far, marked {@code stopped=true}. */
    private void writeStopped() {
        try {
            Fuzzer f = fuzzing;
            StringBuilder p = figures((System.nanoTime() - start) / 1e9, f == null ? 0 : f.ioctls());
            p.append("stopped=true\n"); // no verdict: the campaign stopped it
            Files.createDirectories(o.out());
            Files.writeString(o.out().resolve("explorer.properties"), p.toString());
        } catch (IOException | RuntimeException e) {
            // exiting anyway (the main thread may have been counting): the figures are lost
        }
    }

    /** The campaign's other processes: programs with derived seeds (jobs 2..J) and, when asked, the fuzzing. */
    private void startJobs() throws IOException {
        if (o.jobs() <= 1) {
            return;
        }
        SplittableRandom derive = new SplittableRandom(o.seed() ^ 0x5DEECE66DL);
        for (int j = 2; j <= o.jobs(); j++) {
            long seed = derive.nextLong();
            if (o.programs() <= 0 && o.seconds() <= 0) {
                continue; // nothing but fuzzing and racing was asked for
            }
            List<String> args = new ArrayList<>(List.of("--seed", Long.toString(seed), "--steps",
                    Integer.toString(o.steps()), "--shrink-replays", Integer.toString(o.shrinkReplays()),
                    "--owners", CampaignOptions.LOADED));
            if (o.rdma()) {
                args.add("--rdma");
            }
            if (o.programs() > 0) {
                args.addAll(List.of("--programs", Long.toString(o.programs() / o.jobs())));
            }
            if (o.seconds() > 0) {
                args.addAll(List.of("--seconds", Long.toString(o.seconds())));
            }
            System.out.println("explorer: job-" + j + ": campaign seed " + seed);
            jobs.add(Jobs.start("job-" + j, mainClass, args, o.out().resolve("job-" + j)));
        }
        if (o.fuzz()) {
            List<String> args = new ArrayList<>(List.of("--seed", Long.toString(o.seed()), "--owners",
                    CampaignOptions.LOADED));
            args.addAll(o.fuzzSeconds() > 0 ? List.of("--fuzz-seconds", Long.toString(o.fuzzSeconds()))
                    : List.of("--fuzz-ioctls", Long.toString(o.fuzzIoctls())));
            if (o.stress()) {
                args.add("--stress");
            }
            jobs.add(Jobs.start("fuzz", mainClass, args, o.out().resolve("fuzz")));
        }
    }

    /** Each kind's share of the time and milliseconds per step, the largest first: where a campaign's time goes. */
    static String timeByKind(Stats stats) {
        long total = Math.max(1, stats.millis().values().stream().mapToLong(Long::longValue).sum());
        Map<String, Long> steps = stats.steps();
        return stats.millis().entrySet().stream()
                .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
                .map(e -> String.format("%s %.1f%%%s", e.getKey(), 100.0 * e.getValue() / total,
                        steps.getOrDefault(e.getKey(), 0L) > 0
                                ? String.format(" (%.1f ms/step)", (double) e.getValue() / steps.get(e.getKey()))
                                : String.format(" (%.1f ms/program)", (double) e.getValue() / Math.max(1, stats.programs))))
                .collect(Collectors.joining(", ", "{", "}"));
    }

    /** A job's figures under {@code prefix} ("kind." steps, "millis." time), by kind. */
    private static Map<String, Long> byKind(Jobs.Done d, String prefix) {
        Map<String, Long> out = new TreeMap<>();
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
