package dev.hmmmirror.mutate;

import dev.hmmmirror.vm.config.Settings;
import dev.hmmmirror.vm.host.Exec;
import dev.hmmmirror.vm.host.Progress;
import dev.hmmmirror.vm.host.SetupException;
import dev.hmmmirror.vm.image.GuestImages;
import dev.hmmmirror.vm.image.ImageCache;
import dev.hmmmirror.vm.image.KernelProfile;
import dev.hmmmirror.vm.result.TestOutcome;
import dev.hmmmirror.vm.selftest.KernelSelftests;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * A mutation campaign: for each mutant, a copy-on-write view of the base kernel with the patch applied,
 * an incremental rebuild with the kernel's own toolchain, then each detector in its own boot; the
 * verdict per mutant goes into {@code DIR/results.json} as soon as it is known, so that a campaign
 * interrupted halfway continues where it stopped (a rerun skips mutants that have a verdict). The
 * unmutated kernel runs first, through the same machinery, as the baseline: what fails there never
 * counts as a kill, and its rebuild shows what an incremental build costs when nothing changed.
 */
public final class Campaign {
    /** The name under which the baseline (the unmutated kernel) is kept. */
    public static final String BASELINE = "(baseline)";

    /**
     * What to run.
     *
     * @param dir             the campaign directory (results.json, report.json, report.html, one folder per mutant)
     * @param base            the kernel to mutate (resolved when the campaign starts: a built kernel may need building)
     * @param mutants         the mutants, in order
     * @param detectors       which detectors, in the order they run
     * @param config          how they run
     * @param jobs            mutants at once (each in its own slot: view, rebuild, boots)
     * @param makeJobs        make -j of each rebuild
     * @param buildTimeout    a rebuild taking longer is a build failure
     * @param redo            run mutants again even when they have a verdict
     * @param stopAtFirstKill skip the remaining detectors of a mutant once one killed it (faster, but the
     *                        per-detector scores then count only the first killer)
     * @param baseline        run the unmutated kernel first (else nothing is subtracted)
     * @param runEquivalent   run mutants the catalogue calls equivalent too
     */
    public record Options(Path dir, Supplier<BaseKernel> base, List<Mutant> mutants, List<Detector> detectors,
            DetectorConfig config, int jobs, int makeJobs, Duration buildTimeout, boolean redo, boolean stopAtFirstKill,
            boolean baseline, boolean runEquivalent) {}

    private final Settings settings;
    private final Options options;
    private final PrintStream out;
    private final Map<String, MutantResult> results = new LinkedHashMap<>();

    public Campaign(Settings settings, Options options, PrintStream out) {
        this.settings = settings;
        this.options = options;
        this.out = out;
    }

    /** The results file of a campaign directory. */
    public static Path resultsFile(Path dir) {
        return dir.resolve("results.json");
    }

    /** Runs what has no verdict yet; returns every verdict of the campaign (this run's and earlier ones'). */
    public Map<String, MutantResult> run() throws InterruptedException {
        Path dir = options.dir();
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new SetupException("cannot create the campaign directory " + dir + ": " + e.getMessage(), e);
        }
        results.putAll(load(resultsFile(dir)));
        List<Mutant> todo = new ArrayList<>();
        for (Mutant m : options.mutants()) {
            MutantResult old = results.get(m.name());
            if (old != null && !options.redo()) {
                continue;
            }
            if (m.equivalence().isPresent() && !options.runEquivalent()) {
                record(new MutantResult(m.name(), m.describe(), Verdict.EQUIVALENT, m.equivalence().get(),
                        m.memoryCorrupting(), -1, 0, -1, Map.of(), 0, Instant.now().toString()));
                continue;
            }
            todo.add(m);
        }
        Progress.say("mutate: %d mutant(s), %d with a verdict already (%s), %d to run; detectors %s; campaign %s",
                options.mutants().size(), options.mutants().size() - todo.size(), resultsFile(dir), todo.size(),
                options.detectors().stream().map(Detector::label).toList(), dir);
        boolean needBaseline = options.baseline() && (!results.containsKey(BASELINE) || options.redo() && !todo.isEmpty());
        if (todo.isEmpty() && !needBaseline) {
            Report.write(dir, results, out);
            return results;
        }
        BaseKernel base = options.base().get();
        Progress.say("mutate: base kernel %s (root %s%s)", base.name(), base.lower(),
                base.buildLower() == null ? "" : ", build " + base.buildLower());
        if (needBaseline) {
            MutantResult b = runOne(base, null, 0, "baseline");
            List<Detector> noBoot = b.detectors().values().stream().filter(r -> r.status() == Verdict.BOOT_FAILURE
                    || r.status() == Verdict.TIMEOUT).map(DetectorResult::detector).toList();
            if (b.verdict() != Verdict.BASELINE || !noBoot.isEmpty()) {
                throw new SetupException("hmm mutate: the unmutated kernel " + base.name() + " itself "
                        + (b.verdict() != Verdict.BASELINE ? "gave " + b.verdict().label() : "did not run " + noBoot)
                        + ": " + b.reason() + " (see " + options.dir().resolve("mutants/baseline") + "); no mutant can be "
                        + "judged against it");
            }
            DetectorResult explorer = b.detectors().get(Detector.EXPLORER);
            if (explorer != null && explorer.killed()) {
                // the explorer's verdict is one name: failing on the real kernel, it could never kill a mutant
                throw new SetupException("hmm mutate: the explorer fails on the unmutated kernel " + base.name() + " ("
                        + explorer.firstFailure().lines().findFirst().orElse("") + "; see " + explorer.reportDir()
                        + "): it could not tell any mutant apart; fix that or choose another --explorer-seed");
            }
            for (DetectorResult r : b.detectors().values()) {
                // a run that could not start its tests at all ("(run)": discovery, no TAP) judges no mutant
                r.allFailing().stream().filter(f -> f.startsWith("(run)") || f.contains(".(run)")).findFirst()
                        .ifPresent(f -> {
                            throw new SetupException("hmm mutate: " + r.detector().label() + " could not run its tests "
                                    + "on the unmutated kernel " + base.name() + " (" + r.firstFailure().lines()
                                    .findFirst().orElse(f) + "; see " + r.reportDir() + "): fix that first");
                        });
            }
            record(b);
        }
        MutantResult baseline = results.get(BASELINE);
        int total = todo.size();
        if (baseline != null && total > 0) {
            List<Double> done = results.values().stream().filter(r -> !r.name().equals(BASELINE))
                    .map(MutantResult::seconds).toList();
            double each = typicalSeconds(done, baseline.seconds());
            Progress.say("mutate: %d mutant(s) to run; %s: about %s in all", total, done.isEmpty()
                    ? "the baseline took " + secs(baseline.seconds())
                    : done.size() + " recorded mutant(s) took a mean of " + secs(each),
                    secs(each * total / Math.max(1, Math.min(options.jobs(), total))));
        }
        AtomicInteger finished = new AtomicInteger();
        long t0 = System.nanoTime();
        LinkedBlockingQueue<Integer> slots = new LinkedBlockingQueue<>();
        int jobs = Math.max(1, Math.min(options.jobs(), total));
        for (int i = 0; i < jobs; i++) {
            slots.add(i);
        }
        try (ExecutorService pool = Executors.newFixedThreadPool(jobs)) {
            List<Future<?>> futures = new ArrayList<>();
            for (int i = 0; i < total; i++) {
                Mutant m = todo.get(i);
                int index = i + 1;
                futures.add(pool.submit(() -> {
                    int slot = slots.take();
                    try (Progress.Labelled l = jobs > 1 ? Progress.labelled("slot " + slot) : null) {
                        MutantResult r = runOne(base, m, slot, "[" + index + "/" + total + "]", baseline);
                        record(r);
                        int n = finished.incrementAndGet();
                        double each = (System.nanoTime() - t0) / 1e9 / n;
                        long left = (long) (each * (total - n));
                        Progress.say("mutate: [%d/%d] %s: %s%s; build %s, detectors %s; about %s left", n, total, m.name(),
                                r.verdict().label(), r.killers().isEmpty() ? "" : " by " + r.killers().stream()
                                        .map(Detector::label).toList(), secs(r.buildSeconds()),
                                secs(r.seconds() - Math.max(0, r.buildSeconds())), Progress.seconds(Duration.ofSeconds(left)));
                    } finally {
                        slots.add(slot);
                    }
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                try {
                    f.get();
                } catch (java.util.concurrent.ExecutionException e) {
                    Throwable c = e.getCause();
                    throw c instanceof RuntimeException re ? re : new IllegalStateException(c);
                }
            }
        }
        Report.write(dir, results, out);
        return results;
    }

    /**
     * What one more mutant will take, for the estimate a resumed campaign prints first: the mean of the
     * mutants recorded so far (those that hang cost many times the others and will recur among the rest, so
     * the mean, not the median), else the baseline's time (an upper bound: every detector on a fresh build).
     */
    static double typicalSeconds(List<Double> recorded, double baselineSeconds) {
        return recorded.stream().mapToDouble(Double::doubleValue).average().orElse(baselineSeconds);
    }

    private MutantResult runOne(BaseKernel base, Mutant m, int slot, String label) {
        return runOne(base, m, slot, label, null);
    }

    /** One mutant (null: the baseline) in slot {@code slot}: view, patch, rebuild, detectors, verdict. */
    private MutantResult runOne(BaseKernel base, Mutant m, int slot, String label, MutantResult baseline) {
        String name = m == null ? BASELINE : m.name();
        String description = m == null ? "the unmutated kernel " + base.name() : m.describe();
        Path mdir = options.dir().resolve("mutants").resolve(m == null ? "baseline" : m.name());
        Path slotDir = options.dir().resolve("slots").resolve(Integer.toString(slot));
        long t0 = System.nanoTime();
        Progress.say("mutate: %s %s: %s", label, name, description);
        try {
            Files.createDirectories(mdir);
            Files.deleteIfExists(mdir.resolve("build.log"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Path log = mdir.resolve("build.log");
        boolean corrupting = m != null && m.memoryCorrupting();
        // a view that cannot be mounted is this host's problem, not the mutant's: it stops the campaign
        try (CowView view = CowView.open(base, slotDir)) {
            return judge(view, m, name, description, mdir, log, corrupting, baseline, t0);
        }
    }

    private MutantResult judge(CowView view, Mutant m, String name, String description, Path mdir, Path log,
            boolean corrupting, MutantResult baseline, long t0) {
        if (m != null) {
            try {
                view.apply(m, log);
            } catch (SetupException e) {
                return done(name, description, Verdict.BUILD_FAILURE, "the patch does not apply: "
                        + tail(log), corrupting, -1, 0, -1, Map.of(), t0);
            }
        }
        CowView.Cost cost;
        try {
            cost = view.build(log, options.makeJobs(), options.buildTimeout());
        } catch (SetupException e) {
            String failing = Exec.failingLines(log, 15);
            Progress.say("mutate: %s does not build; error lines (log %s):\n%s", name, log, failing);
            return done(name, description, Verdict.BUILD_FAILURE, "does not compile: " + (failing.isEmpty()
                    ? e.getMessage().lines().findFirst().orElse("") : failing), corrupting, -1, 0, -1, Map.of(), t0);
        }
        Progress.say("mutate: %s rebuilt in %s: %d file(s) compiled%s, %d MiB in its upper layer; log %s", name,
                secs(cost.seconds()), cost.compiled(), cost.linked() ? ", vmlinux relinked" : "",
                view.upperBytes() >> 20, log);
        KernelProfile profile = view.profile();
        long ti = System.nanoTime();
        try {
            new GuestImages(ImageCache.of(settings), settings).ensure(profile);
        } catch (SetupException e) {
            return done(name, description, Verdict.BOOT_FAILURE, "no guest image of the rebuilt kernel: "
                    + e.getMessage().lines().findFirst().orElse(""), corrupting, cost.seconds(), cost.compiled(), -1,
                    Map.of(), t0);
        }
        double image = (System.nanoTime() - ti) / 1e9;
        Detectors detectors = new Detectors(settings, options.config());
        Map<Detector, DetectorResult> found = new EnumMap<>(Detector.class);
        Map<Detector, DetectorResult> ordered = new LinkedHashMap<>();
        for (Detector d : options.detectors()) {
            Progress.say("mutate: %s: %s", name, d.label());
            DetectorResult r = detectors.run(d, profile, mdir.resolve(d.label()),
                    m == null ? Set.of() : Detectors.baselineFailures(baseline, d));
            ordered.put(d, r);
            found.put(d, r);
            Progress.say("mutate: %s: %s %s in %s%s%s", name, d.label(), r.status().label(), secs(r.seconds()),
                    r.firstFailure().isEmpty() ? "" : ": " + r.firstFailure().lines().findFirst().orElse(""),
                    r.killed() || r.skipped().isEmpty() ? "" : "; " + r.skipped().size()
                            + " test(s) skipped themselves, the first: " + r.skipped().getFirst());
            if (r.killed() && options.stopAtFirstKill() && m != null) {
                break;
            }
        }
        Verdict v = m == null ? Verdict.BASELINE : verdict(found);
        String reason = reason(v, ordered);
        return done(name, description, v, reason, corrupting, cost.seconds(), cost.compiled(), image, ordered, t0);
    }

    /** The class of a mutant from its detectors' results. */
    static Verdict verdict(Map<Detector, DetectorResult> found) {
        if (found.values().stream().anyMatch(DetectorResult::killed)) {
            return Verdict.KILLED;
        }
        if (!found.isEmpty() && found.values().stream().allMatch(r -> r.status() == Verdict.BOOT_FAILURE)) {
            return Verdict.BOOT_FAILURE;
        }
        if (found.values().stream().anyMatch(r -> r.status() == Verdict.TIMEOUT)) {
            return Verdict.TIMEOUT;
        }
        if (found.values().stream().anyMatch(r -> r.status() == Verdict.BOOT_FAILURE)) {
            return Verdict.BOOT_FAILURE;
        }
        return Verdict.SURVIVED;
    }

    private static String reason(Verdict v, Map<Detector, DetectorResult> found) {
        List<String> parts = new ArrayList<>();
        found.forEach((d, r) -> {
            if (r.status() != Verdict.SURVIVED) {
                parts.add(d.label() + " " + r.status().label() + (r.failing().isEmpty() ? "" : " (" + r.failing().size()
                        + " test(s): " + String.join(", ", r.failing().stream().limit(6).toList())
                        + (r.failing().size() > 6 ? ", ..." : "") + ")"));
            }
        });
        return parts.isEmpty() ? (v == Verdict.BASELINE ? "nothing failed" : "no detector noticed")
                : String.join("; ", parts);
    }

    private static MutantResult done(String name, String description, Verdict v, String reason, boolean corrupting,
            double build, long compiled, double image, Map<Detector, DetectorResult> detectors, long t0) {
        return new MutantResult(name, description, v, reason, corrupting, build, compiled, image, detectors,
                (System.nanoTime() - t0) / 1e9, Instant.now().toString());
    }

    private synchronized void record(MutantResult r) {
        results.put(r.name(), r);
        save(options.dir(), results);
    }

    /** Writes {@code results} to the campaign's results file (atomically) and its report files. */
    private static void save(Path dir, Map<String, MutantResult> results) {
        List<Object> all = new ArrayList<>();
        results.values().forEach(x -> all.add(x.toJson()));
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("campaign", dir.toString());
        doc.put("mutants", all);
        Path f = resultsFile(dir);
        try {
            Path tmp = f.resolveSibling(f.getFileName() + ".tmp");
            Files.writeString(tmp, Json.write(doc), StandardCharsets.UTF_8);
            Files.move(tmp, f, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + f, e);
        }
        Report.files(dir, results); // a campaign stopped halfway has its report too
    }

    /**
     * Judges a campaign's recorded runs again from what they left (every selftests run from its TAP, the
     * explorer's timeouts from its log; the consoles), with today's rules, without building or booting
     * anything: a detector recorded as a timeout because its guest stopped answering becomes a kill when
     * it had reported a failure before the hang (hmm-tests' "not ok" lines, the explorer's "FAILED" line;
     * campaigns judged before 7 December 2026 counted such runs as timeouts), and a selftests run that
     * stalled counts only what failed before the stall. Writes the results and
     * the report; returns every verdict, and prints each one that changed.
     */
    public static Map<String, MutantResult> rejudge(Path dir, PrintStream out) {
        Map<String, MutantResult> results = load(resultsFile(dir));
        if (results.isEmpty()) {
            throw new SetupException("hmm mutate: no results in " + resultsFile(dir) + " to judge again");
        }
        int changed = 0;
        for (MutantResult r : List.copyOf(results.values())) {
            if (r.name().equals(BASELINE)) {
                continue;
            }
            Map<Detector, DetectorResult> ds = new LinkedHashMap<>(r.detectors());
            for (DetectorResult old : r.detectors().values()) {
                // the selftests' TAP says everything again; the explorer's exit code is not kept, so only its timeouts
                if (old.status() != Verdict.TIMEOUT && (old.detector() != Detector.SELFTESTS
                        || old.status() == Verdict.BOOT_FAILURE)) {
                    continue;
                }
                Path report = Path.of(old.reportDir());
                Detectors.Raw raw;
                try {
                    raw = rejudged(old, report);
                } catch (IOException | UncheckedIOException e) {
                    out.printf("hmm mutate: %s: cannot read %s (%s): left as it was%n", r.name(), report, e.getMessage());
                    continue;
                }
                if (raw == null) {
                    continue;
                }
                DetectorResult now = Detectors.judge(old.detector(), raw, Detectors.splats(report),
                        Detectors.baselineFailures(results.get(BASELINE), old.detector()), old.seconds(), old.reportDir());
                if (now.status() != old.status()) {
                    ds.put(old.detector(), now);
                    out.printf("hmm mutate: %s: %s %s -> %s (%s)%n", r.name(), old.detector().label(),
                            old.status().label(), now.status().label(), now.firstFailure().lines().findFirst().orElse(""));
                }
            }
            if (ds.equals(r.detectors())) {
                continue;
            }
            Verdict v = verdict(new EnumMap<>(ds));
            results.put(r.name(), new MutantResult(r.name(), r.description(), v, reason(v, ds), r.memoryCorrupting(),
                    r.buildSeconds(), r.compiled(), r.imageSeconds(), ds, r.seconds(), r.finished()));
            changed++;
            out.printf("hmm mutate: %s: %s -> %s%n", r.name(), r.verdict().label(), v.label());
        }
        out.printf("hmm mutate: judged the recorded runs again in %s: %d mutant(s) changed%n", dir, changed);
        save(dir, results);
        Report.write(dir, results, out);
        return results;
    }

    /**
     * What a recorded detector run gives with today's rules, from its report folder {@code report}; null
     * where nothing can be judged again (no TAP: nothing had run; the suite's timeouts are judged live).
     */
    private static Detectors.Raw rejudged(DetectorResult old, Path report) throws IOException {
        return switch (old.detector()) {
            case SELFTESTS -> {
                List<TestOutcome> partial = new ArrayList<>();
                try (Stream<Path> runs = Files.list(report)) {
                    for (Path run : runs.filter(Files::isDirectory).sorted().toList()) {
                        partial.addAll(KernelSelftests.partialOutcomes(run));
                    }
                }
                yield partial.isEmpty() ? null : Detectors.fromSelftests(partial, old.bootSeconds(),
                        old.status() == Verdict.TIMEOUT
                                && partial.stream().noneMatch(o -> o.test().equals(KernelSelftests.STALLED)));
            }
            case EXPLORER -> Detectors.explorerResult(-1, true, Detectors.failureLine(report.resolve("explorer.log")),
                    seedOf(report.resolve("explorer.log")), old.bootSeconds());
            case SUITE -> null;
        };
    }

    /** The campaign seed an explorer log names ("campaign seed N"), or 0. */
    private static long seedOf(Path log) throws IOException {
        if (Files.isRegularFile(log)) {
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("campaign seed (-?\\d+)")
                    .matcher(Files.readString(log, StandardCharsets.ISO_8859_1));
            if (m.find()) {
                return Long.parseLong(m.group(1));
            }
        }
        return 0;
    }

    /** The verdicts kept in a results file (empty when there is none yet). */
    @SuppressWarnings("unchecked")
    public static Map<String, MutantResult> load(Path file) {
        Map<String, MutantResult> out = new LinkedHashMap<>();
        if (!Files.isRegularFile(file)) {
            return out;
        }
        try {
            Object doc = Json.parse(Files.readString(file, StandardCharsets.UTF_8));
            for (Object o : (List<Object>) ((Map<String, Object>) doc).get("mutants")) {
                MutantResult r = MutantResult.fromJson((Map<String, Object>) o);
                out.put(r.name(), r);
            }
        } catch (IOException | RuntimeException e) {
            throw new SetupException("cannot read the campaign's results " + file + " (" + e.getMessage()
                    + "): move it away to start the campaign afresh", e);
        }
        return out;
    }

    private static String tail(Path log) {
        return String.join(" / ", Exec.tail(log, 6).lines().filter(l -> !l.startsWith("$ ")).toList());
    }

    static String secs(double s) {
        return s < 0 ? "-" : Progress.seconds(Duration.ofMillis((long) (s * 1000)));
    }
}
