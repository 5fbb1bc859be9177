package dev.hmmmirror.vm.suite;

import dev.hmmmirror.vm.GuestSession;
import dev.hmmmirror.vm.KernelSplat;
import dev.hmmmirror.vm.Progress;
import dev.hmmmirror.vm.agent.GuestResult;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The kernel's own hmm selftests ({@code test_hmm.ko} + {@code hmm-tests} from the same source),
 * run in the guest that ran our suite, after it. Their wrapper script always exits 0, and the 6.1
 * harness counts skips as passes, so the TAP they print is parsed here, test by test. Their
 * results are reported next to ours and never counted as ours (a kernel splat while they run
 * still fails the run: that is the kernel's, whoever triggered it).
 */
public final class KernelSelftests {
    /** Test class name under which their outcomes are reported. */
    public static final String CLASS = "hmm-tests";

    private static final String RECORD = "kselftest.properties";
    private static final Pattern RESULT = Pattern.compile("^(not )?ok \\d+ (?:- )?(\\S+)(?:\\s+#\\s*(\\w+)\\s*(.*))?$");
    private static final Pattern RUN = Pattern.compile("^#\\s+RUN\\s+(\\S+)");
    private static final Pattern SKIP = Pattern.compile("^#\\s+SKIP\\s+(.*)$");
    private static final Pattern PLAN = Pattern.compile("^1\\.\\.(\\d+)");
    private static final Pattern EXIT = Pattern.compile("^# hmm-mirror: hmm-tests exit status (\\d+)");
    /** Why a test failed: an assertion ("file.c:123:test:Expected ...") or the harness ending it ("x: Test terminated by timeout"). */
    private static final Pattern ASSERTION = Pattern.compile("^#\\s+(\\S+\\.c:\\d+:.*|\\S+: Test terminated by .*)");

    private KernelSelftests() {}

    /** Whether the selftests run at the end of a session: the image has them and {@code hmm.kselftest} is not false. */
    public static boolean wanted(GuestSession s) {
        return s.image().selftests().isPresent() && !"false".equals(System.getProperty("hmm.kselftest"));
    }

    /**
     * Runs them in the guest of {@code s}; their TAP lands in the run's {@code out/kselftest/}, a
     * record of the run next to it. Returns the kernel reports seen while they ran (not yet
     * returned by {@link GuestSession#newSplats()} to anyone else).
     */
    public static List<KernelSplat> run(GuestSession s) throws InterruptedException {
        long limit = Long.getLong("hmm.kselftest.timeout", s.image().profile().debug() ? 1800 : 600);
        int first = s.console().lineCount() + 1;
        long t0 = System.nanoTime();
        Progress.say("kernel selftests on %s: test_hmm + the kernel's hmm-tests, up to %d s", s.image().kernelRelease(),
                limit);
        GuestResult r = s.exec("sh /hmm/host/kselftest/kselftest-hmm.sh /hmm/host/kselftest/hmm-tests "
                + "/hmm/out/kselftest " + limit, Duration.ofSeconds(limit + 120));
        // the console trails the agent's answer: let the script's last marker arrive
        s.console().await(t -> t.startsWith("KSELFTEST rmmod") || t.startsWith("KSELFTEST modprobe"),
                System.nanoTime() + 10_000_000_000L);
        List<KernelSplat> splats = s.newSplats();
        Properties p = new Properties();
        p.setProperty("consoleLines", first + "-" + s.console().lineCount());
        p.setProperty("seconds", String.valueOf((System.nanoTime() - t0) / 1_000_000_000L));
        if (r.status() != GuestResult.Status.PASSED) {
            p.setProperty("setupFailure", (r.message() + " " + r.output()).strip());
        }
        if (!splats.isEmpty()) {
            p.setProperty("splat", splats.getFirst().kind() + ": " + splats.getFirst().headline());
        }
        try (OutputStream out = Files.newOutputStream(s.runDir().resolve(RECORD))) {
            p.store(out, "the kernel's hmm selftests in this run");
        } catch (IOException e) {
            Progress.say("could not record the kernel selftests run: %s", e.getMessage());
        }
        List<TestOutcome> outcomes = read(s.runDir());
        Progress.say("kernel selftests on %s: %d passed, %d failed, %d skipped in %s (TAP: %s; not counted in our "
                + "exit code)", s.image().kernelRelease(), count(outcomes, TestOutcome.Status.PASSED),
                count(outcomes, TestOutcome.Status.FAILED), count(outcomes, TestOutcome.Status.SKIPPED),
                Progress.since(t0), s.runDir().resolve("out/kselftest/hmm-tests.tap"));
        return splats;
    }

    /** The outcomes recorded in run folder {@code runDir}; empty when the selftests did not run there. */
    public static List<TestOutcome> read(Path runDir) {
        Path record = runDir.resolve(RECORD);
        if (!Files.isRegularFile(record)) {
            return List.of();
        }
        Properties p = new Properties();
        try (InputStream in = Files.newInputStream(record)) {
            p.load(in);
        } catch (IOException e) {
            return List.of(new TestOutcome(CLASS, "(run)", TestOutcome.Status.FAILED, "unreadable " + record, ""));
        }
        String lines = p.getProperty("consoleLines", "");
        List<TestOutcome> out = new ArrayList<>();
        Path tap = runDir.resolve("out/kselftest/hmm-tests.tap");
        if (p.containsKey("setupFailure") || !Files.isRegularFile(tap)) {
            out.add(new TestOutcome(CLASS, "(setup)", TestOutcome.Status.FAILED, "the kernel's selftests did not run: "
                    + p.getProperty("setupFailure", "no TAP output"), lines));
        } else {
            try {
                Map<String, String> ranges = consoleRanges(runDir.resolve("console.log"));
                for (TestOutcome o : parse(Files.readString(tap, StandardCharsets.ISO_8859_1), lines)) {
                    out.add(new TestOutcome(o.testClass(), o.test(), o.status(), o.message(),
                            ranges.getOrDefault(o.test(), o.consoleLines())));
                }
            } catch (IOException e) {
                out.add(new TestOutcome(CLASS, "(run)", TestOutcome.Status.FAILED, "unreadable " + tap, lines));
            }
        }
        if (p.containsKey("splat")) {
            out.add(new TestOutcome(CLASS, "(kernel)", TestOutcome.Status.KERNEL_SPLAT, p.getProperty("splat"), lines));
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
        for (String raw : tap.split("\n")) {
            String line = raw.stripTrailing();
            Matcher m;
            if ((m = PLAN.matcher(line)).find()) {
                planned = Integer.parseInt(m.group(1));
            } else if ((m = RUN.matcher(line)).find()) {
                current = m.group(1);
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
        if (current != null) {
            out.add(new TestOutcome(CLASS, current, TestOutcome.Status.FAILED, "started but reported no result ("
                    + how + (assertion != null ? "; " + assertion : "") + ")", consoleLines));
            reported++;
        }
        if (planned > reported) {
            out.add(new TestOutcome(CLASS, "(not run)", TestOutcome.Status.FAILED, (planned - reported) + " of "
                    + planned + " planned tests never ran (" + how + ")", consoleLines));
        }
        if (planned < 0 && out.isEmpty()) {
            out.add(new TestOutcome(CLASS, "(run)", TestOutcome.Status.FAILED, "no TAP from hmm-tests (" + how + ")",
                    consoleLines));
        }
        return out;
    }

    static long count(List<TestOutcome> outcomes, TestOutcome.Status s) {
        return outcomes.stream().filter(o -> o.status() == s).count();
    }
}
