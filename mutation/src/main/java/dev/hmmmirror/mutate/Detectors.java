package dev.hmmmirror.mutate;

import dev.hmmmirror.Mirror;
import dev.hmmmirror.agent.protocol.GuestResult;
import dev.hmmmirror.agent.protocol.Protocol;
import dev.hmmmirror.explorer.Explorer;
import dev.hmmmirror.suite.KernelRun;
import dev.hmmmirror.suite.SuiteRunner;
import dev.hmmmirror.vm.boot.GuestFailure;
import dev.hmmmirror.vm.boot.KernelSplat;
import dev.hmmmirror.vm.boot.SplatDetector;
import dev.hmmmirror.vm.config.Setting;
import dev.hmmmirror.vm.config.Settings;
import dev.hmmmirror.vm.host.Progress;
import dev.hmmmirror.vm.host.SetupException;
import dev.hmmmirror.vm.image.KernelProfile;
import dev.hmmmirror.vm.result.TestOutcome;
import dev.hmmmirror.vm.selftest.KernelSelftests;
import dev.hmmmirror.vm.session.GuestClasspath;
import dev.hmmmirror.vm.session.GuestSession;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.apache.commons.io.file.PathUtils;
import org.junit.platform.engine.DiscoverySelector;
import org.junit.platform.engine.discovery.DiscoverySelectors;

/**
 * Runs the three detectors on a kernel, each in its own boot, and says whether each told it from the
 * real kernel: a failure that the baseline (the unmutated kernel) does not have, or a kernel splat. A
 * guest that stops answering without a kernel report is a timeout, one that does not come up a boot
 * failure; neither is a kill.
 */
final class Detectors {
    /** What "no answer" looks like in a guest failure: the request timed out and the guest was killed. */
    private static final String HANG = "no answer from the guest within the timeout";
    /** What the JUnit extension says of the tests after the guest died. */
    private static final String LOST = "the guest is not usable (failed earlier in this run)";

    private final Settings settings;
    private final DetectorConfig config;

    Detectors(Settings settings, DetectorConfig config) {
        this.settings = settings;
        this.config = config;
    }

    /** Runs {@code d} on {@code profile}, files under {@code dir}; {@code baseline}: what fails on the real kernel. */
    DetectorResult run(Detector d, KernelProfile profile, Path dir, Set<String> baseline) {
        long t0 = System.nanoTime();
        try {
            if (Files.exists(dir)) {
                PathUtils.deleteDirectory(dir);
            }
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Settings s = settings.with(Setting.RUN_DIR, dir.toString()).with(Setting.REPORT_DIR, dir.toString());
        Raw raw = switch (d) {
            case SUITE -> suite(s, profile, dir);
            case SELFTESTS -> selftests(s, profile);
            case EXPLORER -> explorer(s, profile, dir);
        };
        double seconds = (System.nanoTime() - t0) / 1e9;
        return judge(d, raw, splats(dir), baseline, seconds, dir.toString());
    }

    /**
     * The verdict of one detector's run: {@code raw} and the kernel reports {@code allSplats} found in its consoles,
     * less what failed on the unmutated kernel ({@code baseline}).
     */
    static DetectorResult judge(Detector d, Raw raw, List<String> allSplats, Set<String> baseline, double seconds,
            String dir) {
        List<String> splats = allSplats.stream().filter(k -> !baseline.contains(splatKey(k))).toList();
        List<String> failing = raw.failing.stream().filter(f -> !baseline.contains(f)).toList();
        List<String> all = new ArrayList<>(raw.failing);
        allSplats.forEach(k -> all.add(splatKey(k)));
        Verdict status;
        String first = raw.first;
        if (raw.bootFailure != null) {
            status = Verdict.BOOT_FAILURE;
            first = raw.bootFailure;
        } else if (splats.isEmpty() && !failing.isEmpty() && raw.slow.containsAll(failing)) {
            // only the harness's time limit: a loaded host gives that as well as a mutant that hangs a test, so
            // it is no kill (a rerun of the mutant on a quiet host decides: --redo --mutant NAME)
            status = Verdict.TIMEOUT;
            first = (raw.hung ? raw.first + "; " : "") + "only ended by " + (raw.hung ? "the hang" : "the harness's "
                    + "time limit") + " (" + String.join(", ", failing) + "): a hang or a loaded host, not counted as a kill";
        } else if (!splats.isEmpty() || !failing.isEmpty()) {
            status = Verdict.KILLED;
            // the first failure the run named may be one the baseline has too: then name one that counts
            boolean namesBaseline = raw.failing.stream().filter(f -> !failing.contains(f)).anyMatch(first::startsWith);
            if (first.isEmpty() || failing.isEmpty() || namesBaseline) {
                first = splats.isEmpty() ? failing.getFirst() : splats.getFirst().lines().findFirst().orElse("");
            }
        } else if (raw.hung) {
            status = Verdict.TIMEOUT;
        } else {
            status = Verdict.SURVIVED;
            first = "";
        }
        return new DetectorResult(d, status, failing, first, splats, raw.bootSeconds, seconds, dir, all, raw.skipped);
    }

    /** A splat as the baseline remembers it: its kind and headline, numbers (CPU, PID, offsets) left out. */
    static String splatKey(String splat) {
        return "splat: " + splat.lines().findFirst().orElse("").replaceAll("[0-9a-fx]*[0-9]+[0-9a-fx]*", "N");
    }

    /**
     * What a detector's run gave, before the baseline is subtracted; {@code slow}: the failing tests that a
     * harness ended for taking too long (on a loaded host as well as on a hang).
     */
    record Raw(List<String> failing, String first, boolean hung, String bootFailure, double bootSeconds,
            Set<String> slow, List<String> skipped) {
        Raw(List<String> failing, String first, boolean hung, String bootFailure, double bootSeconds,
                Set<String> slow) {
            this(failing, first, hung, bootFailure, bootSeconds, slow, List.of());
        }

        Raw(List<String> failing, String first, boolean hung, String bootFailure, double bootSeconds) {
            this(failing, first, hung, bootFailure, bootSeconds, Set.of());
        }
    }

    /** How the kernel's hmm-tests harness reports a test it ended for running past its own time limit. */
    static final String HARNESS_TIMEOUT = "Test terminated by timeout";

    /** How many times the suite detector boots a fresh guest for the tests a dead guest did not run. */
    static final int RESTARTS = 2;

    private Raw suite(Settings s, KernelProfile profile, Path dir) {
        // our suite alone: the kernel's selftests are a detector of their own, rdma-core's ODP tests (the peer suite) none
        Settings run = s.with(Setting.KSELFTEST, "false").with(Setting.PEER_SUITE, "false");
        KernelRun first = SuiteRunner.run(run, profile, config.suiteSelectors());
        List<TestOutcome> outcomes = new ArrayList<>(first.outcomes());
        // the JUnit extension does not restart a guest that died (an Oops, a hang): every test after it fails as
        // "not usable". Those did not run: boot a fresh guest for them and go on, marking what stays lost.
        for (int restart = 1; restart <= RESTARTS; restart++) {
            List<TestOutcome> lost = outcomes.stream().filter(o -> o.message().contains(LOST)).toList();
            if (lost.isEmpty()) {
                break;
            }
            List<DiscoverySelector> again = new ArrayList<>();
            for (TestOutcome o : lost) {
                fullName(s.suitePackage(), o.testClass()).ifPresent(c -> again.add(DiscoverySelectors.selectMethod(c
                        + "#" + o.test())));
            }
            if (again.isEmpty()) {
                break;
            }
            Progress.say("mutate: the guest died during the suite; %d test(s) after it did not run: a fresh guest runs "
                    + "them (restart %d)", again.size(), restart);
            KernelRun rerun = SuiteRunner.run(run.with(Setting.RUN_DIR, dir.resolve("restart-" + restart).toString()),
                    profile, again);
            outcomes.removeAll(lost);
            List<TestOutcome> got = rerun.outcomes().stream().filter(o -> !o.testClass().startsWith("(")).toList();
            outcomes.addAll(got);
            for (TestOutcome o : lost) {
                if (got.stream().noneMatch(g -> g.testClass().equals(o.testClass()) && g.test().equals(o.test()))) {
                    outcomes.add(o); // still lost: counted as lost below
                }
            }
        }
        List<String> failing = new ArrayList<>();
        List<String> skipped = new ArrayList<>();
        String firstFailure = "";
        boolean hung = false;
        int lost = 0;
        String boot = null;
        for (TestOutcome o : outcomes) {
            switch (o.status()) {
                case BOOT_FAILED -> boot = boot == null ? o.message() : boot;
                case FAILED, KERNEL_SPLAT -> {
                    if (o.message().contains(LOST)) {
                        lost++;
                        continue;
                    }
                    if (o.message().contains(HANG)) {
                        hung = true;
                        continue;
                    }
                    failing.add(o.testClass() + "." + o.test());
                    if (firstFailure.isEmpty()) {
                        firstFailure = o.testClass() + "." + o.test() + ": " + o.message();
                    }
                }
                case SKIPPED -> skipped.add(o.testClass() + "." + o.test() + ": " + o.message());
                default -> { }
            }
        }
        if (lost > 0) {
            Progress.say("mutate: %d test(s) never ran (the guest kept dying)", lost);
        }
        boolean booted = !first.kernelRelease().isEmpty();
        return new Raw(failing, firstFailure, hung, booted ? null : boot == null ? "no boot" : boot,
                first.timing().agentReady(), Set.of(), skipped);
    }

    /** The fully qualified name of the suite class {@code simple} (in the suite package or one below it). */
    static java.util.Optional<String> fullName(String pkg, String simple) {
        String dir = pkg.replace('.', '/');
        for (Path e : GuestClasspath.current()) {
            try {
                if (Files.isDirectory(e)) {
                    Path base = e.resolve(dir);
                    if (Files.isDirectory(base)) {
                        try (Stream<Path> s = Files.walk(base)) {
                            var hit = s.filter(f -> f.getFileName().toString().equals(simple + ".class")).findFirst();
                            if (hit.isPresent()) {
                                String rel = e.relativize(hit.get()).toString();
                                return java.util.Optional.of(rel.substring(0, rel.length() - 6).replace('/', '.'));
                            }
                        }
                    }
                } else if (e.toString().endsWith(".jar")) {
                    try (var jar = new java.util.jar.JarFile(e.toFile())) {
                        var hit = jar.stream().map(java.util.jar.JarEntry::getName)
                                .filter(n -> n.startsWith(dir + "/") && n.endsWith("/" + simple + ".class")).findFirst();
                        if (hit.isPresent()) {
                            String n = hit.get();
                            return java.util.Optional.of(n.substring(0, n.length() - 6).replace('/', '.'));
                        }
                    }
                }
            } catch (IOException | UncheckedIOException ignored) {
                // an unreadable classpath entry: look in the next
            }
        }
        return java.util.Optional.empty();
    }

    private Raw selftests(Settings s, KernelProfile profile) {
        KernelSelftests hook = new KernelSelftests(s.with(Setting.KSELFTEST, "true"));
        GuestSession session;
        try {
            session = GuestSession.start(new GuestSession.Spec(s.with(Setting.KSELFTEST, "true"), profile,
                    GuestClasspath.current(), Map.of(), List.of(hook)));
        } catch (GuestFailure e) {
            return e.booting() ? new Raw(List.of(), "", false, firstLine(e), -1)
                    : new Raw(List.of(), "", e.getMessage().contains(HANG), null, -1);
        } catch (SetupException e) {
            return new Raw(List.of(), "", false, firstLine(e), -1);
        }
        double boot = session.timings().agentReady();
        if (!hook.wanted(session)) {
            session.close();
            return new Raw(List.of(), "", false, "the kernel has no test_hmm (CONFIG_TEST_HMM=m): its selftests cannot run",
                    boot);
        }
        GuestSession.End end = session.finish(true);
        boolean hung = end.hookFailure() != null && end.hookFailure().getMessage().contains(HANG);
        if (hung) {
            // the guest stopped answering in the middle: what hmm-tests had reported by then still counts
            return fromSelftests(KernelSelftests.partialOutcomes(session.runDir()), boot, true);
        }
        Raw raw = fromSelftests(end.result(hook).map(KernelSelftests.Result::outcomes).orElse(List.of()), boot, false);
        if (end.hookFailure() != null && raw.first.isEmpty()) {
            List<String> failing = new ArrayList<>(raw.failing);
            failing.add(KernelSelftests.CLASS + ".(guest died)");
            return new Raw(failing, "the guest died during the selftests: " + firstLine(end.hookFailure()), false, null,
                    boot, raw.slow);
        }
        return raw;
    }

    /**
     * The selftests' result from their outcomes ({@code guestHung}: the guest stopped answering while they
     * ran, so the outcomes are what its TAP held then): a run in which a test never ended (the guest hung,
     * or the guest script stopped waiting for hmm-tests) is judged by {@link #afterHang}; otherwise every
     * failed test counts, those the harness ended at its time limit as {@code slow}.
     */
    static Raw fromSelftests(List<TestOutcome> outcomes, double boot, boolean guestHung) {
        if (guestHung || outcomes.stream().anyMatch(o -> o.message().startsWith(KernelSelftests.NO_RESULT)
                || o.test().equals(KernelSelftests.STALLED))) {
            return afterHang(outcomes, boot, guestHung ? "the guest stopped answering" : "hmm-tests stalled");
        }
        List<String> failing = new ArrayList<>();
        Set<String> slow = new LinkedHashSet<>();
        String first = "";
        for (TestOutcome o : outcomes) {
            if (o.status() == TestOutcome.Status.FAILED || o.status() == TestOutcome.Status.KERNEL_SPLAT) {
                failing.add(o.testClass() + "." + o.test());
                if (o.status() == TestOutcome.Status.FAILED && o.message().contains(HARNESS_TIMEOUT)) {
                    slow.add(o.testClass() + "." + o.test());
                }
                if (first.isEmpty()) {
                    first = o.testClass() + "." + o.test() + ": " + o.message();
                }
            }
        }
        return new Raw(failing, first, false, null, boot, slow);
    }

    /**
     * The selftests' result when a test never ended (the guest stopped answering, or hmm-tests stalled
     * and the guest script stopped waiting for it), from the TAP they left
     * ({@code partial}): a test that had failed before the hang counts (hmm-tests printed "not ok" for it,
     * as a developer would see), while the test running at the hang and those never run are the hang's
     * ({@code slow}: alone they make a timeout, not a kill). {@code how}: what ended the run, for the report.
     */
    static Raw afterHang(List<TestOutcome> partial, double boot, String how) {
        List<String> failing = new ArrayList<>();
        Set<String> slow = new LinkedHashSet<>();
        String first = "";
        String hungIn = null;
        for (TestOutcome o : partial) {
            if (o.status() != TestOutcome.Status.FAILED && o.status() != TestOutcome.Status.KERNEL_SPLAT) {
                continue;
            }
            String name = o.testClass() + "." + o.test();
            failing.add(name);
            if (o.message().startsWith(KernelSelftests.NO_RESULT) || o.test().equals(KernelSelftests.NOT_RUN)
                    || o.test().equals(KernelSelftests.STALLED) || o.message().contains(HARNESS_TIMEOUT)) {
                slow.add(name);
                if (o.message().startsWith(KernelSelftests.NO_RESULT)) {
                    hungIn = o.test();
                }
            } else if (first.isEmpty()) {
                first = name + ": " + o.message();
            }
        }
        String hang = how + (hungIn != null ? " in " + hungIn : "");
        first = first.isEmpty() ? hang : first + " (then " + hang + ")";
        return new Raw(failing, first, true, null, boot, slow);
    }

    private Raw explorer(Settings base, KernelProfile profile, Path dir) {
        // its race mode needs two vCPUs; the programs run on them too
        Settings s = base.raw(Setting.GUEST_CPUS).isPresent() ? base : base.with(Setting.GUEST_CPUS, "2");
        s = s.with(Setting.TEST_TIMEOUT, Long.toString(config.explorerTimeoutSeconds()));
        GuestSession session;
        try {
            session = GuestSession.start(new GuestSession.Spec(s, profile, GuestClasspath.current(), Map.of(), List.of()));
        } catch (GuestFailure e) {
            return e.booting() ? new Raw(List.of(), "", false, firstLine(e), -1)
                    : new Raw(List.of(), "", e.getMessage().contains(HANG), null, -1);
        } catch (SetupException e) {
            return new Raw(List.of(), "", false, firstLine(e), -1);
        }
        double boot = session.timings().agentReady();
        Path log = dir.resolve("explorer.log");
        List<String> args = new ArrayList<>(List.of(Explorer.class.getName()));
        args.addAll(config.explorerArgs("/hmm/out/explorer"));
        boolean hung = false;
        int rc = -1;
        AtomicLong heard = new AtomicLong(System.nanoTime());
        AtomicBoolean silenced = new AtomicBoolean();
        // the explorer prints every 10 s while its programs run: a guest silent for EXPLORER_SILENCE is stuck
        // (a mutant that livelocks a task), and waiting for the whole time limit (an hour) would tell nothing more
        Thread watchdog = Thread.ofPlatform().daemon().name("hmm-explorer-silence").start(() -> {
            try {
                while (System.nanoTime() - heard.get() < EXPLORER_SILENCE.toNanos()) {
                    Thread.sleep(5_000);
                }
                silenced.set(true);
                Progress.say("mutate: the explorer printed nothing for %d s: its guest is stopped as hung (%s)",
                        EXPLORER_SILENCE.toSeconds(), log);
                session.kill();
            } catch (InterruptedException e) {
                // the explorer ended
            }
        });
        try (session; OutputStream out = Files.newOutputStream(log)) {
            GuestResult r = session.stream(javaCommand(session, args), bytes -> {
                heard.set(System.nanoTime());
                try {
                    out.write(bytes);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }, null, Duration.ofSeconds(config.explorerTimeoutSeconds()));
            rc = Protocol.exitCode(r.message());
            session.finish(true);
        } catch (GuestFailure e) {
            hung = silenced.get() || e.getMessage().contains(HANG);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SetupException("interrupted", e);
        } finally {
            watchdog.interrupt();
        }
        return explorerResult(rc, hung, failureLine(log), config.explorerSeed(), boot);
    }

    /** How long the explorer's guest may print nothing before it counts as hung. */
    static final Duration EXPLORER_SILENCE = Duration.ofMinutes(5);

    /**
     * The explorer's result from its exit code ({@code -1}: it did not finish), whether its guest hung, and
     * its first "FAILED" line: a violation it printed counts even when the guest hung afterwards (while it
     * shrank the program, say); a hang without one is a timeout.
     */
    static Raw explorerResult(int rc, boolean hung, java.util.Optional<String> failed, long seed, double boot) {
        List<String> failing = new ArrayList<>();
        String first = "";
        if (failed.isPresent() || rc != 0 && rc != -1 || rc == -1 && !hung) {
            first = failed.orElse(rc == -1 ? "the explorer did not finish" : "exit code " + rc)
                    + (hung && failed.isPresent() ? " (then its guest stopped answering)" : "");
            failing.add("explorer(seed " + seed + ")");
        }
        return new Raw(failing, first, hung && failing.isEmpty(), null, boot);
    }

    /** The explorer's first "FAILED" line (shrunk programs follow it in the log). */
    static java.util.Optional<String> failureLine(Path log) {
        try (Stream<String> lines = Files.lines(log, StandardCharsets.ISO_8859_1)) {
            return lines.filter(l -> l.contains("FAILED")).findFirst().map(String::strip);
        } catch (IOException | UncheckedIOException e) {
            return java.util.Optional.empty();
        }
    }

    /**
     * What the explorer needs in the guest, one class of each jar: the explorer, the bindings, and picocli (the
     * explorer reads its options with it; without it the explorer died at once on every kernel).
     */
    static final List<Class<?>> STAGED = List.of(Explorer.class, Mirror.class, picocli.CommandLine.class);

    /** A java command line for the guest: the explorer's jar and the bindings, staged into the run's out/. */
    private String javaCommand(GuestSession session, List<String> program) {
        List<Path> cp = new ArrayList<>();
        try {
            for (Class<?> c : STAGED) {
                cp.add(Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()));
            }
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
        return session.javaCommand(cp, List.of(), program);
    }

    /** The kernel reports on the consoles of every boot under {@code dir}: kind and headline, then up to 12 lines. */
    static List<String> splats(Path dir) {
        List<String> out = new ArrayList<>();
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path console : s.filter(p -> p.getFileName().toString().equals("console.log")).sorted().toList()) {
                SplatDetector detector = new SplatDetector();
                int n = 0;
                try (var lines = Files.newBufferedReader(console, StandardCharsets.ISO_8859_1)) {
                    for (String line = lines.readLine(); line != null; line = lines.readLine()) {
                        int bar = line.indexOf("| ");
                        detector.accept(++n, 0, bar >= 0 && bar < 14 ? line.substring(bar + 2) : line);
                    }
                }
                for (KernelSplat k : detector.splats()) {
                    List<String> report = k.report().lines().limit(12).toList();
                    out.add(k.kind() + ": " + k.headline() + "\n" + String.join("\n", report) + "\n(" + console + " line "
                            + k.lineNumber() + ")");
                }
            }
        } catch (IOException e) {
            out.add("(could not read the console logs under " + dir + ": " + e.getMessage() + ")");
        }
        return out;
    }

    /** The tests failing on the baseline, by detector: never counted as kills. */
    static Set<String> baselineFailures(MutantResult baseline, Detector d) {
        if (baseline == null || !baseline.detectors().containsKey(d)) {
            return Set.of();
        }
        return new LinkedHashSet<>(baseline.detectors().get(d).allFailing());
    }

    private static String firstLine(Throwable t) {
        String m = t.getMessage() == null ? t.toString() : t.getMessage();
        return m.lines().findFirst().orElse(m);
    }
}
