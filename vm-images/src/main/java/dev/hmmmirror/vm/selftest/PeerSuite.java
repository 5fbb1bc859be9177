package dev.hmmmirror.vm.selftest;

import dev.hmmmirror.agent.protocol.GuestResult;
import dev.hmmmirror.agent.protocol.Markers;
import dev.hmmmirror.vm.config.Settings;
import dev.hmmmirror.vm.host.Exec;
import dev.hmmmirror.vm.host.Progress;
import dev.hmmmirror.vm.image.AptSources;
import dev.hmmmirror.vm.image.GuestImage;
import dev.hmmmirror.vm.image.ImageCache;
import dev.hmmmirror.vm.image.KernelProfile;
import dev.hmmmirror.vm.image.PackageIndex;
import dev.hmmmirror.vm.image.Scripts;
import dev.hmmmirror.vm.result.TestOutcome;
import dev.hmmmirror.vm.session.GuestSession;
import dev.hmmmirror.vm.session.SessionHook;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The peer suite: rdma-core's own On-Demand Paging tests ({@code tests/test_odp.py}, shipped by
 * Debian's python3-pyverbs) run against rxe in the guest that ran our suite, after it. They are a
 * second, independent test suite of a real HMM mirror (rxe's ODP: {@code hmm_range_fault()} and
 * an {@code mmu_interval_notifier}); their outcomes are parsed from unittest's verbose output, test
 * by test, reported next to ours and never counted as ours (a kernel splat while they run still
 * fails the run, as everywhere).
 *
 * <p>pyverbs and its Python are a cache layer of their own ({@code pyverbs-sid-<key>}: the
 * packages the shared userland lacks, unpacked, 44 MiB), staged into the host share (hard links)
 * only for sessions that run the peer suite. Kernels without {@code CONFIG_RDMA_RXE} get a skipped
 * row naming it without the layer; a kernel whose rxe0 has no ODP (6.12, 6.1) gets one found in
 * the guest ({@code ibv_devinfo -v}).
 */
public final class PeerSuite implements SessionHook<PeerSuite.Result>, GuestSession.StagedHook {
    /** Test class name under which their outcomes are reported. */
    public static final String CLASS = "rdma-core";
    /** The cache entry name of the layer. */
    static final String LAYER = "pyverbs-" + KernelProfile.USERLAND_SUITE;
    /** What the layer is resolved from (their versions are part of its key). */
    static final List<String> PACKAGES = List.of("python3-pyverbs", "python3");
    /** The folder of the host share the suite is staged in. */
    static final String STAGE = "peer";

    /** A result line: {@code name (module.Class.name) ... rest}. */
    private static final Pattern START = Pattern.compile("^(\\w+) \\(([\\w.]+)\\)(?: \\((.*)\\))?(?: \\.\\.\\.(?: (.*))?)?$");
    /** A docstring line, then the outcome: {@code First line of the docstring ... ok}. */
    private static final Pattern DOC_END = Pattern.compile("^.* \\.\\.\\. (.*)$");
    private static final Pattern OUTCOME = Pattern.compile(
            "^(?:.*?\\s)??(ok|FAIL|ERROR|skipped '(.*)'|skipped \"(.*)\"|expected failure|unexpected success)$");
    private static final Pattern HEADER = Pattern.compile("^(FAIL|ERROR|UNEXPECTED SUCCESS): (\\w+) \\(([\\w.]+)\\)");
    private static final Pattern KERNEL_STAMP = Pattern.compile("\\[\\s*\\d+\\.\\d{6}\\]");
    private static final Pattern SEPARATOR = Pattern.compile("^-{20,}\\s*$");
    private static final Pattern RAN = Pattern.compile("^Ran (\\d+) tests? in");
    private static final Pattern EXIT = Pattern.compile("^# hmm-mirror: rdma-core tests exit status (\\d+)");

    private final Settings settings;

    /**
     * What the peer suite gave.
     *
     * @param outcomes     one per test (or one {@code (suite)} row: skipped with why, or what went wrong)
     * @param seconds      how long it took in the guest (rxe setup included)
     * @param consoleLines where on the console it ran ({@code from-to})
     * @param log          unittest's output (host path; may not exist when it did not run)
     */
    public record Result(List<TestOutcome> outcomes, long seconds, String consoleLines, Path log) {
        /** How many outcomes have status {@code s}. */
        public long count(TestOutcome.Status s) {
            return outcomes.stream().filter(o -> o.status() == s).count();
        }
    }

    /** The hook of a session configured by {@code settings} ({@code hmm.peer}). */
    public PeerSuite(Settings settings) {
        this.settings = settings;
    }

    @Override
    public String name() {
        return "rdma-core's ODP tests";
    }

    /** Whether it runs: {@code hmm.peer} is not false and the stage has the suite or says why not. */
    @Override
    public boolean wanted(GuestSession s) {
        return settings.peerSuite() && Files.isDirectory(s.runDir().resolve("host").resolve(STAGE));
    }

    /**
     * Stages the suite: the layer (built when missing) and the guest script, or a {@code skipped.txt}
     * saying why not (another architecture, a kernel without rxe, a layer that could not be built).
     */
    @Override
    public void stage(GuestImage image, Path stage) throws IOException {
        if (!settings.peerSuite()) {
            return;
        }
        Path dir = stage.resolve(STAGE);
        Files.createDirectories(dir);
        String why = unsupported(image);
        if (why == null) {
            try {
                Path layer = ensureLayer(ImageCache.of(settings), settings, image);
                long t0 = System.nanoTime();
                link(layer.resolve("root"), dir.resolve("root"));
                Scripts.install("peer-suite.sh", dir);
                Progress.say("peer suite: pyverbs layer staged in %s (%s)", Progress.since(t0), layer.getFileName());
                return;
            } catch (RuntimeException e) {
                why = "the pyverbs layer could not be built: " + e.getMessage();
                Files.writeString(dir.resolve("layer-failed"), why + "\n");
            }
        }
        Files.writeString(dir.resolve("skipped.txt"), why + "\n");
    }

    /** Why the peer suite cannot run on {@code image} before it boots, or null. */
    static String unsupported(GuestImage image) {
        if (image.profile().foreign()) {
            return "the pyverbs layer is built for amd64 guests only (this is " + image.profile().arch() + ")";
        }
        String config;
        try {
            config = Files.isRegularFile(image.config()) ? Files.readString(image.config(), StandardCharsets.ISO_8859_1)
                    : "";
        } catch (IOException e) {
            config = "";
        }
        if (config.isEmpty()) {
            return null; // no config to read: let the guest find out
        }
        for (String option : List.of("CONFIG_RDMA_RXE", "CONFIG_INFINIBAND_ON_DEMAND_PAGING")) {
            if (!Pattern.compile("(?m)^" + option + "=[ym]$").matcher(config).find()) {
                return "kernel " + image.kernelRelease() + " has no " + option + " (rdma-core's ODP tests need rxe with "
                        + "On-Demand Paging)";
            }
        }
        return null;
    }

    /**
     * The pyverbs layer of {@code image}'s userland, built when missing: a cache entry keyed by the
     * build script, the userland it extends and the versions of {@link #PACKAGES} in the suite.
     */
    static Path ensureLayer(ImageCache cache, Settings settings, GuestImage image) {
        String suite = KernelProfile.USERLAND_SUITE;
        Map<String, String> versions = new TreeMap<>(new PackageIndex(cache, AptSources.debianMirror(settings))
                .resolve(suite, PACKAGES));
        versions.remove("kernel.release");
        String userlandEntry = image.userland().getParent().getFileName().toString();
        String key = Scripts.hash(List.of("build-pyverbs-layer.sh"), suite, userlandEntry, versions.toString());
        Path apt = cache.root().resolve("apt").resolve(suite);
        return cache.ensure(LAYER, key, "pyverbs layer (" + suite + ", " + versions + ")", dir -> {
            long t = System.nanoTime();
            Progress.say("peer suite: building the pyverbs layer (%s: %s), about 15-60 s; log %s", suite, versions,
                    dir.resolve("build.log"));
            Exec.run(dir.resolve("build.log"), 900, List.of("bash",
                    Scripts.install("build-pyverbs-layer.sh", dir.resolve("scripts")).toString(), dir.toString(),
                    image.userland().toString(), apt.toString(), "/hmm/host/" + STAGE + "/root"));
            Progress.say("peer suite: pyverbs layer built in %s (%s KiB)", Progress.since(t),
                    Files.readString(dir.resolve("size-kib")).strip());
        });
    }

    /** Mirrors {@code from} into {@code to} with hard links (copies where linking fails), symbolic links as such. */
    static void link(Path from, Path to) {
        try (Stream<Path> all = Files.walk(from)) {
            for (Path p : (Iterable<Path>) all::iterator) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isSymbolicLink(p)) {
                    Files.createSymbolicLink(target, Files.readSymbolicLink(p));
                } else if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                    Files.createDirectories(target);
                } else {
                    try {
                        Files.createLink(target, p);
                    } catch (FileSystemException | UnsupportedOperationException e) {
                        Files.copy(p, target, StandardCopyOption.COPY_ATTRIBUTES);
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot stage " + from + " in " + to + ": " + e.getMessage(), e);
        }
    }

    /**
     * Runs the suite in the guest of {@code s} (or reports why not); its output lands in the run's
     * {@code out/peer/}. Kernel reports seen while it runs are left to the session.
     */
    @Override
    public Result run(GuestSession s) throws InterruptedException {
        Path staged = s.runDir().resolve("host").resolve(STAGE);
        int first = s.console().lineCount() + 1;
        long t0 = System.nanoTime();
        Path skipped = staged.resolve("skipped.txt");
        if (Files.isRegularFile(skipped)) {
            String why = read(skipped);
            TestOutcome.Status st = Files.exists(staged.resolve("layer-failed")) ? TestOutcome.Status.FAILED
                    : TestOutcome.Status.SKIPPED;
            Progress.say("peer suite on %s: %s: %s", s.image().kernelRelease(), st == TestOutcome.Status.SKIPPED
                    ? "skipped" : "not run", why);
            return new Result(List.of(new TestOutcome(CLASS, "(suite)", st, why, "")), 0, "",
                    s.runDir().resolve("out/peer/test_odp.log"));
        }
        long limit = s.image().profile().debug() ? 1800 : 900;
        Progress.say("peer suite on %s: rdma-core's tests.test_odp against rxe0, up to %d s", s.image().kernelRelease(),
                limit);
        GuestResult r = s.exec("sh /hmm/host/" + STAGE + "/peer-suite.sh /hmm/host/" + STAGE + "/root /hmm/out/peer "
                + limit, Duration.ofSeconds(limit + 120));
        s.console().await(t -> t.startsWith(Markers.PEER + " end") || t.startsWith(Markers.PEER + " skipped")
                || t.startsWith(Markers.PEER + " setup failed"), System.nanoTime() + 10_000_000_000L);
        String lines = first + "-" + s.console().lineCount();
        String setupFailure = r.status() != GuestResult.Status.PASSED ? (r.message() + " " + r.output()).strip() : null;
        Path out = s.runDir().resolve("out/peer");
        List<TestOutcome> outcomes = outcomes(out, lines, setupFailure);
        Result result = new Result(outcomes, (System.nanoTime() - t0) / 1_000_000_000L, lines,
                out.resolve("test_odp.log"));
        if (outcomes.size() == 1 && outcomes.getFirst().test().equals("(suite)")) {
            Progress.say("peer suite on %s: skipped in %s: %s", s.image().kernelRelease(), Progress.since(t0),
                    outcomes.getFirst().message());
            return result;
        }
        Progress.say("peer suite on %s: %d passed, %d failed, %d skipped in %s (log: %s; not counted in our exit code)",
                s.image().kernelRelease(), result.count(TestOutcome.Status.PASSED),
                result.count(TestOutcome.Status.FAILED), result.count(TestOutcome.Status.SKIPPED), Progress.since(t0),
                result.log());
        return result;
    }

    private static String read(Path p) {
        try {
            return Files.readString(p, StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            return "unreadable " + p;
        }
    }

    /** The outcomes of a run whose guest output is in {@code out} ({@code skipped.txt} or {@code test_odp.log}). */
    static List<TestOutcome> outcomes(Path out, String lines, String setupFailure) {
        if (Files.isRegularFile(out.resolve("skipped.txt"))) {
            return List.of(new TestOutcome(CLASS, "(suite)", TestOutcome.Status.SKIPPED, read(out.resolve("skipped.txt")),
                    lines));
        }
        Path log = out.resolve("test_odp.log");
        if (setupFailure != null || !Files.isRegularFile(log)) {
            return List.of(new TestOutcome(CLASS, "(setup)", TestOutcome.Status.FAILED, "rdma-core's tests did not run: "
                    + (setupFailure != null ? setupFailure : "no output"), lines));
        }
        Map<String, Span> spans = consoleSpans(out.getParent().getParent().resolve("console.log"));
        List<TestOutcome> parsed = new ArrayList<>();
        for (TestOutcome o : parse(read(log), lines)) {
            Span span = spans.get(o.test());
            parsed.add(span == null ? o : new TestOutcome(o.testClass(), o.test(), o.status(), o.message(), span.lines(),
                    span.seconds()));
        }
        return parsed;
    }

    /**
     * A test's part of the console.
     *
     * @param lines   {@code from-to}, 1-based
     * @param seconds host seconds from the previous result line (or the start marker) to its own;
     *                negative when the console lines carry no time
     */
    record Span(String lines, double seconds) {}

    /**
     * Where each test is on the console, and how long it took: from the line after the previous
     * test's result (or after the suite's start marker) to its own result line, which the guest
     * script echoes to the console, so that the kernel's messages of the test lie in between
     * (unittest prints no durations: the console's host times give them).
     */
    static Map<String, Span> consoleSpans(Path console) {
        Map<String, Span> out = new LinkedHashMap<>();
        if (!Files.isRegularFile(console)) {
            return out;
        }
        int n = 0;
        int from = -1;
        double since = -1;
        String current = null;
        try (var lines = Files.newBufferedReader(console, StandardCharsets.ISO_8859_1)) {
            for (String line = lines.readLine(); line != null; line = lines.readLine()) {
                n++;
                int bar = line.indexOf("| ");
                double time = bar > 0 && bar < 14 ? seconds(line.substring(0, bar)) : -1;
                String text = (bar >= 0 && bar < 14 ? line.substring(bar + 2) : line).stripTrailing();
                // a kernel message can land in the middle of a result line (ours is written in pieces)
                Matcher k = KERNEL_STAMP.matcher(text);
                if (k.find() && k.start() > 0) {
                    text = text.substring(0, k.start()).stripTrailing();
                }
                if (text.startsWith(Markers.PREFIX + Markers.PEER + " start")) {
                    from = n + 1;
                    since = time;
                    current = null;
                    continue;
                }
                if (from < 0) {
                    continue;
                }
                Matcher m = START.matcher(text);
                String rest;
                if (m.matches()) {
                    current = name(m.group(2), m.group(1));
                    rest = m.group(4);
                } else {
                    Matcher d = DOC_END.matcher(text);
                    rest = d.matches() ? d.group(1) : null;
                }
                if (current != null && rest != null && OUTCOME.matcher(rest.strip()).matches()) {
                    out.putIfAbsent(current, new Span(from + "-" + n, time >= 0 && since >= 0 ? time - since : -1));
                    from = n + 1;
                    since = time;
                    current = null;
                }
            }
        } catch (IOException e) {
            return out;
        }
        return out;
    }

    /**
     * Outcomes from unittest's verbose output ({@code -v}): one line per test, {@code name (module.Class.name)
     * ... ok | FAIL | ERROR | skipped 'reason' | expected failure | unexpected success} (a docstring's
     * first line, or what the test printed, may come between the name and its outcome); a failure's
     * message is the last line of its traceback block. A test that started and never finished, and
     * fewer tests than "Ran N tests" or an output without it, give failed rows.
     */
    static List<TestOutcome> parse(String log, String consoleLines) {
        Map<String, TestOutcome> out = new LinkedHashMap<>();
        Map<String, String> why = new LinkedHashMap<>();
        String current = null;
        String exit = null;
        int ran = -1;
        String[] all = log.split("\n");
        for (int i = 0; i < all.length; i++) {
            String line = all[i].stripTrailing();
            Matcher m;
            if ((m = HEADER.matcher(line)).find()) {
                // the traceback block: up to the next separator; its last non-blank line says what failed
                String name = name(m.group(3), m.group(2));
                String last = "";
                int j = i + 1 < all.length && SEPARATOR.matcher(all[i + 1]).matches() ? i + 2 : i + 1;
                for (; j < all.length && !all[j].startsWith("=====") && !SEPARATOR.matcher(all[j]).matches()
                        && !RAN.matcher(all[j]).find(); j++) {
                    if (!all[j].isBlank() && !all[j].startsWith("Traceback")) {
                        last = all[j].strip();
                    }
                }
                why.putIfAbsent(name, last);
                current = null;
            } else if ((m = RAN.matcher(line)).find()) {
                ran = Integer.parseInt(m.group(1));
                current = null;
            } else if ((m = EXIT.matcher(line)).find()) {
                exit = m.group(1);
            } else if (current == null && (m = START.matcher(line)).matches()) {
                current = name(m.group(2), m.group(1));
                String rest = m.group(4);
                if (rest != null && outcome(current, rest, out, consoleLines)) {
                    current = null;
                }
            } else if (current != null) {
                Matcher d = DOC_END.matcher(line);
                String rest = d.matches() ? d.group(1) : line;
                if (outcome(current, rest, out, consoleLines)) {
                    current = null;
                }
            }
        }
        List<TestOutcome> result = new ArrayList<>();
        for (TestOutcome o : out.values()) {
            String w = why.get(o.test());
            result.add(w == null || w.isEmpty() ? o : new TestOutcome(o.testClass(), o.test(), o.status(),
                    o.message() + ": " + w, o.consoleLines()));
        }
        String how = exit == null ? "output cut off" : exit.equals("137") ? "killed at the time limit"
                : "exit status " + exit;
        if (current != null) {
            result.add(new TestOutcome(CLASS, current, TestOutcome.Status.FAILED, "started but reported no result ("
                    + how + ")", consoleLines));
        }
        if (ran < 0 && current == null) {
            result.add(new TestOutcome(CLASS, "(run)", TestOutcome.Status.FAILED, "unittest reported no 'Ran N tests' ("
                    + how + ")", consoleLines));
        } else if (ran > out.size()) {
            result.add(new TestOutcome(CLASS, "(run)", TestOutcome.Status.FAILED, "unittest ran " + ran
                    + " tests, " + out.size() + " reported a result (" + how + ")", consoleLines));
        }
        return result;
    }

    private static double seconds(String s) {
        try {
            return Double.parseDouble(s.strip());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** {@code tests.test_odp.OdpTestCase.test_x} -> {@code test_odp.OdpTestCase.test_x}. */
    private static String name(String id, String method) {
        String n = id.endsWith("." + method) || id.equals(method) ? id : id + "." + method;
        return n.startsWith("tests.") ? n.substring("tests.".length()) : n;
    }

    /** Records the outcome {@code rest} ends with, if it does; true when it did. */
    private static boolean outcome(String test, String rest, Map<String, TestOutcome> out, String consoleLines) {
        Matcher m = OUTCOME.matcher(rest.strip());
        if (!m.matches()) {
            return false;
        }
        String word = m.group(1);
        TestOutcome o;
        if (word.equals("ok")) {
            o = new TestOutcome(CLASS, test, TestOutcome.Status.PASSED, "", consoleLines);
        } else if (word.equals("expected failure")) {
            o = new TestOutcome(CLASS, test, TestOutcome.Status.PASSED, "expected failure", consoleLines);
        } else if (word.startsWith("skipped")) {
            o = new TestOutcome(CLASS, test, TestOutcome.Status.SKIPPED, m.group(2) != null ? m.group(2) : m.group(3),
                    consoleLines);
        } else {
            o = new TestOutcome(CLASS, test, TestOutcome.Status.FAILED, word.equals("unexpected success")
                    ? "unexpected success" : word, consoleLines);
        }
        out.putIfAbsent(test, o);
        return true;
    }
}
