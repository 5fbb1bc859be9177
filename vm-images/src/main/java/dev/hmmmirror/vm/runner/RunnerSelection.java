package dev.hmmmirror.vm.runner;

import dev.hmmmirror.vm.config.Settings;
import dev.hmmmirror.vm.host.SetupException;
import dev.hmmmirror.vm.image.KernelProfile;
import java.util.Locale;
import java.util.function.BooleanSupplier;

/**
 * Which runner boots guests: {@code hmm.runner=auto|local|container} (system property; the
 * environment variable {@code HMM_RUNNER} when the property is unset or blank; default
 * {@code auto}). {@code auto} picks the container runner only when a Docker engine answers, else
 * the local one (QEMU and the toolchain on this host).
 */
public final class RunnerSelection {
    /** The two runners. */
    public enum Kind {
        /** QEMU as a host process; the module is built in a chroot of the kernel root. */
        LOCAL,
        /** QEMU and the kernel's gcc in a locally built container image (Testcontainers). */
        CONTAINER
    }

    private RunnerSelection() {}

    /**
     * Picks a runner.
     *
     * @param property        the {@code hmm.runner} system property (may be null or blank)
     * @param env             the {@code HMM_RUNNER} environment variable (may be null or blank)
     * @param dockerAvailable asked only for {@code auto}
     * @throws SetupException for an unknown value
     */
    public static Kind select(String property, String env, BooleanSupplier dockerAvailable) {
        String v = property != null && !property.isBlank() ? property : env;
        v = v == null || v.isBlank() ? "auto" : v.strip().toLowerCase(Locale.ROOT);
        return switch (v) {
            case "local" -> Kind.LOCAL;
            case "container" -> Kind.CONTAINER;
            case "auto" -> dockerAvailable.getAsBoolean() ? Kind.CONTAINER : Kind.LOCAL;
            default -> throw new SetupException("unknown runner '" + v
                    + "' (hmm.runner / HMM_RUNNER / --runner): use auto, local or container");
        };
    }


    /**
     * The runner for {@code profile}: as {@link #selected()}, except that {@code auto} stays local for
     * built kernels and kernel trees (the container images hold the stock kernels' toolchains only).
     */
    public static Kind selected(Settings settings, KernelProfile profile) {
        return select(settings.runner(), null,
                () -> profile.kind() == KernelProfile.Kind.STOCK && ContainerRunner.dockerAvailable(settings));
    }
}
