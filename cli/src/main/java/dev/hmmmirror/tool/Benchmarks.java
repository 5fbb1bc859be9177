package dev.hmmmirror.tool;

import dev.hmmmirror.suite.Operations;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** The benchmark subcommands (docs/performance.md). */
final class Benchmarks {
    private Benchmarks() {}

    @Command(name = "bench", mixinStandardHelpOptions = true,
            description = {"Boot-time benchmark.", "Rounds of: a bare boot to /init, then one session per variant (default: "
                    + "the plain guest JVM and the AOT cache) to the device demo's first result, side by side; the "
                    + "start broken down by stage (/init, root, module, JVM, HELLO, first result), medians with min-max, "
                    + "and first result / bare boot."})
    static final class Boot implements Callable<Integer> {
        @Mixin
        GuestOptions guest;

        @Option(names = "--rounds", paramLabel = "N", defaultValue = "3",
                description = "rounds (bare boot + every variant), default ${DEFAULT-VALUE}")
        int rounds;

        @Option(names = "--variant", paramLabel = "NAME:PROPERTY=VALUE,...",
                description = "a session variant: settings over the current ones (docs/settings.md), e.g. "
                        + "aot:hmm.aot=true or big-heap:hmm.guest.jvm.options=-Xmx1g; repeatable; replaces the default two")
        List<String> variants = new ArrayList<>();

        @Override
        public Integer call() {
            var settings = guest.settings();
            return Guarded.call(settings, s -> Operations.bench(s, guest.profile(s), variants, rounds));
        }
    }

    @Command(name = "bench-matrix", mixinStandardHelpOptions = true,
            description = {"Serial vs parallel matrix benchmark.", "The guest suite on the kernels (default the three "
                    + "stock) one guest at a time, then several at once, side by side: wall times, their ratio, per-test "
                    + "results compared."})
    static final class MatrixBench implements Callable<Integer> {
        @Mixin
        GuestOptions guest;

        @picocli.CommandLine.Option(names = "--parallel", paramLabel = "K",
                description = "measure K guests at once (default: one per core and one more)")
        String parallel;

        @Override
        public Integer call() {
            var settings = guest.settings();
            if (parallel != null) {
                settings = settings.with(dev.hmmmirror.vm.config.Setting.PARALLEL, parallel);
            }
            return Guarded.call(settings, s -> Operations.benchMatrix(s,
                    guest.profiles(s, dev.hmmmirror.vm.image.KernelProfile.stock())));
        }
    }

    @Command(name = "bench-mirror", mixinStandardHelpOptions = true,
            description = {"Java/C benchmark of fault + read.",
                "HMM_MIRROR_IOC_FAULT + READ of the same range from a C program and "
                    + "through Mirror, interleaved, medians with min-max; then the cost of one call (an empty libc "
                    + "call, the VERSION ioctl) from C, through the bindings and through FFM handles with and "
                    + "without errno capture and Linker.Option.critical."})
    static final class MirrorBench implements Callable<Integer> {
        @Mixin
        GuestOptions guest;

        @Override
        public Integer call() {
            var settings = guest.settings();
            return Guarded.call(settings, s -> Operations.benchMain(s, guest.profile(s),
                    dev.hmmmirror.programs.MirrorBench.class.getName()));
        }
    }

    @Command(name = "bench-migrate", mixinStandardHelpOptions = true,
            description = {"Migration throughput benchmark.", "Migration to device memory and back (MiB/s) for several "
                    + "range sizes."})
    static final class MigrationBench implements Callable<Integer> {
        @Mixin
        GuestOptions guest;

        @Override
        public Integer call() {
            var settings = guest.settings();
            return Guarded.call(settings, s -> Operations.benchMain(s, guest.profile(s),
                    dev.hmmmirror.programs.MigrationBench.class.getName()));
        }
    }

    @Command(name = "bench-drivers", mixinStandardHelpOptions = true,
            description = {"Our module against the kernel's test_hmm.", "One guest (default --kernel built-7.2: a "
                    + "kernel with test_hmm), both drivers' repetitions interleaved: device fault + read and write "
                    + "(1 page to 1 GiB), migration and back (with a 2 MiB THP), munmap of a mirrored GiB with 1 and "
                    + "4 mirrors; medians with min-max, ratios ours/test_hmm; JSON in the run folder's "
                    + "out/driver-bench.json."})
    static final class DriverBench implements Callable<Integer> {
        @Mixin
        GuestOptions guest;

        @Override
        public Integer call() {
            var settings = guest.settings();
            return Guarded.call(settings, s -> Operations.benchDrivers(s, guest.profiles(s,
                    java.util.List.of(dev.hmmmirror.vm.image.KernelProfile.named(Operations.DRIVER_BENCH_KERNEL))).getFirst()));
        }
    }

    @Command(name = "bench-rdma", mixinStandardHelpOptions = true,
            description = {"First touch and invalidation: rxe On-Demand Paging vs pinned vs our device.", "One "
                + "guest (default --kernel debian-sid: rxe with ODP): a device reads 1, 64, 512 and 16,384 fresh pages "
                + "the CPU wrote, three ways by turns: an rxe ODP region (registration + RDMA READ, rxe faulting "
                + "through HMM), a pinned rxe region (pinning registration + RDMA READ), our device (fault + read); "
                + "then munmap of 16,384 pages and of 1 GiB mapped by no mirror, ours, an rxe ODP region or both; "
                + "medians with min-max, ratios to ODP and to no mirror (docs/rxe.md)."})
    static final class RdmaBench implements Callable<Integer> {
        @Mixin
        GuestOptions guest;

        @Override
        public Integer call() {
            var settings = guest.settings();
            return Guarded.call(settings, s -> Operations.benchMain(s, guest.profile(s),
                    dev.hmmmirror.programs.RdmaBench.class.getName()));
        }
    }
}
