package dev.hmmmirror.vm.cli;

import dev.hmmmirror.vm.Accelerator;
import dev.hmmmirror.vm.Console;
import dev.hmmmirror.vm.GuestFailure;
import dev.hmmmirror.vm.GuestImage;
import dev.hmmmirror.vm.GuestImages;
import dev.hmmmirror.vm.GuestSession;
import dev.hmmmirror.vm.GuestVm;
import dev.hmmmirror.vm.ImageCache;
import dev.hmmmirror.vm.KernelProfile;
import dev.hmmmirror.vm.KernelSplat;
import dev.hmmmirror.vm.Progress;
import dev.hmmmirror.vm.SetupException;
import dev.hmmmirror.vm.agent.GuestResult;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Command line of the guest pipeline.
 *
 * <pre>
 * hmm-vm run   [--kernel P] [--verbose] [--runner auto|local|container]
 *                                         boot P, load the module, run the device demo in the guest
 * hmm-vm images [--kernel P | --all]      build (or check) the cached guest images
 * hmm-vm bench [--kernel P]               time image, bare boot, guest JVM and first result
 * hmm-vm bench-mirror [--kernel P]        the same fault + read from Java and from C, side by side
 * </pre>
 * Exit codes: 0 success, 1 the guest command failed, 2 kernel splat, 125 could not build or boot.
 */
public final class HmmVm {
    private HmmVm() {}

    public static void main(String[] args) {
        System.exit(run(args));
    }

    public static int run(String[] args) {
        String command = args.length > 0 ? args[0] : "help";
        List<KernelProfile> profiles = new ArrayList<>();
        try {
            for (int i = 1; i < args.length; i++) {
                switch (args[i]) {
                    case "--kernel" -> profiles.add(KernelProfile.named(value(args, ++i, "--kernel")));
                    case "--kernel-tree" -> profiles.add(KernelProfile.tree(Path.of(value(args, ++i, "--kernel-tree"))));
                    case "--all" -> profiles.addAll(KernelProfile.stock());
                    case "--verbose" -> System.setProperty("hmm.verbose", "true");
                    case "--no-kselftest" -> System.setProperty("hmm.kselftest", "false");
                    case "--help", "-h" -> command = "help";
                    case "--runner" -> {
                        String r = value(args, ++i, "--runner");
                        dev.hmmmirror.vm.RunnerSelection.select(r, null, () -> false); // validates the name
                        System.setProperty("hmm.runner", r);
                    }
                    default -> throw new SetupException("unknown option " + args[i] + "; see hmm-vm help");
                }
            }
        } catch (SetupException e) {
            System.err.println("hmm-vm: " + e.getMessage());
            return 125;
        }
        boolean chosen = !profiles.isEmpty();
        if (profiles.isEmpty()) {
            profiles.add(KernelProfile.selected());
        }
        try {
            return switch (command) {
                case "run" -> demo(profiles.getFirst());
                case "images" -> images(profiles);
                case "suite", "matrix" -> suite(command.equals("matrix") && !chosen ? KernelProfile.stock() : profiles);
                case "bench" -> bench(profiles.getFirst());
                case "bench-mirror" -> benchMain(profiles.getFirst(), dev.hmmmirror.vm.bench.MirrorBench.class.getName());
                case "bench-migrate" -> benchMain(profiles.getFirst(), dev.hmmmirror.vm.bench.MigrationBench.class.getName());
                default -> {
                    System.out.println("""
                            usage: hmm-vm run    [--kernel PROFILE | --kernel-tree DIR] [--verbose] [--runner R]
                                                                                 boot, load hmm_mirror.ko, run the device demo
                                   hmm-vm suite  [--kernel PROFILE | --kernel-tree DIR] [--no-kselftest]
                                                                                 run the guest suite, print a table (ci/hmm-suite)
                                   hmm-vm matrix [--kernel P]... [--kernel-tree DIR]... | --all
                                                                                 the suite on several kernels (default: the
                                                                                 stock three): table, JSON, JUnit XML, HTML
                                   hmm-vm images [--kernel PROFILE | --kernel-tree DIR | --all]
                                                                                 build or check the cached guest images
                                   hmm-vm bench  [--kernel PROFILE]              boot-time benchmark
                                   hmm-vm bench-mirror [--kernel PROFILE]        Java/C benchmark of fault + read
                                   hmm-vm bench-migrate [--kernel PROFILE]       migration throughput (MiB/s)
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
                            runner: where QEMU runs (run, bench-mirror, bench-migrate): auto (default: a container
                                    when a Docker engine answers, else this host), local, container; env HMM_RUNNER;
                                    built kernels and trees run locally
                            exit codes: 0 all passed, 1 tests failed, 2 kernel splat (Oops, BUG, WARNING, KASAN,
                                        lockdep, hung task), 125 could not build or boot (git bisect run skips)""");
                    yield command.equals("help") || command.equals("--help") ? 0 : 125;
                }
            };
        } catch (SetupException | GuestFailure e) {
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

    private static int suite(List<KernelProfile> profiles) {
        java.nio.file.Path reports = java.nio.file.Path.of(System.getProperty("hmm.report.dir", "target/hmm-report"))
                .toAbsolutePath();
        String pkg = System.getProperty("hmm.suite.package", "dev.hmmmirror.guest");
        List<dev.hmmmirror.vm.suite.KernelRun> runs = new ArrayList<>();
        for (KernelProfile p : profiles) {
            runs.add(dev.hmmmirror.vm.suite.SuiteRunner.run(p,
                    List.of(org.junit.platform.engine.discovery.DiscoverySelectors.selectPackage(pkg)), reports));
        }
        dev.hmmmirror.vm.suite.Reports.printTable(runs, System.out);
        dev.hmmmirror.vm.suite.Reports.write(runs, reports);
        int code = dev.hmmmirror.vm.suite.Reports.exitCode(runs);
        System.out.println("reports: " + reports.resolve("index.html") + " (summary.json, junit-*.xml); exit code " + code);
        return code;
    }

    private static int images(List<KernelProfile> profiles) {
        GuestImages images = new GuestImages(ImageCache.forUser());
        for (KernelProfile p : profiles) {
            GuestImage image = images.ensure(p);
            System.out.println(p.name() + ": kernel " + image.kernelRelease() + ", " + image.kernel());
        }
        return 0;
    }

    private static int demo(KernelProfile profile) throws InterruptedException {
        try (GuestSession s = GuestSession.start(profile, GuestSession.currentClasspath(), Boolean.getBoolean("hmm.verbose"))) {
            GuestResult r = s.runMain(DeviceDemo.class.getName());
            System.out.print(r.output());
            if (r.status() != GuestResult.Status.PASSED) {
                System.out.println("demo failed in the guest: " + r.message() + "\n" + r.trace());
            }
            List<KernelSplat> splats = s.newSplats();
            s.close();
            splats = new ArrayList<>(splats);
            splats.addAll(s.newSplats());
            System.out.println("console log: " + s.consoleLog());
            if (!splats.isEmpty()) {
                System.out.println("kernel " + splats.getFirst().kind() + ":\n" + splats.getFirst().report());
                return 2;
            }
            return r.status() == GuestResult.Status.PASSED ? 0 : 1;
        }
    }

    private static int bench(KernelProfile profile) throws InterruptedException {
        long t0 = System.nanoTime();
        GuestImage image = new GuestImages(ImageCache.forUser()).ensure(profile);
        double imageReady = (System.nanoTime() - t0) / 1e9;
        Path dir = GuestSession.runDir(profile).resolve("bench");
        Accelerator.Choice accel = Accelerator.forGuest(image, ImageCache.forUser());
        // bare boot: the same kernel and initramfs, powering off as soon as /init runs
        double bare;
        try (GuestVm vm = GuestVm.start(new GuestVm.Spec(image, dir, dir.resolve("out"), dir.resolve("bare-console.log"),
                true, 2048, "", false, accel))) {
            bare = vm.awaitMarker("BARE", GuestSession.bootTimeout(accel)).map(Console.Marker::seconds)
                    .orElseThrow(() -> new GuestFailure("bare boot did not reach /init", vm.console().log(),
                            vm.console().tail(20)));
            vm.awaitExit(Duration.ofSeconds(60));
        }
        double[][] rows = new double[2][];
        boolean ok = true;
        for (int aot = 0; aot < 2; aot++) {
            System.setProperty("hmm.aot", String.valueOf(aot == 1));
            try (GuestSession s = GuestSession.start(profile, GuestSession.currentClasspath(), false)) {
                GuestResult r = s.runMain(DeviceDemo.class.getName());
                ok &= r.status() == GuestResult.Status.PASSED;
                double first = s.console().seconds(); // QEMU start -> now
                rows[aot] = new double[] {s.timings().init(), s.timings().agentReady(), first};
            }
        }
        System.clearProperty("hmm.aot");
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

    private static int benchMain(KernelProfile profile, String mainClass) throws InterruptedException {
        try (GuestSession s = GuestSession.start(profile, GuestSession.currentClasspath(), false)) {
            GuestResult r = s.runMain(mainClass);
            System.out.print(r.output());
            System.out.printf("host: %d CPUs, %s; guest: 1 vCPU, 2 GiB%n", Runtime.getRuntime().availableProcessors(),
                    s.accel().describe());
            if (r.status() != GuestResult.Status.PASSED) {
                System.out.println("benchmark failed in the guest: " + r.message() + "\n" + r.trace());
                return 1;
            }
            return 0;
        }
    }

}
