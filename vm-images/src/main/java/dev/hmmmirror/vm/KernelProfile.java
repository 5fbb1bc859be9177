package dev.hmmmirror.vm;

import java.util.List;
import java.util.stream.Collectors;

/**
 * A kernel the guest tests can boot. The stock profiles use a Debian release's own kernel
 * package, unchanged: no kernel compile.
 *
 * @param name        what users pass as {@code -Dhmm.kernel=}
 * @param suite       the Debian suite the kernel, its headers and gcc come from
 * @param description one line for listings
 */
public record KernelProfile(String name, String suite, String description) {
    /** The profile used when none is given. */
    public static final String DEFAULT = "debian-sid";

    /** The Debian suite the shared guest userland (with its Java 25 runtime) comes from. */
    public static final String USERLAND_SUITE = "sid";

    private static final List<KernelProfile> STOCK = List.of(
            new KernelProfile("debian-sid", "sid",
                    "Debian sid stock kernel (7.x): HMM_MIRROR + DEVICE_PRIVATE, the full feature set"),
            new KernelProfile("debian-trixie", "trixie",
                    "Debian 13 stock kernel (6.12): HMM_MIRROR only, no device-private memory"),
            new KernelProfile("debian-bookworm", "bookworm",
                    "Debian 12 stock kernel (6.1): HMM_MIRROR only, no device-private memory"));

    /** The stock profiles. */
    public static List<KernelProfile> stock() {
        return STOCK;
    }

    /** The profile called {@code name}; fails with the list of known names. */
    public static KernelProfile named(String name) {
        String n = name == null || name.isBlank() ? DEFAULT : name.strip();
        return STOCK.stream().filter(p -> p.name.equals(n)).findFirst()
                .orElseThrow(() -> new SetupException("unknown kernel profile '" + n + "': use one of "
                        + STOCK.stream().map(KernelProfile::name).collect(Collectors.joining(", "))));
    }

    /** The profile chosen by the {@code hmm.kernel} system property, or the default. */
    public static KernelProfile selected() {
        return named(System.getProperty("hmm.kernel", DEFAULT));
    }
}
