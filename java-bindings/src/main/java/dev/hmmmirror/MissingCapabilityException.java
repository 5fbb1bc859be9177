package dev.hmmmirror;

/**
 * The running kernel lacks what an operation needs (e.g. device-private memory on a kernel built
 * without {@code CONFIG_DEVICE_PRIVATE}). Says which kernel option would provide it.
 */
public class MissingCapabilityException extends HmmException {
    private static final long serialVersionUID = 1L;

    /** The capability the operation needs and the kernel lacks. */
    private final Capability capability;

    /**
     * Builds the exception; the message names the capability, the kernel option that provides it and
     * how to test for it beforehand.
     *
     * @param operation  what was attempted, e.g. {@code "ioctl HMM_MIRROR_IOC_MIGRATE_TO_DEV"}
     * @param target     what it was attempted on, e.g. a device path
     * @param errno      the errno value the kernel returned (normally {@link Errno#EOPNOTSUPP})
     * @param capability the capability the operation needs
     */
    public MissingCapabilityException(String operation, String target, int errno, Capability capability) {
        super(operation, target, errno, "this kernel lacks " + capability + " (build it with "
                + capability.kernelOption() + "=y, or pick a kernel that has it; Mirror.version().has("
                + capability + ") tells beforehand)");
        this.capability = capability;
    }

    /**
     * The missing capability.
     *
     * @return the capability the operation needed
     */
    public Capability capability() {
        return capability;
    }
}
