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
 * or in a container ({@link ContainerRunner}). Both see the cache, the stage dir and the results
 * dir at the same absolute paths, so the QEMU command line and everything around it is the same.
 * Chosen by {@link RunnerSelection}.
 */
public interface GuestRunner extends QemuHost, AutoCloseable {
    /** Where {@code hmm_mirror.ko} and the benchmark are compiled with the kernel's own gcc. */
    Toolchain toolchain(GuestImage image);

    /** Releases what the runner holds (removes the container); QEMU must have ended or is killed. */
    @Override
    void close();

    /** Makes the runner {@code kind} for {@code image} and the run directory {@code runDir}. */
    static GuestRunner create(RunnerSelection.Kind kind, Settings settings, ImageCache cache, GuestImage image,
            Path runDir, Accelerator.Choice accel) {
        return switch (kind) {
            case LOCAL -> new LocalRunner();
            case CONTAINER -> ContainerRunner.start(settings, cache, image, runDir, accel);
        };
    }
}
