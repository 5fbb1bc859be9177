package dev.hmmmirror.tool;

import dev.hmmmirror.cli.HmmVm;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** The benchmark subcommands (README, Performance). */
final class Benchmarks {
    private Benchmarks() {}

    @Command(name = "bench", mixinStandardHelpOptions = true,
            description = {"Boot-time benchmark.", "Image, bare boot to /init, then two sessions (plain guest JVM, AOT "
                    + "cache) to /init, guest JVM ready and first result, side by side."})
    static final class Boot implements Callable<Integer> {
        @Mixin
        GuestOptions guest;

        @Override
        public Integer call() {
            var settings = guest.settings();
            return Guarded.call(settings, s -> HmmVm.bench(s, guest.profile(s)));
        }
    }

    @Command(name = "bench-mirror", mixinStandardHelpOptions = true,
            description = {"Java/C benchmark of fault + read.",
                "HMM_MIRROR_IOC_FAULT + READ of the same range from a C program and "
                    + "through Mirror, interleaved, medians with min-max."})
    static final class MirrorBench implements Callable<Integer> {
        @Mixin
        GuestOptions guest;

        @Override
        public Integer call() {
            var settings = guest.settings();
            return Guarded.call(settings, s -> HmmVm.benchMain(s, guest.profile(s),
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
            return Guarded.call(settings, s -> HmmVm.benchMain(s, guest.profile(s),
                    dev.hmmmirror.programs.MigrationBench.class.getName()));
        }
    }
}
