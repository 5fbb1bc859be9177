package dev.hmmmirror.suite;

import dev.hmmmirror.agent.protocol.GuestResult;
import dev.hmmmirror.programs.DeviceDemo;
import dev.hmmmirror.programs.DriverBench;
import dev.hmmmirror.programs.MigrationBench;
import dev.hmmmirror.programs.MirrorBench;
import dev.hmmmirror.vm.boot.GuestFailure;
import dev.hmmmirror.vm.boot.KernelSplat;
import dev.hmmmirror.vm.config.Setting;
import dev.hmmmirror.vm.config.Settings;
import dev.hmmmirror.vm.image.GuestImage;
import dev.hmmmirror.vm.image.GuestImages;
import dev.hmmmirror.vm.image.ImageCache;
import dev.hmmmirror.vm.image.KernelProfile;
import dev.hmmmirror.vm.session.GuestClasspath;
import dev.hmmmirror.vm.session.GuestSession;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.platform.engine.DiscoverySelector;
import org.junit.platform.engine.discovery.DiscoverySelectors;

/**
 * What the {@code hmm} command (cli/, package {@code dev.hmmmirror.tool}) does with the suite runner:
 * the guest suite on one or several kernels, the guest images, the device demo and the benchmarks.
 * No command line here: the tool parses its options into {@link Settings} and kernel profiles and
 * calls these. Each returns the tool's exit code: 0 success, 1 the guest command or a test failed,
 * 2 kernel splat, 125 could not build or boot; the harness's failures are thrown
 * ({@code SetupException}, {@code GuestFailure}) for the tool to turn into 125.
 */
public final class Operations {
    private Operations() {}

    /**
     * The guest suite on {@code profiles} (several: a matrix, {@code hmm.parallel} guests at once): a
     * table on standard output, the reports (index.html, summary.json, junit-*.xml) in the report
     * folder. Exit code of the worst kernel.
     */
    public static int suite(Settings settings, List<KernelProfile> profiles) {
        return suite(settings, profiles, List.of());
    }

    /**
     * As {@link #suite(Settings, List)}, only the test classes (or {@code Class#method}s) {@code tests} names
     * ({@link #selectors}; empty: the whole suite package).
     */
    public static int suite(Settings settings, List<KernelProfile> profiles, List<String> tests) {
        Path reports = settings.reportDir();
        List<KernelRun> runs = Matrix.run(settings.with(Setting.RUN_DIR, reports.toString()), profiles,
                selectors(settings.suitePackage(), tests));
        UpstreamParity parity = UpstreamParity.of(settings.suitePackage());
        Reports.printTable(runs, parity, System.out);
        Reports.write(runs, parity, reports);
        int code = Reports.exitCode(runs);
        System.out.println("reports: " + reports.resolve("index.html") + " (summary.json, junit-*.xml); exit code " + code);
        return code;
    }

    /**
     * What to run: the suite package, or the classes {@code tests} names, each relative to the suite package
     * ({@code DeviceOpenIT}, {@code mm.ThpIT}) or whole, optionally {@code #method}.
     *
     * @throws IllegalArgumentException naming a class that is not on the classpath
     */
    static List<DiscoverySelector> selectors(String suitePackage, List<String> tests) {
        if (tests.isEmpty()) {
            return List.of(DiscoverySelectors.selectPackage(suitePackage));
        }
        List<DiscoverySelector> out = new java.util.ArrayList<>();
        for (String t : tests) {
            String name = t.strip();
            int hash = name.indexOf('#');
            String cls = hash < 0 ? name : name.substring(0, hash);
            String full = cls.startsWith(suitePackage + ".") ? cls : suitePackage + "." + cls;
            try {
                Class.forName(full, false, Operations.class.getClassLoader());
            } catch (ClassNotFoundException | LinkageError e) {
                throw new IllegalArgumentException("--test " + name + ": no test class " + full + " (name a class of "
                        + suitePackage + " relative to it, e.g. DeviceOpenIT, mm.ThpIT, or DeviceOpenIT#opensTheDevice)");
            }
            out.add(hash < 0 ? DiscoverySelectors.selectClass(full)
                    : DiscoverySelectors.selectMethod(full + "#" + name.substring(hash + 1)));
        }
        return out;
    }

    /** The matrix serial and with several guests at once, side by side ({@code bench-matrix}). */
    public static int benchMatrix(Settings settings, List<KernelProfile> profiles) {
        return MatrixBench.run(settings, profiles, List.of(DiscoverySelectors.selectPackage(settings.suitePackage())),
                System.out);
    }

    /** Builds (or finds cached) the guest image of each profile and prints its kernel. */
    public static int images(Settings settings, List<KernelProfile> profiles) {
        GuestImages images = new GuestImages(ImageCache.of(settings), settings);
        for (KernelProfile p : profiles) {
            GuestImage image = images.ensure(p);
            System.out.println(p.name() + ": kernel " + image.kernelRelease() + ", " + image.kernel());
        }
        return 0;
    }

    /** A session for the guest programs: this JVM's classpath, the C benchmark, no hooks (also hmm run and hmm shell). */
    public static GuestSession.Spec programs(Settings settings, KernelProfile profile) {
        return new GuestSession.Spec(settings, profile, GuestClasspath.current(),
                Map.of(MirrorBench.C_PROGRAM, MirrorBench.cSource()), List.of());
    }

    /** The device demo in a guest (hmm demo); 2 when the kernel splats. */
    public static int demo(Settings settings, KernelProfile profile) throws InterruptedException {
        try (GuestSession s = GuestSession.start(programs(settings, profile))) {
            GuestResult r = s.runMain(DeviceDemo.class.getName());
            System.out.print(r.output());
            if (r.status() != GuestResult.Status.PASSED) {
                System.out.println("demo failed in the guest: " + r.message() + "\n" + r.trace());
            }
            GuestSession.End end = s.finish(true);
            List<KernelSplat> splats = new ArrayList<>(s.newSplats());
            splats.addAll(end.lateSplats());
            System.out.println("console log: " + s.consoleLog());
            if (!splats.isEmpty()) {
                System.out.println("kernel " + splats.getFirst().kind() + ":\n" + splats.getFirst().report());
                return 2;
            }
            return r.status() == GuestResult.Status.PASSED ? 0 : 1;
        }
    }

    /**
     * The boot benchmark (hmm bench): {@code rounds} rounds of a bare boot and one session per
     * variant (none given: the settings as they are and with the AOT cache the other way round),
     * each to the device demo's first result, with the start broken down by stage.
     *
     * @param variants {@code NAME:property=value,...} each, over {@code settings}
     */
    public static int bench(Settings settings, KernelProfile profile, List<String> variants, int rounds)
            throws InterruptedException {
        if (rounds < 1) {
            throw new IllegalArgumentException("--rounds must be at least 1");
        }
        List<BootBench.Variant> v = variants.isEmpty() ? BootBench.defaults(settings)
                : variants.stream().map(spec -> BootBench.Variant.parse(spec, settings)).toList();
        return BootBench.run(settings, profile, v, rounds, System.out);
    }

    /** A benchmark program of guest-programs in a guest (hmm bench-mirror, hmm bench-migrate). */
    public static int benchMain(Settings settings, KernelProfile profile, String mainClass) throws InterruptedException {
        return benchMain(programs(settings, profile), mainClass, null);
    }

    /** The kernel of {@code bench-drivers} when none is named: one with the kernel's test_hmm module. */
    public static final String DRIVER_BENCH_KERNEL = "built-7.2";

    /**
     * Our module against the kernel's test_hmm in one guest ({@link DriverBench}): the session also
     * builds the benchmark's C program, and a request may take an hour (the whole benchmark is one
     * request, about 10 minutes under TCG) unless {@code hmm.test.timeout} says otherwise.
     */
    public static int benchDrivers(Settings settings, KernelProfile profile) throws InterruptedException {
        Settings run = settings.raw(Setting.TEST_TIMEOUT).isPresent() ? settings
                : settings.with(Setting.TEST_TIMEOUT, "3600");
        GuestSession.Spec spec = new GuestSession.Spec(run, profile, GuestClasspath.current(),
                Map.of(DriverBench.C_PROGRAM, DriverBench.cSource()), List.of());
        return benchMain(spec, DriverBench.class.getName(), DriverBench.JSON);
    }

    /** Runs {@code mainClass} in the guest of {@code spec}; names the host path of the guest's {@code /hmm/out/json} unless null. */
    private static int benchMain(GuestSession.Spec spec, String mainClass, String json) throws InterruptedException {
        try (GuestSession s = GuestSession.start(spec)) {
            GuestResult r = s.runMain(mainClass);
            System.out.print(r.output());
            System.out.printf(Locale.ROOT, "host: %d CPUs, %s, load average %.1f; guest: %d vCPU, %d MiB; kernel %s (%s)%n",
                    Runtime.getRuntime().availableProcessors(), s.accel().describe(),
                    java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage(),
                    s.settings().guestCpus(), s.settings().guestMemoryMiB(s.profile()), s.image().kernelRelease(),
                    s.profile().name());
            if (json != null) {
                System.out.println("JSON on the host: " + s.runDir().resolve("out").resolve(json));
            }
            if (r.status() != GuestResult.Status.PASSED) {
                System.out.println("benchmark failed in the guest: " + r.message() + "\n" + r.trace());
                return 1;
            }
            return 0;
        }
    }
}
