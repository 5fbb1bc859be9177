package dev.hmmmirror.vm.runner;

import dev.hmmmirror.vm.boot.Accelerator;
import dev.hmmmirror.vm.boot.QemuHost;
import dev.hmmmirror.vm.config.Settings;
import dev.hmmmirror.vm.host.SetupException;
import dev.hmmmirror.vm.host.Toolchain;
import dev.hmmmirror.vm.image.GuestImage;
import dev.hmmmirror.vm.image.ImageCache;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * Where a guest's QEMU runs and where its module is compiled: on this host ({@link LocalRunner})
 * or in a container on a Docker engine ({@link ContainerRunner}: this host's engine, or one elsewhere).
 * All see the cache, the stage dir and the results dir at the same absolute paths (mounted, or
 * copied where the engine shares no files), so the QEMU command line is the same.
 * Chosen by {@link RunnerSelection}.
 */
public interface GuestRunner extends QemuHost, AutoCloseable {
    /** Where {@code hmm_mirror.ko} and the benchmark are compiled with the kernel's own gcc. */
    Toolchain toolchain(GuestImage image);

    /**
     * Makes the guest's results share ({@code out/}, written by the guest) current at {@code outShare}
     * on this host: nothing to do where it is a host directory; copied back from a remote engine.
     */
    default void collectResults(Path outShare) {
        // the share is this host's directory
    }

    /** Why the runner's machine went away during the run (a remote engine that stopped answering), if it did. */
    default java.util.Optional<String> lost() {
        return java.util.Optional.empty();
    }

    /** Releases what the runner holds (removes the container); QEMU must have ended or is killed. */
    @Override
    void close();

    /** Makes the runner {@code kind} for {@code image} and the run directory {@code runDir}. */
    static GuestRunner create(RunnerSelection.Kind kind, Settings settings, ImageCache cache, GuestImage image,
            Path runDir, Accelerator.Choice accel) {
        return switch (kind) {
            case LOCAL -> new LocalRunner();
            case CONTAINER -> ContainerRunner.local(settings, cache, image, runDir, accel);
            case ENGINE -> ContainerRunner.remote(settings, cache, image, runDir, accel, RunnerSelection.engineHost(settings));
        };
    }
}
