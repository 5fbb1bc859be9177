package dev.hmmmirror;

/**
 * The running kernel lacks what an operation needs (e.g. device-private memory on a kernel built
 * without {@code CONFIG_DEVICE_PRIVATE}). Says which kernel option would provide it.
 */
public class MissingCapabilityException extends HmmException {
    private static final long serialVersionUID = 1L;

    private final Capability capability;

    public MissingCapabilityException(String operation, String target, int errno, Capability capability) {
        super(operation, target, errno, "this kernel lacks " + capability + " (build it with "
                + capability.kernelOption() + "=y, or pick a kernel that has it; Mirror.version().has("
                + capability + ") tells beforehand)");
        this.capability = capability;
    }

    /** The missing capability. */
    public Capability capability() {
        return capability;
    }
}
