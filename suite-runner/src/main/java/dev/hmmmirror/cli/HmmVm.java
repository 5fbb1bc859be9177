package dev.hmmmirror.cli;

import dev.hmmmirror.agent.protocol.GuestResult;
import dev.hmmmirror.agent.protocol.Markers;
import dev.hmmmirror.programs.DeviceDemo;
import dev.hmmmirror.programs.DriverBench;
import dev.hmmmirror.programs.MigrationBench;
import dev.hmmmirror.programs.MirrorBench;
import dev.hmmmirror.suite.KernelRun;
import dev.hmmmirror.suite.Matrix;
import dev.hmmmirror.suite.MatrixBench;
import dev.hmmmirror.suite.Reports;
import dev.hmmmirror.suite.UpstreamParity;
import dev.hmmmirror.vm.boot.Accelerator;
import dev.hmmmirror.vm.boot.Console;
import dev.hmmmirror.vm.boot.GuestFailure;
import dev.hmmmirror.vm.boot.GuestVm;
import dev.hmmmirror.vm.boot.KernelSplat;
import dev.hmmmirror.vm.config.Setting;
import dev.hmmmirror.vm.config.Settings;
import dev.hmmmirror.vm.host.SetupException;
import dev.hmmmirror.vm.image.GuestImage;
import dev.hmmmirror.vm.image.GuestImages;
import dev.hmmmirror.vm.image.ImageCache;
import dev.hmmmirror.vm.image.KernelProfile;
import dev.hmmmirror.vm.runner.LocalRunner;
import dev.hmmmirror.vm.runner.RunnerSelection;
import dev.hmmmirror.vm.session.GuestClasspath;
import dev.hmmmirror.vm.session.GuestSession;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.platform.engine.discovery.DiscoverySelectors;

/**
 * Command line of the guest pipeline.
 *
 * <pre>
 * hmm-vm run   [--kernel P] [--verbose] [--runner auto|local|container]
 *                                         boot P, load the module, run the device demo in the guest
 * hmm-vm images [--kernel P | --all]      build (or check) the cached guest images
 * hmm-vm bench [--kernel P]               time image, bare boot, guest JVM and first result
 * hmm-vm bench-mirror [--kernel P]        the same fault + read from Java and from C, side by side
 * hmm-vm bench-drivers [--kernel P]       our module against the kernel's test_hmm, side by side
 * </pre>
 * Exit codes: 0 success, 1 the guest command failed, 2 kernel splat, 125 could not build or boot.
 */
public final class HmmVm {
    private HmmVm() {}

    public static void main(String[] args) {
        System.exit(run(args, Settings.fromEnvironment()));
    }

    /** Runs {@code args} with {@code base} (properties and environment); flags override it. */
    public static int run(String[] args, Settings base) {
        String command = args.length > 0 ? args[0] : "help";
        List<KernelProfile> profiles = new ArrayList<>();
        Settings settings = base;
        try {
            for (int i = 1; i < args.length; i++) {
                switch (args[i]) {
                    case "--kernel" -> profiles.add(KernelProfile.named(value(args, ++i, "--kernel")));
                    case "--kernel-tree" -> profiles.add(KernelProfile.tree(Path.of(value(args, ++i, "--kernel-tree"))));
                    case "--all" -> profiles.addAll(KernelProfile.stock());
                    case "--verbose" -> settings = settings.with(Setting.VERBOSE, "true");
                    case "--no-kselftest" -> settings = settings.with(Setting.KSELFTEST, "false");
                    case "--accel" -> settings = settings.with(Setting.ACCEL, value(args, ++i, "--accel"));
                    case "--parallel" -> settings = settings.with(Setting.PARALLEL, value(args, ++i, "--parallel"));
                    case "--docker-hosts" -> settings = settings.with(Setting.DOCKER_HOSTS, value(args, ++i, "--docker-hosts"));
                    case "--help", "-h" -> command = "help";
                    case "--runner" -> {
                        String r = value(args, ++i, "--runner");
                        RunnerSelection.select(r, () -> false); // validates the name
                        settings = settings.with(Setting.RUNNER, r);
                    }
                    default -> throw new SetupException("unknown option " + args[i] + "; see hmm-vm help");
                }
            }
        } catch (SetupException e) {
            System.err.println("hmm-vm: " + e.getMessage());
            return 125;
        }
        boolean chosen = !profiles.isEmpty();
        try {
            if (profiles.isEmpty()) {
                profiles.add(KernelProfile.named(settings.kernel()));
            }
            return switch (command) {
                case "run" -> demo(settings, profiles.getFirst());
                case "images" -> images(settings, profiles);
                case "suite", "matrix" -> suite(settings, command.equals("matrix") && !chosen ? KernelProfile.stock()
                        : profiles);
                case "bench" -> bench(settings, profiles.getFirst());
                case "bench-matrix" -> benchMatrix(settings, chosen ? profiles : KernelProfile.stock());
                case "bench-mirror" -> benchMain(settings, profiles.getFirst(), MirrorBench.class.getName());
                case "bench-migrate" -> benchMain(settings, profiles.getFirst(), MigrationBench.class.getName());
                case "bench-drivers" -> benchDrivers(settings, chosen ? profiles.getFirst()
                        : KernelProfile.named(DRIVER_BENCH_KERNEL));
                default -> {
                    System.out.println("""
                            usage: hmm-vm run    [--kernel PROFILE | --kernel-tree DIR] [--verbose] [--runner R]
                                                                                 boot, load hmm_mirror.ko, run the device demo
                                   hmm-vm suite  [--kernel PROFILE | --kernel-tree DIR] [--no-kselftest]
                                                                                 run the guest suite, print a table (ci/hmm-suite)
                                   hmm-vm matrix [--kernel P]... [--kernel-tree DIR]... | --all [--parallel N|auto]
                                                                                 the suite on several kernels (default: the
                                                                                 stock three), N guests at once (auto: one
                                                                                 per core plus one, and per 2.5 GiB): table,
                                                                                 JSON, JUnit XML, HTML
                                   hmm-vm images [--kernel PROFILE | --kernel-tree DIR | --all]
                                                                                 build or check the cached guest images
                                   hmm-vm bench  [--kernel PROFILE]              boot-time benchmark
                                   hmm-vm bench-matrix [--kernel P]... [--parallel N]
                                                                                 the matrix (default: stock three) one guest
                                                                                 at a time, then N at once: wall times, ratio,
                                                                                 same results?
                                   hmm-vm bench-mirror [--kernel PROFILE]        Java/C benchmark of fault + read
                                   hmm-vm bench-migrate [--kernel PROFILE]       migration throughput (MiB/s)
                                   hmm-vm bench-drivers [--kernel PROFILE]       our module against test_hmm, side by
                                                                                 side (default built-7.2: needs test_hmm)
                            kernels:
                              stock (Debian's own packages, no compile):
                                debian-sid (default, 7.x, full HMM), debian-trixie (6.12), debian-bookworm (6.1)
                              built here from Debian's linux-source with vm-images' kconfig/hmm.config (test_hmm too),
                              ~12-15 min each on 2 cores, cached; -debug adds KASAN, lockdep, DEBUG_VM, kmemleak:
                                built-7.2, built-6.12, built-6.1, built-7.2-debug, built-6.12-debug, built-6.1-debug
                              --kernel-tree DIR: a kernel tree you configured and built (bzImage + modules); our
                                module is built against it with this host's gcc; it must have HMM_MIRROR, 9p, virtio
                                (a missing option is named)
                            where a kernel has CONFIG_TEST_HMM=m the kernel's own hmm selftests run in the same guest
                            after our suite and are reported next to it (--no-kselftest: don't)
                            --accel auto|kvm|tcg: KVM only when a probe boot under /dev/kvm reaches /init (auto),
                                    always (kvm: an error where it cannot), never (tcg); env HMM_ACCEL
                            settings: every hmm.* property / HMM_* variable is listed in the README (Settings)
                            runner: where QEMU runs (run, bench-mirror, bench-migrate): auto (default: a container
                                    when a Docker engine answers, else this host), local, container,
                                    docker:tcp://HOST:PORT (an engine that shares no files with this host); env
                                    HMM_RUNNER; built kernels and trees run locally
                            --docker-hosts "tcp://a:2375 tcp://b:2375*2": a matrix spreads its kernels over these
                                    engines (*N: N guests there at once; local: this host); env HMM_DOCKER_HOSTS
                            exit codes: 0 all passed, 1 tests failed, 2 kernel splat (Oops, BUG, WARNING, KASAN,
                                        lockdep, hung task), 125 could not build or boot (git bisect run skips)""");
                    yield command.equals("help") || command.equals("--help") ? 0 : 125;
                }
            };
        } catch (SetupException | GuestFailure | IllegalArgumentException e) {
            System.err.println("hmm-vm: " + e.getMessage());
            return 125;
        } catch (InterruptedException e) {
            return 125;
        }
    }

    private static String value(String[] args, int i, String option) {
        if (i >= args.length || args[i].startsWith("--")) {
            throw new SetupException(option + " needs a value; see hmm-vm help");
        }
        return args[i];
    }

    public static int suite(Settings settings, List<KernelProfile> profiles) {
        Path reports = settings.reportDir();
        List<KernelRun> runs = Matrix.run(settings.with(Setting.RUN_DIR, reports.toString()), profiles,
                List.of(DiscoverySelectors.selectPackage(settings.suitePackage())));
        UpstreamParity parity = UpstreamParity.of(settings.suitePackage());
        Reports.printTable(runs, parity, System.out);
        Reports.write(runs, parity, reports);
        int code = Reports.exitCode(runs);
        System.out.println("reports: " + reports.resolve("index.html") + " (summary.json, junit-*.xml); exit code " + code);
        return code;
    }

    /** The matrix serial and with several guests at once, side by side ({@code bench-matrix}). */
    public static int benchMatrix(Settings settings, List<KernelProfile> profiles) {
        return MatrixBench.run(settings, profiles, List.of(DiscoverySelectors.selectPackage(settings.suitePackage())),
                System.out);
    }

    public static int images(Settings settings, List<KernelProfile> profiles) {
        GuestImages images = new GuestImages(ImageCache.of(settings), settings);
        for (KernelProfile p : profiles) {
            GuestImage image = images.ensure(p);
            System.out.println(p.name() + ": kernel " + image.kernelRelease() + ", " + image.kernel());
        }
        return 0;
    }

    /** A session for the guest programs: this JVM's classpath, the C benchmark, no hooks (also the hmm CLI's run and shell). */
    public static GuestSession.Spec programs(Settings settings, KernelProfile profile) {
        return new GuestSession.Spec(settings, profile, GuestClasspath.current(),
                Map.of(MirrorBench.C_PROGRAM, MirrorBench.cSource()), List.of());
    }

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

    public static int bench(Settings settings, KernelProfile profile) throws InterruptedException {
        long t0 = System.nanoTime();
        ImageCache cache = ImageCache.of(settings);
        GuestImage image = new GuestImages(cache, settings).ensure(profile);
        double imageReady = (System.nanoTime() - t0) / 1e9;
        Path dir = GuestSession.runDir(settings, profile, RunnerSelection.Kind.LOCAL).resolve("bench");
        Accelerator.Choice accel = Accelerator.forGuest(settings, image, cache);
        // bare boot: the same kernel and initramfs, powering off as soon as /init runs
        double bare;
        try (GuestVm vm = GuestVm.start(new GuestVm.Spec(image, dir, dir.resolve("out"), dir.resolve("bare-console.log"),
                true, 2048, "", false, accel), new LocalRunner())) {
            bare = vm.awaitMarker(Markers.BARE, GuestSession.bootTimeout(settings, accel)).map(Console.Marker::seconds)
                    .orElseThrow(() -> new GuestFailure("bare boot did not reach /init", vm.console().log(),
                            vm.console().tail(20)));
            vm.awaitExit(Duration.ofSeconds(60));
        }
        double[][] rows = new double[2][];
        boolean ok = true;
        for (int aot = 0; aot < 2; aot++) {
            Settings run = settings.with(Setting.AOT, String.valueOf(aot == 1))
                    .with(Setting.RUNNER, "local");
            try (GuestSession s = GuestSession.start(programs(run, profile))) {
                GuestResult r = s.runMain(DeviceDemo.class.getName());
                ok &= r.status() == GuestResult.Status.PASSED;
                double first = s.console().seconds(); // QEMU start -> now
                rows[aot] = new double[] {s.timings().init(), s.timings().agentReady(), first};
            }
        }
        System.out.printf(Locale.ROOT, """
                boot benchmark, profile %s, kernel %s, %s, %d CPUs on the host, load %.1f
                  image ready (cached or built)             %6.1f s
                  bare boot: QEMU start -> /init            %6.1f s
                                                     plain JVM   JVM + AOT cache
                  QEMU start -> /init                 %6.1f s   %6.1f s
                  QEMU start -> guest JVM ready       %6.1f s   %6.1f s
                  QEMU start -> first result          %6.1f s   %6.1f s
                  first result / bare boot            %6.2f x   %6.2f x   (target: <= 3 x)
                """, profile.name(), image.kernelRelease(), accel.describe(),
                Runtime.getRuntime().availableProcessors(),
                java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage(),
                imageReady, bare, rows[0][0], rows[1][0], rows[0][1], rows[1][1], rows[0][2], rows[1][2],
                rows[0][2] / bare, rows[1][2] / bare);
        return ok ? 0 : 1;
    }

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
            System.out.printf(Locale.ROOT, "host: %d CPUs, %s, load average %.1f; guest: 1 vCPU, 2 GiB; kernel %s (%s)%n",
                    Runtime.getRuntime().availableProcessors(), s.accel().describe(),
                    java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage(),
                    s.image().kernelRelease(), s.profile().name());
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
