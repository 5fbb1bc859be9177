package dev.hmmmirror.suite;

import dev.hmmmirror.agent.protocol.GuestResult;
import dev.hmmmirror.junit.GuestExtension;
import dev.hmmmirror.vm.boot.GuestFailure;
import dev.hmmmirror.vm.boot.KernelSplat;
import dev.hmmmirror.vm.boot.KernelSplatError;
import dev.hmmmirror.vm.config.Setting;
import dev.hmmmirror.vm.config.Settings;
import dev.hmmmirror.vm.host.Progress;
import dev.hmmmirror.vm.host.SetupException;
import dev.hmmmirror.vm.image.KernelProfile;
import dev.hmmmirror.vm.result.TestOutcome;
import dev.hmmmirror.vm.runner.RunnerSelection;
import dev.hmmmirror.vm.selftest.KernelSelftests;
import dev.hmmmirror.vm.selftest.PeerSuite;
import dev.hmmmirror.vm.selftest.SuiteHooks;
import dev.hmmmirror.vm.session.GuestClasspath;
import dev.hmmmirror.vm.session.GuestSession;
import dev.hmmmirror.vm.session.GuestSessions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.commons.io.file.PathUtils;
import org.junit.platform.engine.DiscoverySelector;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.reporting.ReportEntry;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;

/**
 * Runs the guest suite (JUnit classes with {@code @GuestTest}) on a kernel from the host, as a
 * tool does: one boot per kernel, every test's outcome classified (passed, failed, skipped,
 * kernel splat, could not boot), and the run's console log and dmesg kept in its report folder.
 */
public final class SuiteRunner {
    private SuiteRunner() {}

    /**
     * Runs the tests chosen by {@code selectors} on {@code profile}, in one guest that this runner
     * boots, lends to the JUnit extension for the launcher run, and finishes with the kernel's own
     * selftests as its hook. Files go to {@code settings.runDir()/<profile>} (the run folder is the
     * kernel's report folder).
     */
    public static KernelRun run(Settings base, KernelProfile profile, List<DiscoverySelector> selectors) {
        Settings settings = base.with(Setting.KERNEL, profile.name());
        java.time.Instant started = java.time.Instant.now();
        RunnerSelection.Kind kind;
        try {
            kind = RunnerSelection.selected(settings, profile);
        } catch (SetupException e) {
            return setupFailure(profile, settings.runDir().resolve(profile.dirName()), e);
        }
        Path dir = GuestSession.runDir(settings, profile, kind);
        try {
            if (Files.exists(dir)) {
                PathUtils.deleteDirectory(dir);
            }
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new SetupException("cannot write the report folder " + dir + ": " + e.getMessage(), e);
        }
        Progress.say("suite on %s: starting", profile.name());
        KernelSelftests selftests = SuiteHooks.kernelSelftests(settings);
        PeerSuite peer = SuiteHooks.peerSuite(settings);
        GuestSession session;
        try {
            session = GuestSession.start(new GuestSession.Spec(settings, profile, GuestClasspath.current(), Map.of(),
                    SuiteHooks.of(selftests, peer)), kind);
        } catch (RuntimeException e) { // SetupException, GuestFailure, I/O trouble with the cache: not the kernel's verdict
            return setupFailure(profile, dir, e);
        }
        List<TestOutcome> outcomes = new ArrayList<>();
        List<KernelSplat> bootSplats = session.newSplats();
        if (!bootSplats.isEmpty()) {
            outcomes.add(new TestOutcome("(boot)", "kernel", TestOutcome.Status.KERNEL_SPLAT,
                    bootSplats.getFirst().kind() + ": " + bootSplats.getFirst().headline(), ""));
        }
        KernelRun.Platform platform = platform(session, profile);
        Map<String, String> consoleLines = new ConcurrentHashMap<>();
        GuestSessions.lend(session);
        try {
            LauncherDiscoveryRequestBuilder request = LauncherDiscoveryRequestBuilder.request().selectors(selectors);
            for (Setting s : Setting.values()) {
                settings.raw(s).ifPresent(v -> request.configurationParameter(s.property(), v));
            }
            request.configurationParameter(Setting.RUN_DIR.property(), settings.runDir().toString());
            LauncherFactory.create().execute(request.build(), listener(outcomes, consoleLines));
        } catch (RuntimeException e) {
            outcomes.add(new TestOutcome("(run)", "launcher", TestOutcome.Status.FAILED, firstLine(e), ""));
        } finally {
            GuestSessions.takeBack(session);
        }
        boolean healthy = session.isAlive();
        GuestSession.End end = session.finish(healthy);
        Optional<String> lost = session.runnerLost();
        if (lost.isPresent()) {
            // the machine went away, not the kernel: whatever did not finish is "could not boot", never a verdict
            outcomes.replaceAll(o -> o.status() == TestOutcome.Status.PASSED || o.status() == TestOutcome.Status.SKIPPED ? o
                    : o.with(TestOutcome.Status.BOOT_FAILED, lost.get() + ": " + o.message()));
            outcomes.add(new TestOutcome("(run)", "runner", TestOutcome.Status.BOOT_FAILED, lost.get(), ""));
            Progress.say("suite on %s: %s; its results are not a verdict on the kernel", profile.name(), lost.get());
        }
        if (end.hookFailure() != null && lost.isEmpty()) {
            outcomes.add(new TestOutcome("(run)", "kernel selftests / rdma-core tests", classify(end.hookFailure()),
                    firstLine(end.hookFailure()), ""));
        }
        if (lost.isPresent()) {
            // nothing more to judge
        } else if (!end.lateSplats().isEmpty()) {
            KernelSplat first = end.lateSplats().getFirst();
            outcomes.add(new TestOutcome("(run)", "after the tests", TestOutcome.Status.KERNEL_SPLAT,
                    first.kind() + ": " + first.headline(), String.valueOf(first.lineNumber())));
        } else if (healthy && end.hookFailure() == null && !end.unloaded()) {
            outcomes.add(new TestOutcome("(run)", "rmmod", TestOutcome.Status.FAILED,
                    "rmmod hmm_mirror did not succeed at the end of the run", ""));
        }
        if (outcomes.isEmpty()) {
            outcomes.add(new TestOutcome("(suite)", "discovery", TestOutcome.Status.FAILED,
                    "no tests found for " + selectors + " on the classpath", ""));
        }
        copyDmesg(dir);
        KernelRun run = new KernelRun(profile.name(), session.image().kernelRelease(), List.copyOf(outcomes), dir,
                end.result(selftests).map(KernelSelftests.Result::outcomes).orElse(List.of()),
                new KernelRun.Timing(started, java.time.Instant.now(), session.timings().init(),
                        session.timings().agentReady()),
                end.result(peer).map(PeerSuite.Result::outcomes).orElse(List.of()), platform);
        Progress.say("suite on %s: %d passed, %d failed, %d skipped, %d kernel splat, %d could not boot",
                profile.name(), run.count(TestOutcome.Status.PASSED), run.count(TestOutcome.Status.FAILED),
                run.count(TestOutcome.Status.SKIPPED), run.count(TestOutcome.Status.KERNEL_SPLAT),
                run.count(TestOutcome.Status.BOOT_FAILED));
        return run;
    }

    private static KernelRun setupFailure(KernelProfile profile, Path dir, RuntimeException e) {
        String why = e.getMessage() == null ? e.toString() : e.getMessage();
        TestOutcome.Status status = classify(e);
        // the whole message: a build failure's first line only says where its error lines follow
        Progress.say("suite on %s: %s: %s", profile.name(), status == TestOutcome.Status.KERNEL_SPLAT
                ? "kernel splat while booting" : "could not build or boot", String.join("\n  ",
                        why.lines().limit(40).toList()));
        return new KernelRun(profile.name(), "", List.of(new TestOutcome("(setup)", "image and boot",
                status == TestOutcome.Status.KERNEL_SPLAT ? status : TestOutcome.Status.BOOT_FAILED,
                why.replace("\n", " "), "")), dir, List.of(), KernelRun.Timing.NONE, List.of(),
                KernelRun.Platform.of(profile));
    }

    /**
     * The guest's architecture and page size as the guest reports them ({@code uname -m}, {@code getconf
     * PAGESIZE}), the kernel family from the profile; the profile's own where the guest does not answer. A guest
     * that contradicts its profile is said on the progress output (the guest's word is recorded).
     */
    static KernelRun.Platform platform(GuestSession session, KernelProfile profile) {
        KernelRun.Platform expected = KernelRun.Platform.of(profile);
        try {
            GuestResult r = session.exec("echo \"@@PLATFORM $(uname -m) $(getconf PAGESIZE)\"",
                    java.time.Duration.ofSeconds(60));
            Optional<KernelRun.Platform> reported = reportedPlatform(r.output(), expected.family());
            if (reported.isEmpty()) {
                Progress.say("suite on %s: the guest did not say its architecture and page size (%s); recording the "
                        + "profile's, %s", profile.name(), r.message(), expected.describe());
                return expected;
            }
            if (!reported.get().equals(expected)) {
                Progress.say("suite on %s: the guest runs %s, the profile says %s; recording the guest's",
                        profile.name(), reported.get().describe(), expected.describe());
            } else {
                Progress.say("suite on %s: the guest runs %s (uname -m, getconf PAGESIZE)", profile.name(),
                        reported.get().describe());
            }
            return reported.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return expected;
        } catch (RuntimeException e) {
            Progress.say("suite on %s: could not ask the guest its page size (%s); recording the profile's, %s",
                    profile.name(), e.getMessage(), expected.describe());
            return expected;
        }
    }

    /**
     * The platform in a guest's {@code @@PLATFORM MACHINE PAGESIZE} line ({@code uname -m}: {@code x86_64} is
     * Debian's {@code amd64}, {@code aarch64} its {@code arm64}), if the output holds one.
     */
    static Optional<KernelRun.Platform> reportedPlatform(String output, String family) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("@@PLATFORM (\\S+) (\\d+)")
                .matcher(output == null ? "" : output);
        if (!m.find()) {
            return Optional.empty();
        }
        String arch = switch (m.group(1)) {
            case "x86_64" -> KernelProfile.AMD64;
            case "aarch64", "arm64" -> KernelProfile.ARM64;
            default -> m.group(1);
        };
        long bytes = Long.parseLong(m.group(2));
        if (bytes < 1024 || bytes % 1024 != 0) {
            return Optional.empty();
        }
        return Optional.of(new KernelRun.Platform(arch, (int) (bytes / 1024), family));
    }

    private static TestExecutionListener listener(List<TestOutcome> outcomes, Map<String, String> consoleLines) {
        Map<String, Long> started = new ConcurrentHashMap<>();
        return new TestExecutionListener() {
            @Override
            public void executionStarted(TestIdentifier id) {
                started.put(id.getUniqueId(), System.nanoTime());
            }

            @Override
            public void reportingEntryPublished(TestIdentifier id, ReportEntry entry) {
                Map<String, String> kv = entry.getKeyValuePairs();
                if (kv.containsKey(GuestExtension.CONSOLE_LINES)) {
                    consoleLines.put(id.getUniqueId(), kv.get(GuestExtension.CONSOLE_LINES));
                }
            }

            @Override
            public void executionSkipped(TestIdentifier id, String reason) {
                if (id.isTest()) {
                    outcomes.add(outcome(id, TestOutcome.Status.SKIPPED, reason, "", 0));
                }
            }

            @Override
            public void executionFinished(TestIdentifier id, TestExecutionResult result) {
                Optional<Throwable> t = result.getThrowable();
                String lines = consoleLines.getOrDefault(id.getUniqueId(), "");
                if (id.isTest()) {
                    TestOutcome.Status s = switch (result.getStatus()) {
                        case SUCCESSFUL -> TestOutcome.Status.PASSED;
                        case ABORTED -> TestOutcome.Status.SKIPPED;
                        case FAILED -> classify(t.orElse(null));
                    };
                    Long t0 = started.get(id.getUniqueId());
                    outcomes.add(outcome(id, s, t.map(SuiteRunner::message).orElse(""), lines,
                            t0 == null ? -1 : (System.nanoTime() - t0) / 1e9));
                } else if (result.getStatus() == TestExecutionResult.Status.FAILED && t.isPresent()) {
                    outcomes.add(new TestOutcome("(run)", id.getDisplayName(), classify(t.get()), firstLine(t.get()), ""));
                }
            }
        };
    }

    private static TestOutcome outcome(TestIdentifier id, TestOutcome.Status s, String message, String lines,
            double seconds) {
        String cls = id.getSource().filter(src -> src instanceof org.junit.platform.engine.support.descriptor.MethodSource)
                .map(src -> ((org.junit.platform.engine.support.descriptor.MethodSource) src).getClassName())
                .map(c -> c.substring(c.lastIndexOf('.') + 1)).orElse("?");
        return new TestOutcome(cls, id.getDisplayName().replace("()", ""), s, message, lines, seconds);
    }

    /** A failure's kind: kernel splat, could not build or boot, or an ordinary test failure. */
    static TestOutcome.Status classify(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof KernelSplatError) {
                return TestOutcome.Status.KERNEL_SPLAT;
            }
            for (Throwable s : c.getSuppressed()) {
                if (s instanceof KernelSplatError) {
                    return TestOutcome.Status.KERNEL_SPLAT;
                }
            }
            if (c instanceof GuestFailure g) {
                return g.booting() ? TestOutcome.Status.BOOT_FAILED : TestOutcome.Status.KERNEL_SPLAT;
            }
            if (c instanceof SetupException) {
                return TestOutcome.Status.BOOT_FAILED;
            }
        }
        return TestOutcome.Status.FAILED;
    }

    /** The most a test's failure message keeps in the reports (its first characters). */
    static final int MESSAGE_LIMIT = 4000;

    /**
     * A failed or skipped test's message, every line of it up to {@link #MESSAGE_LIMIT} characters:
     * a test that lists what went wrong after its first line (a differential table, a child
     * program's output) is read from the JUnit XML and summary.json alone.
     */
    static String message(Throwable t) {
        String m = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage().strip();
        return m.length() <= MESSAGE_LIMIT ? m : m.substring(0, MESSAGE_LIMIT) + " [... "
                + (m.length() - MESSAGE_LIMIT) + " more characters]";
    }

    static String firstLine(Throwable t) {
        String m = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage().strip();
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }

    /** The run folder already is the report folder; make sure dmesg sits next to the console log. */
    private static void copyDmesg(Path dir) {
        try {
            Path dmesg = dir.resolve("out/dmesg.txt");
            if (Files.isRegularFile(dmesg)) {
                Files.copy(dmesg, dir.resolve("dmesg.txt"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            Progress.say("could not copy dmesg into %s: %s", dir, e.getMessage());
        }
    }
}
