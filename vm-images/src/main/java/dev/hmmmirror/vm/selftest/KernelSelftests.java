package dev.hmmmirror.vm.selftest;

import dev.hmmmirror.agent.protocol.GuestResult;
import dev.hmmmirror.agent.protocol.Markers;
import dev.hmmmirror.vm.boot.KernelSplat;
import dev.hmmmirror.vm.config.Settings;
import dev.hmmmirror.vm.host.Progress;
import dev.hmmmirror.vm.image.GuestImage;
import dev.hmmmirror.vm.image.Scripts;
import dev.hmmmirror.vm.result.TestOutcome;
import dev.hmmmirror.vm.session.GuestSession;
import dev.hmmmirror.vm.session.SessionHook;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The kernel's own hmm selftests ({@code test_hmm.ko} + {@code hmm-tests} from the same source),
 * run in the guest that ran our suite, after it. Their wrapper script always exits 0, and the 6.1
 * harness counts skips as passes, so the TAP they print is parsed here, test by test. Their
 * results are reported next to ours and never counted as ours (a kernel splat while they run
 * still fails the run: that is the kernel's, whoever triggered it).
 */
public final class KernelSelftests implements SessionHook<KernelSelftests.Result>, GuestSession.StagedHook {
    /** Test class name under which their outcomes are reported. */
    public static final String CLASS = "hmm-tests";

    private static final Pattern RESULT = Pattern.compile("^(not )?ok \\d+ (?:- )?(\\S+)(?:\\s+#\\s*(\\w+)\\s*(.*))?$");
    private static final Pattern RUN = Pattern.compile("^#\\s+RUN\\s+(\\S+)");
    private static final Pattern SKIP = Pattern.compile("^#\\s+SKIP\\s+(.*)$");
    private static final Pattern PLAN = Pattern.compile("^1\\.\\.(\\d+)");
    private static final Pattern EXIT = Pattern.compile("^# hmm-mirror: hmm-tests exit status (\\d+)");
    /** The harness's own line after a test ({@code #            OK  NAME}), before its TAP result line. */
    private static final Pattern ENDED = Pattern.compile("^#\\s+(OK|FAIL)\\s+(\\S+)$");
    /** Why a test failed: an assertion ("file.c:123:test:Expected ...") or the harness ending it ("x: Test terminated by timeout"). */
    private static final Pattern ASSERTION = Pattern.compile("^#\\s+(\\S+\\.c:\\d+:.*|\\S+: Test terminated by .*)");

    private final Settings settings;

    /**
     * What the kernel's selftests gave.
     *
     * @param outcomes     one per selftest (plus "(setup)", "(not run)", "(kernel)" rows where those went wrong)
     * @param seconds      how long they ran
     * @param consoleLines where on the console they ran ({@code from-to})
     * @param tap          the TAP file (host path)
     */
    public record Result(List<TestOutcome> outcomes, long seconds, String consoleLines, Path tap) {
        /** How many outcomes have status {@code s}. */
        public long count(TestOutcome.Status s) {
            return outcomes.stream().filter(o -> o.status() == s).count();
        }
    }

    /** The hook of a session configured by {@code settings} ({@code hmm.kselftest}, {@code hmm.kselftest.timeout}). */
    public KernelSelftests(Settings settings) {
        this.settings = settings;
    }

    @Override
    public String name() {
        return "the kernel's hmm selftests";
    }

    /** Whether they run: the image has them and {@code hmm.kselftest} is not false. */
    @Override
    public boolean wanted(GuestSession s) {
        return s.image().selftests().isPresent() && settings.kselftest();
    }

    @Override
    public void stage(GuestImage image, Path stage) throws IOException {
        if (image.selftests().isPresent() && settings.kselftest()) {
            Files.createDirectories(stage.resolve("kselftest"));
            Files.copy(image.selftests().get(), stage.resolve("kselftest/hmm-tests"), StandardCopyOption.COPY_ATTRIBUTES);
            Scripts.install("kselftest-hmm.sh", stage.resolve("kselftest"));
        }
    }

    /**
     * Runs them in the guest of {@code s}; their TAP lands in the run's {@code out/kselftest/}. Kernel
     * reports seen while they run are left to the session ({@link GuestSession#newSplats()}).
     */
    @Override
    public Result run(GuestSession s) throws InterruptedException {
        long limit = settings.kselftestTimeoutSeconds().orElse(s.image().profile().debug() ? 1800 : 600);
        int first = s.console().lineCount() + 1;
        long t0 = System.nanoTime();
        Progress.say("kernel selftests on %s: test_hmm + the kernel's hmm-tests, up to %d s", s.image().kernelRelease(),
                limit);
        GuestResult r = s.exec("sh /hmm/host/kselftest/kselftest-hmm.sh /hmm/host/kselftest/hmm-tests "
                + "/hmm/out/kselftest " + limit, Duration.ofSeconds(limit + 120));
        // the console trails the agent's answer: let the script's last marker arrive
        s.console().await(t -> t.startsWith(Markers.KSELFTEST + " rmmod") || t.startsWith(Markers.KSELFTEST + " modprobe"),
                System.nanoTime() + 10_000_000_000L);
        String lines = first + "-" + s.console().lineCount();
        String setupFailure = r.status() != GuestResult.Status.PASSED ? (r.message() + " " + r.output()).strip() : null;
        Path tap = s.runDir().resolve("out/kselftest/hmm-tests.tap");
        List<TestOutcome> outcomes = outcomes(s.runDir(), lines, setupFailure);
        Result result = new Result(outcomes, (System.nanoTime() - t0) / 1_000_000_000L, lines, tap);
        Progress.say("kernel selftests on %s: %d passed, %d failed, %d skipped in %s (TAP: %s; not counted in our "
                + "exit code)", s.image().kernelRelease(), result.count(TestOutcome.Status.PASSED),
                result.count(TestOutcome.Status.FAILED), result.count(TestOutcome.Status.SKIPPED), Progress.since(t0), tap);
        return result;
    }

    /**
     * The outcomes in the TAP that a run left in {@code runDir}, also when it was cut off (a guest that
     * stopped answering in the middle of the tests): the tests reported before, the one running then
     * ("started but reported no result") and how many never ran. Empty when there is no TAP.
     */
    public static List<TestOutcome> partialOutcomes(Path runDir) {
        if (!Files.isRegularFile(runDir.resolve("out/kselftest/hmm-tests.tap"))) {
            return List.of();
        }
        return outcomes(runDir, "", null);
    }

    /** What {@link #parse} says of the test that was running when the TAP ended. */
    public static final String NO_RESULT = "started but reported no result";

    /** The name {@link #parse} gives the planned tests that never ran. */
    public static final String NOT_RUN = "(not run)";

    /**
     * The name of the outcome that says the guest script stopped waiting for hmm-tests: no output for
     * its stall time (a test stuck in the kernel, where the harness's SIGKILL cannot end it).
     */
    public static final String STALLED = "(stalled)";

    /**
     * Why the guest script stopped waiting for hmm-tests, if it did: its {@code stalled} file, or (runs
     * before that file) its "stalled" marker on the console.
     */
    private static java.util.Optional<String> stall(Path file, Path console) throws IOException {
        if (Files.isRegularFile(file)) {
            return java.util.Optional.of(Files.readString(file, StandardCharsets.ISO_8859_1).strip());
        }
        if (!Files.isRegularFile(console)) {
            return java.util.Optional.empty();
        }
        try (var lines = Files.lines(console, StandardCharsets.ISO_8859_1)) {
            String marker = Markers.KSELFTEST + " stalled: ";
            return lines.map(l -> l.substring(Math.max(0, l.indexOf(marker)))).filter(l -> l.startsWith(marker))
                    .findFirst().map(l -> l.substring(Markers.KSELFTEST.length() + 1));
        }
    }

    /** The outcomes of a run in {@code runDir} (its TAP and console log). */
    static List<TestOutcome> outcomes(Path runDir, String lines, String setupFailure) {
        List<TestOutcome> out = new ArrayList<>();
        Path tap = runDir.resolve("out/kselftest/hmm-tests.tap");
        if (setupFailure != null || !Files.isRegularFile(tap)) {
            out.add(new TestOutcome(CLASS, "(setup)", TestOutcome.Status.FAILED, "the kernel's selftests did not run: "
                    + (setupFailure != null ? setupFailure : "no TAP output"), lines));
            return out;
        }
        try {
            Map<String, String> ranges = consoleRanges(runDir.resolve("console.log"));
            for (TestOutcome o : parse(Files.readString(tap, StandardCharsets.ISO_8859_1), lines)) {
                out.add(new TestOutcome(o.testClass(), o.test(), o.status(), o.message(),
                        ranges.getOrDefault(o.test(), o.consoleLines())));
            }
            stall(tap.resolveSibling("stalled"), runDir.resolve("console.log"))
                    .ifPresent(why -> out.add(new TestOutcome(CLASS, STALLED, TestOutcome.Status.FAILED, why, lines)));
        } catch (IOException e) {
            out.add(new TestOutcome(CLASS, "(run)", TestOutcome.Status.FAILED, "unreadable " + tap, lines));
        }
        return out;
    }

    /**
     * Where each selftest is on the console ({@code name -> "from-to"}, 1-based lines): from its
     * {@code #  RUN} line to its result line (or the end of the log), which the guest script echoes
     * to the console, so the kernel's messages of that test lie in between.
     */
    static Map<String, String> consoleRanges(Path console) {
        Map<String, String> out = new HashMap<>();
        if (!Files.isRegularFile(console)) {
            return out;
        }
        Map<String, Integer> open = new HashMap<>();
        int n = 0;
        try (var lines = Files.newBufferedReader(console, StandardCharsets.ISO_8859_1)) {
            for (String line = lines.readLine(); line != null; line = lines.readLine()) {
                n++;
                int bar = line.indexOf("| ");
                String text = bar >= 0 && bar < 14 ? line.substring(bar + 2) : line;
                Matcher m = RUN.matcher(text);
                if (m.find()) {
                    open.put(m.group(1), n);
                } else if ((m = RESULT.matcher(text.stripTrailing())).matches() && open.containsKey(m.group(2))) {
                    out.put(m.group(2), open.remove(m.group(2)) + "-" + n);
                }
            }
        } catch (IOException e) {
            return out;
        }
        int last = n;
        open.forEach((name, from) -> out.put(name, from + "-" + last));
        return out;
    }

    /**
     * Outcomes from kselftest TAP: {@code ok}/{@code not ok} lines, {@code # SKIP} directives and
     * the 6.1 harness's {@code #      SKIP} lines inside a test's block (its "ok" for a skip), tests
     * that started and never reported, and planned tests that never started.
     */
    static List<TestOutcome> parse(String tap, String consoleLines) {
        List<TestOutcome> out = new ArrayList<>();
        String current = null;
        String skip = null;
        String assertion = null;
        int planned = -1;
        int reported = 0;
        String exit = null;
        String[] rows = tap.split("\n", -1);
        // the last element is what follows the last newline: a line cut off where the output stopped, or ""
        String ended = null;
        for (String raw : java.util.Arrays.copyOf(rows, rows.length - 1)) {
            String line = raw.stripTrailing();
            Matcher m;
            if ((m = ENDED.matcher(line)).matches()) {
                ended = m.group(2).equals(current) ? m.group(1) : null;
                continue;
            }
            if ((m = PLAN.matcher(line)).find()) {
                planned = Integer.parseInt(m.group(1));
            } else if ((m = RUN.matcher(line)).find()) {
                current = m.group(1);
                ended = null;
                skip = null;
                assertion = null;
            } else if ((m = SKIP.matcher(line)).find()) {
                skip = m.group(1).strip();
            } else if ((m = EXIT.matcher(line)).find()) {
                exit = m.group(1);
            } else if (ASSERTION.matcher(line).matches() && assertion == null) {
                assertion = line.substring(1).strip();
            } else if ((m = RESULT.matcher(line)).matches()) {
                reported++;
                String directive = m.group(3) == null ? "" : m.group(3).toUpperCase(java.util.Locale.ROOT);
                String reason = m.group(4) == null ? "" : m.group(4).strip();
                TestOutcome.Status st;
                String msg;
                if (directive.equals("SKIP") || (m.group(1) == null && skip != null)) {
                    st = TestOutcome.Status.SKIPPED;
                    msg = !reason.isEmpty() ? reason : skip == null ? "" : skip;
                } else if (m.group(1) != null && !directive.equals("TODO") && !directive.equals("XFAIL")) {
                    st = TestOutcome.Status.FAILED;
                    msg = assertion != null ? assertion : "not ok";
                } else {
                    st = TestOutcome.Status.PASSED;
                    msg = directive.isEmpty() ? "" : directive.toLowerCase(java.util.Locale.ROOT) + " " + reason;
                }
                out.add(new TestOutcome(CLASS, m.group(2), st, msg.strip(), consoleLines));
                current = null;
                skip = null;
                assertion = null;
            }
        }
        String how = exit == null ? "output cut off" : exit.equals("137") ? "killed at the time limit" : "exit status " + exit;
        if (current != null && ended != null) {
            // the harness said how the test ended, and the output stopped before its TAP line
            TestOutcome.Status st = ended.equals("FAIL") ? TestOutcome.Status.FAILED
                    : skip != null ? TestOutcome.Status.SKIPPED : TestOutcome.Status.PASSED;
            String msg = st == TestOutcome.Status.FAILED ? (assertion != null ? assertion : "not ok")
                    : st == TestOutcome.Status.SKIPPED ? skip : "";
            out.add(new TestOutcome(CLASS, current, st, msg, consoleLines));
            reported++;
            current = null;
        }
        if (current != null) {
            out.add(new TestOutcome(CLASS, current, TestOutcome.Status.FAILED, NO_RESULT + " ("
                    + how + (assertion != null ? "; " + assertion : "") + ")", consoleLines));
            reported++;
        }
        if (planned > reported) {
            out.add(new TestOutcome(CLASS, NOT_RUN, TestOutcome.Status.FAILED, (planned - reported) + " of "
                    + planned + " planned tests never ran (" + how + ")", consoleLines));
        }
        if (planned < 0 && out.isEmpty()) {
            out.add(new TestOutcome(CLASS, "(run)", TestOutcome.Status.FAILED, "no TAP from hmm-tests (" + how + ")",
                    consoleLines));
        }
        return out;
    }

}
