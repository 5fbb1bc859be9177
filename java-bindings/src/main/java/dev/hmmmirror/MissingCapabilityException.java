package dev.hmmmirror;

/**
 * The running kernel or the loaded module lacks what an operation needs (e.g. device-private memory
 * on a kernel built without {@code CONFIG_DEVICE_PRIVATE}, or event scopes on a module older than
 * {@code HMM_MIRROR_IOC_EVENT_SCOPE}). Says which kernel option, or what module, would provide it.
 */
public class MissingCapabilityException extends HmmException {
    private static final long serialVersionUID = 1L;

    /** The capability the operation needs and the kernel lacks. */
    private final Capability capability;

    /**
     * Builds the exception; the message names the capability, the kernel option (or the module) that
     * provides it and how to test for it beforehand.
     *
     * @param operation  what was attempted, e.g. {@code "ioctl HMM_MIRROR_IOC_MIGRATE_TO_DEV"}
     * @param target     what it was attempted on, e.g. a device path
     * @param errno      the errno value the kernel returned (normally {@link Errno#EOPNOTSUPP}; {@link Errno#ENOTTY}
     *                   from a module older than the command, for a capability without a kernel option)
     * @param capability the capability the operation needs
     */
    public MissingCapabilityException(String operation, String target, int errno, Capability capability) {
        super(operation, target, errno, hint(capability));
        this.capability = capability;
    }

    private static String hint(Capability capability) {
        String test = "Mirror.version().has(" + capability + ") tells beforehand";
        if (capability.kernelOption().isEmpty()) {
            return "the loaded hmm_mirror.ko lacks " + capability + " (it is older than these bindings: load a "
                    + "module built from the same sources; " + test + ")";
        }
        return "this kernel lacks " + capability + " (build it with " + capability.kernelOption()
                + "=y, or pick a kernel that has it; " + test + ")";
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
