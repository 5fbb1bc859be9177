package dev.hmmmirror.vm.runner;

import dev.hmmmirror.vm.config.Settings;
import dev.hmmmirror.vm.host.SetupException;
import dev.hmmmirror.vm.image.KernelProfile;
import java.util.Locale;
import java.util.function.BooleanSupplier;

/**
 * Which runner boots guests: the setting {@code hmm.runner} ({@link Settings#runner()}: auto,
 * local, container or docker:ADDRESS; default auto). {@code auto} picks the container runner only when a Docker engine answers, else
 * the local one (QEMU and the toolchain on this host).
 */
public final class RunnerSelection {
    /** The two runners. */
    public enum Kind {
        /** QEMU as a host process; the module is built in a chroot of the kernel root. */
        LOCAL,
        /** QEMU and the kernel's gcc in a container on this host's Docker engine ({@link ContainerRunner}, bind mounts). */
        CONTAINER,
        /** {@link ContainerRunner} on a Docker engine reached at an address ({@code docker:tcp://...}), nothing mounted. */
        ENGINE
    }

    /** The prefix of a runner that names a Docker engine: {@code docker:tcp://host:port}. */
    public static final String ENGINE_PREFIX = "docker:";

    /** The engine address of an {@code docker:ADDRESS} runner setting. */
    public static String engineHost(Settings settings) {
        String v = settings.runner();
        if (!v.startsWith(ENGINE_PREFIX) || v.length() == ENGINE_PREFIX.length()) {
            throw new SetupException("runner '" + v + "' names no Docker engine: use docker:tcp://HOST:PORT");
        }
        return v.substring(ENGINE_PREFIX.length());
    }

    private RunnerSelection() {}

    /**
     * Picks a runner.
     *
     * @param value           {@code auto}, {@code local} or {@code container} (null or blank: auto);
     *                        where it comes from is {@link Settings}' business
     * @param dockerAvailable asked only for {@code auto}
     * @throws SetupException for an unknown value
     */
    public static Kind select(String value, BooleanSupplier dockerAvailable) {
        String v = value == null || value.isBlank() ? "auto" : value.strip().toLowerCase(Locale.ROOT);
        if (v.startsWith(ENGINE_PREFIX) && v.length() > ENGINE_PREFIX.length()) {
            return Kind.ENGINE;
        }
        return switch (v) {
            case "local" -> Kind.LOCAL;
            case "container" -> Kind.CONTAINER;
            case "auto" -> dockerAvailable.getAsBoolean() ? Kind.CONTAINER : Kind.LOCAL;
            default -> throw new SetupException("unknown runner '" + v
                    + "' (hmm.runner / HMM_RUNNER / --runner): use auto, local, container or docker:tcp://HOST:PORT");
        };
    }


    /**
     * The runner for {@code profile}: as {@link #selected()}, except that {@code auto} stays local for
     * built kernels and kernel trees (the container images hold the stock kernels' toolchains only) and for
     * arm64 guests (only the local runner has their QEMU).
     */
    public static Kind selected(Settings settings, KernelProfile profile) {
        return select(settings.runner(), () -> profile.kind() == KernelProfile.Kind.STOCK && !profile.foreign()
                && ContainerRunner.dockerAvailable(settings));
    }
}
