package dev.hmmmirror;

import java.util.Set;

/**
 * What {@code HMM_MIRROR_IOC_VERSION} reports about the loaded module and the device.
 *
 * @param abiVersion   the module's ABI version ({@code HMM_MIRROR_ABI_VERSION})
 * @param capabilities what the kernel and module support
 * @param pageSize     the kernel's page size in bytes
 * @param deviceCount  how many {@code /dev/hmm_mirrorN} devices the module created
 * @param deviceIndex  the N of the device this was read from
 */
public record AbiVersion(int abiVersion, Set<Capability> capabilities, long pageSize, int deviceCount,
        int deviceIndex) {
    /**
     * Makes the record with an unmodifiable copy of {@code capabilities}.
     *
     * @param abiVersion   the module's ABI version ({@code HMM_MIRROR_ABI_VERSION})
     * @param capabilities what the kernel and module support
     * @param pageSize     the kernel's page size in bytes
     * @param deviceCount  how many {@code /dev/hmm_mirrorN} devices the module created
     * @param deviceIndex  the N of the device this was read from
     */
    public AbiVersion {
        capabilities = Set.copyOf(capabilities);
    }

    /**
     * Whether the kernel and module support {@code capability}.
     *
     * @param capability the capability to test
     * @return whether its bit was set in the {@code caps} word
     */
    public boolean has(Capability capability) {
        return capabilities.contains(capability);
    }
}
