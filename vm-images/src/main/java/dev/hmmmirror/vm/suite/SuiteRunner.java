package dev.hmmmirror.vm.suite;

import dev.hmmmirror.vm.GuestFailure;
import dev.hmmmirror.vm.GuestImages;
import dev.hmmmirror.vm.GuestSession;
import dev.hmmmirror.vm.ImageCache;
import dev.hmmmirror.vm.KernelProfile;
import dev.hmmmirror.vm.KernelSplatError;
import dev.hmmmirror.vm.Progress;
import dev.hmmmirror.vm.RunnerSelection;
import dev.hmmmirror.vm.SetupException;
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
import org.junit.platform.launcher.Launcher;
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
     * Runs the tests chosen by {@code selectors} on {@code profile}; files go to
     * {@code reportDir/<profile>} ({@code <profile>-container} with the container runner).
     */
    public static KernelRun run(KernelProfile profile, List<DiscoverySelector> selectors, Path reportDir) {
        reportDir = reportDir.toAbsolutePath();
        System.setProperty("hmm.kernel", profile.name());
        System.setProperty("hmm.run.dir", reportDir.toString());
        // the guest session's run folder (console log, dmesg, the kernel's selftests) is this kernel's report folder
        Path dir = GuestSession.runDir(profile, RunnerSelection.selected(profile));
        try {
            if (Files.exists(dir)) {
                PathUtils.deleteDirectory(dir);
            }
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new SetupException("cannot write the report folder " + dir + ": " + e.getMessage(), e);
        }
        Progress.say("suite on %s: starting", profile.name());
        try {
            // the image first: a kernel that cannot be had (no source, a tree lacking options) is one clear line
            new GuestImages(ImageCache.forUser()).ensure(profile);
        } catch (RuntimeException e) { // SetupException, or I/O trouble with the cache: not the kernel's verdict
            String why = e.getMessage() == null ? e.toString() : e.getMessage();
            Progress.say("suite on %s: could not build or boot: %s", profile.name(), why);
            return new KernelRun(profile.name(), "", List.of(new TestOutcome("(setup)", "image",
                    TestOutcome.Status.BOOT_FAILED, why.replace("\n", " "), "")), dir, List.of());
        }
        List<TestOutcome> outcomes = new ArrayList<>();
        Map<String, String> consoleLines = new ConcurrentHashMap<>();
        String[] release = {""};
        Launcher launcher = LauncherFactory.create();
        launcher.execute(LauncherDiscoveryRequestBuilder.request().selectors(selectors).build(),
                new TestExecutionListener() {
                    @Override
                    public void reportingEntryPublished(TestIdentifier id, ReportEntry entry) {
                        Map<String, String> kv = entry.getKeyValuePairs();
                        if (kv.containsKey("hmm.console.lines")) {
                            consoleLines.put(id.getUniqueId(), kv.get("hmm.console.lines"));
                            release[0] = kv.getOrDefault("hmm.kernel", release[0]);
                        }
                    }

                    @Override
                    public void executionSkipped(TestIdentifier id, String reason) {
                        if (id.isTest()) {
                            outcomes.add(outcome(id, TestOutcome.Status.SKIPPED, reason, ""));
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
                            outcomes.add(outcome(id, s, t.map(SuiteRunner::firstLine).orElse(""), lines));
                        } else if (result.getStatus() == TestExecutionResult.Status.FAILED && t.isPresent()) {
                            // a container failed: e.g. the guest reported a splat after the last test
                            outcomes.add(new TestOutcome("(run)", id.getDisplayName(), classify(t.get()),
                                    firstLine(t.get()), ""));
                        }
                    }
                });
        if (outcomes.isEmpty()) {
            outcomes.add(new TestOutcome("(suite)", "discovery", TestOutcome.Status.FAILED,
                    "no tests found for " + selectors + " on the classpath", ""));
        }
        copyDmesg(dir);
        KernelRun run = new KernelRun(profile.name(), release[0], List.copyOf(outcomes), dir, KernelSelftests.read(dir));
        Progress.say("suite on %s: %d passed, %d failed, %d skipped, %d kernel splat, %d could not boot",
                profile.name(), run.count(TestOutcome.Status.PASSED), run.count(TestOutcome.Status.FAILED),
                run.count(TestOutcome.Status.SKIPPED), run.count(TestOutcome.Status.KERNEL_SPLAT),
                run.count(TestOutcome.Status.BOOT_FAILED));
        return run;
    }

    private static TestOutcome outcome(TestIdentifier id, TestOutcome.Status s, String message, String lines) {
        String cls = id.getSource().filter(src -> src instanceof org.junit.platform.engine.support.descriptor.MethodSource)
                .map(src -> ((org.junit.platform.engine.support.descriptor.MethodSource) src).getClassName())
                .map(c -> c.substring(c.lastIndexOf('.') + 1)).orElse("?");
        return new TestOutcome(cls, id.getDisplayName().replace("()", ""), s, message, lines);
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
