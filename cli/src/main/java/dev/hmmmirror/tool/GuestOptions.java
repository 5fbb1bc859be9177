package dev.hmmmirror.tool;

import dev.hmmmirror.vm.config.Setting;
import dev.hmmmirror.vm.config.Settings;
import dev.hmmmirror.vm.image.KernelProfile;
import dev.hmmmirror.vm.runner.RunnerSelection;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/** The options every guest-booting subcommand takes; the rest comes from the settings (docs/settings.md). */
final class GuestOptions {
    @Option(names = "--kernel", paramLabel = "PROFILE",
            description = "kernel profile: debian-sid (default), debian-trixie, debian-bookworm, built-7.2, built-6.12, "
                    + "built-6.1 (+ -debug), debian-sid-arm64, debian-sid-arm64-16k, built-7.2-arm64, built-7.2-arm64-64k "
                    + "(docs/arm64.md), tree:DIR")
    List<String> kernels = new ArrayList<>();

    @Option(names = "--kernel-tree", paramLabel = "DIR", description = "a kernel tree you configured and built")
    List<Path> trees = new ArrayList<>();

    @Option(names = "--runner", paramLabel = "auto|local|container",
            description = "where QEMU runs (default auto: a container when a Docker engine answers)")
    String runner;

    @Option(names = "--accel", paramLabel = "auto|kvm|tcg",
            description = "auto: KVM when a probe boot under /dev/kvm reaches /init, else TCG")
    String accel;

    @Option(names = {"-v", "--verbose"}, description = "copy the guest console to stderr as it arrives")
    boolean verbose;

    /** The settings of this JVM (properties, environment) with these flags over them. */
    Settings settings() {
        Settings s = Settings.fromEnvironment();
        if (runner != null) {
            RunnerSelection.select(runner, () -> false); // validates the name
            s = s.with(Setting.RUNNER, runner);
        }
        if (accel != null) {
            s = s.with(Setting.ACCEL, accel);
        }
        if (verbose) {
            s = s.with(Setting.VERBOSE, "true");
        }
        return s;
    }

    /** The kernels named, in order; {@code dflt} when none was. */
    List<KernelProfile> profiles(Settings settings, List<KernelProfile> dflt) {
        List<KernelProfile> out = new ArrayList<>();
        kernels.forEach(k -> out.add(KernelProfile.named(k)));
        trees.forEach(t -> out.add(KernelProfile.tree(t.toAbsolutePath())));
        return out.isEmpty() ? dflt : out;
    }

    /** The one kernel named (the first), else the setting's. */
    KernelProfile profile(Settings settings) {
        return profiles(settings, List.of(KernelProfile.named(settings.kernel()))).getFirst();
    }
}
