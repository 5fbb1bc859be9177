package dev.hmmmirror.suite;

import dev.hmmmirror.vm.build.ModuleBuild;
import dev.hmmmirror.vm.build.ModuleSources;
import dev.hmmmirror.vm.config.Setting;
import dev.hmmmirror.vm.config.Settings;
import dev.hmmmirror.vm.host.Progress;
import dev.hmmmirror.vm.image.GuestImage;
import dev.hmmmirror.vm.image.GuestImages;
import dev.hmmmirror.vm.image.ImageCache;
import dev.hmmmirror.vm.image.KernelProfile;
import dev.hmmmirror.vm.result.TestOutcome;
import dev.hmmmirror.vm.runner.LocalRunner;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import org.junit.platform.engine.DiscoverySelector;

/**
 * The matrix one guest at a time, then several at once, side by side in one run on the local
 * runner: the wall times, their ratios, the host's load around each, and whether every test had
 * the same result. Images and module builds are made first, so that no run pays for them. Reports
 * of each run go to {@code <report dir>/bench-serial} and {@code bench-parallel-<K>}.
 */
public final class MatrixBench {
    private MatrixBench() {}

    /** What one timed matrix run gave. */
    record Timed(List<KernelRun> runs, double seconds, double loadBefore, double loadAfter) {}

    /**
     * Runs the benchmark: serial, then each parallel level ({@code hmm.parallel} when set, else one
     * guest per core and one per core plus one); exit code 0 when every run passed alike, 1 when
     * results differ, else the worst run's.
     */
    /** Where the shipped module sources are extracted when no checkout is named. */
    private static Path reportsScratch(Settings settings) {
        return settings.reportDir().resolve("module-source");
    }

    public static int run(Settings base, List<KernelProfile> profiles, List<DiscoverySelector> selectors, PrintStream out) {
        Settings settings = base.with(Setting.RUNNER, "local");
        int cores = Runtime.getRuntime().availableProcessors();
        List<Integer> levels = settings.parallel().isPresent() ? List.of(settings.parallel().getAsInt())
                : java.util.stream.Stream.of(cores, cores + 1).map(k -> Math.min(k, profiles.size())).distinct().toList();
        ImageCache cache = ImageCache.of(settings);
        GuestImages images = new GuestImages(cache, settings);
        for (KernelProfile p : profiles) {
            GuestImage image = images.ensure(p);
            new ModuleBuild(cache, ModuleSources.resolve(settings, reportsScratch(settings))).build(image,
                    new LocalRunner().toolchain(image));
        }
        Path reports = settings.reportDir();
        Timed serial = timed(settings, reports.resolve("bench-serial"), profiles, selectors, 1);
        List<Timed> parallel = new ArrayList<>();
        for (int k : levels) {
            parallel.add(timed(settings, reports.resolve("bench-parallel-" + k), profiles, selectors, k));
        }
        out.printf(Locale.ROOT, """
                matrix benchmark: %d kernels (%s), local runner, %d CPUs on the host, %d MiB available
                                         wall time   parallel / serial   host load before / after   per-test results
                  one guest at a time    %7.1f s                       %5.1f / %.1f
                """, profiles.size(), String.join(" ", profiles.stream().map(KernelProfile::name).toList()), cores,
                Matrix.availableMemory() >> 20, serial.seconds(), serial.loadBefore(), serial.loadAfter());
        int code = Reports.exitCode(serial.runs());
        for (int i = 0; i < levels.size(); i++) {
            Timed t = parallel.get(i);
            List<String> differences = differences(serial.runs(), t.runs());
            out.printf(Locale.ROOT, "  %d guests at once       %7.1f s   %7.2f x           %5.1f / %.1f               %s%n",
                    levels.get(i), t.seconds(), t.seconds() / serial.seconds(), t.loadBefore(), t.loadAfter(),
                    differences.isEmpty() ? "same as serial" : differences.size() + " differ:\n    "
                            + String.join("\n    ", differences));
            code = differences.isEmpty() ? Math.max(code, Reports.exitCode(t.runs())) : Math.max(code, 1);
        }
        out.println("  (goal: parallel <= 0.6 x serial; the load average counts every process on the host)");
        out.println("reports: " + reports + "/bench-serial, bench-parallel-K");
        Reports.printTable(parallel.getLast().runs(), out);
        return code;
    }

    private static Timed timed(Settings settings, Path reports, List<KernelProfile> profiles,
            List<DiscoverySelector> selectors, int slots) {
        Progress.say("matrix benchmark: %d kernels, %d at once", profiles.size(), slots);
        double before = load();
        long t0 = System.nanoTime();
        List<KernelRun> runs = Matrix.run(settings.with(Setting.RUN_DIR, reports.toString()), profiles, selectors, slots);
        double seconds = (System.nanoTime() - t0) / 1e9;
        double after = load();
        Reports.write(runs, reports);
        return new Timed(runs, seconds, before, after);
    }

    private static double load() {
        return ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    }

    /** Every kernel/test whose status is not the same in both runs, as "kernel test: a vs b". */
    static List<String> differences(List<KernelRun> a, List<KernelRun> b) {
        Map<String, String> left = statuses(a);
        Map<String, String> right = statuses(b);
        List<String> diff = new ArrayList<>();
        for (String k : left.keySet()) {
            if (!Objects.equals(left.get(k), right.get(k))) {
                diff.add(k + ": " + left.get(k) + " vs " + right.getOrDefault(k, "(absent)"));
            }
        }
        for (String k : right.keySet()) {
            if (!left.containsKey(k)) {
                diff.add(k + ": (absent) vs " + right.get(k));
            }
        }
        return diff;
    }

    private static Map<String, String> statuses(List<KernelRun> runs) {
        Map<String, String> m = new LinkedHashMap<>();
        for (KernelRun r : runs) {
            for (TestOutcome o : r.outcomes()) {
                m.put(r.profile() + " " + o.name(), o.status().symbol());
            }
            for (TestOutcome o : r.kernelSelftests()) {
                m.put(r.profile() + " kselftest " + o.name(), o.status().symbol());
            }
        }
        return m;
    }
}
