package dev.hmmmirror;

import dev.hmmmirror.internal.gen.HmmMirrorH;
import java.util.EnumSet;
import java.util.Set;

/** What the running kernel and the loaded module can do, as reported by {@link Mirror#version()}. */
public enum Capability {
    /** Address-space mirroring through {@code hmm_range_fault} ({@code CONFIG_HMM_MIRROR}). */
    MIRROR(HmmMirrorH.HMM_MIRROR_CAP_MIRROR(), "CONFIG_HMM_MIRROR"),
    /** Device-private memory: migration to the device and back ({@code CONFIG_DEVICE_PRIVATE}). */
    DEVICE_PRIVATE(HmmMirrorH.HMM_MIRROR_CAP_DEVICE_PRIVATE(), "CONFIG_DEVICE_PRIVATE"),
    /** Transparent huge pages ({@code CONFIG_TRANSPARENT_HUGEPAGE}). */
    THP(HmmMirrorH.HMM_MIRROR_CAP_THP(), "CONFIG_TRANSPARENT_HUGEPAGE"),
    /** Migration to this device's private memory and back. */
    MIGRATE(HmmMirrorH.HMM_MIRROR_CAP_MIGRATE(), "CONFIG_DEVICE_PRIVATE"),
    /** Device-exclusive access for device atomics. */
    EXCLUSIVE(HmmMirrorH.HMM_MIRROR_CAP_EXCLUSIVE(), "CONFIG_DEVICE_PRIVATE"),
    /**
     * The devices share one device-memory owner: a device maps another's memory in place (peer
     * access). Without it (module parameter {@code shared_owner=N}) each device owns its memory,
     * as test_hmm's do, and another device's access migrates the page back first.
     */
    SHARED_OWNER(HmmMirrorH.HMM_MIRROR_CAP_SHARED_OWNER(), "CONFIG_DEVICE_PRIVATE and hmm_mirror shared_owner"),
    /**
     * A mirror's invalidation events can be scoped to ranges ({@link Mirror#scopeEvents(long, long)},
     * {@code HMM_MIRROR_IOC_EVENT_SCOPE}). Needs no kernel option: every module that has the command
     * reports it, on every kernel; an older module lacks both.
     */
    EVENT_SCOPE(HmmMirrorH.HMM_MIRROR_CAP_EVENT_SCOPE(), ""),
    /**
     * A transparent huge page migrates whole: a 2 MiB-aligned range of one THP (or an empty or
     * huge-zero one) moves to device memory as one large device-private folio and back as one THP,
     * and a CPU fault brings all of it back. The kernel's {@code MIGRATE_VMA_SELECT_COMPOUND}
     * (Linux 6.19 and later) with {@code CONFIG_DEVICE_PRIVATE} and THP migration. Without it, or
     * when a large allocation fails, such a range moves as base pages. A {@link Snapshot} shows a
     * whole large device folio as {@link PageState#DEVICE_PRIVATE} and {@link PageState#HUGE}.
     */
    THP_MIGRATE(HmmMirrorH.HMM_MIRROR_CAP_THP_MIGRATE(), "CONFIG_DEVICE_PRIVATE and CONFIG_ARCH_ENABLE_THP_MIGRATION on Linux 6.19+"),
    /**
     * {@link Mirror#mapOrders(long, long)} works: the map order {@code hmm_range_fault()} reports per page
     * ({@code HMM_MIRROR_SNAPSHOT_MAP_ORDER}). Needs no kernel option: every module that has the flag
     * reports it; an older module lacks both.
     */
    MAP_ORDER(HmmMirrorH.HMM_MIRROR_CAP_MAP_ORDER(), "");

    private final long bit;
    private final String kernelOption;

    Capability(long bit, String kernelOption) {
        this.bit = bit;
        this.kernelOption = kernelOption;
    }

    /**
     * The bit of this capability in the ABI's {@code caps} word.
     *
     * @return the {@code HMM_MIRROR_CAP_*} bit (a single set bit)
     */
    public long bit() {
        return bit;
    }

    /**
     * The kernel configuration option this capability needs.
     *
     * @return the option's name, e.g. {@code "CONFIG_DEVICE_PRIVATE"} (for {@link #SHARED_OWNER} also the
     *         module parameter); empty for {@link #EVENT_SCOPE} and {@link #MAP_ORDER}, which need only a module that has them
     */
    public String kernelOption() {
        return kernelOption;
    }

    /**
     * Decodes a {@code caps} word; bits this library does not know are ignored.
     *
     * @param caps the {@code caps} field of {@code struct hmm_mirror_version}
     * @return the capabilities whose bits are set, as a new mutable set
     */
    public static Set<Capability> fromBits(long caps) {
        EnumSet<Capability> set = EnumSet.noneOf(Capability.class);
        for (Capability c : values()) {
            if ((caps & c.bit) != 0) {
                set.add(c);
            }
        }
        return set;
    }
}
