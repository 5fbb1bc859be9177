package dev.hmmmirror;

import dev.hmmmirror.raw.Command;
import dev.hmmmirror.internal.gen.HmmMirrorH;
import java.util.Set;

/**
 * What an errno from an hmm_mirror command means, per command and per what the kernel can do
 * (the errors each command documents in native-headers/hmm_mirror.h). The low-level layer only
 * returns the errno; this is the one place that gives it a meaning, a capability and a hint.
 */
final class CommandErrors {
    private CommandErrors() {}

    /**
     * The exception for {@code errno} from {@code command} on {@code target}, on a kernel whose
     * module reports {@code capabilities}.
     */
    static HmmException exception(Command command, String target, int errno, Set<Capability> capabilities) {
        String operation = "ioctl " + command.ioctlName();
        Capability needed = capabilityOf(command);
        if (needed != null && !capabilities.contains(needed) && refusedForLackOf(needed, errno)) {
            return new MissingCapabilityException(operation, target, errno, needed);
        }
        return new HmmException(operation, target, errno, hint(command, Errno.orNull(errno)));
    }

    /**
     * The capability without which the module refuses {@code command}, if any: with EOPNOTSUPP for a
     * kernel option it lacks, with ENOTTY for a command the loaded module predates.
     */
    static Capability capabilityOf(Command command) {
        return switch (command) {
            case MIGRATE_TO_DEV, MIGRATE_TO_SYS -> Capability.MIGRATE;
            case EXCLUSIVE, ATOMIC_ADD -> Capability.EXCLUSIVE;
            case EVENT_SCOPE -> Capability.EVENT_SCOPE;
            default -> null;
        };
    }

    /**
     * Whether {@code errno} is how a module without {@code needed} refuses: EOPNOTSUPP where a kernel
     * option is missing, ENOTTY where the module is older than the command (a capability that needs no
     * kernel option, such as {@link Capability#EVENT_SCOPE}).
     */
    private static boolean refusedForLackOf(Capability needed, int errno) {
        return Errno.EOPNOTSUPP.is(errno) || (Errno.ENOTTY.is(errno) && needed.kernelOption().isEmpty());
    }

    /** What to do about {@code errno} from {@code command} (the capability being there), or null. */
    static String hint(Command command, Errno errno) {
        boolean exclusive = command == Command.EXCLUSIVE || command == Command.ATOMIC_ADD;
        boolean migrate = command == Command.MIGRATE_TO_DEV || command == Command.MIGRATE_TO_SYS;
        return switch (errno) {
            case EPERM -> command == Command.PAGES
                    ? "page frame numbers need CAP_SYS_ADMIN (as /proc/PID/pagemap's do): run as root"
                    : command == Command.FAULT || command == Command.WRITE || exclusive
                    ? "the range is mapped without write permission"
                            + (exclusive ? " (device atomics write)" : "")
                            + ", or the mirror belongs to another process"
                    : "the mirror belongs to another process: use it from the process that opened it";
            case EFAULT -> migrate ? "nothing in the range is mapped"
                    : command == Command.EVENT_SCOPE
                    ? "the command struct's address is bad (a scope range itself need not be mapped)"
                    : "part of the range is not mapped, or mapped PROT_NONE (or a buffer pointer is bad)";
            case EINVAL -> switch (command) {
                case MIGRATE_TO_DEV -> "only private memory moves to the device: the range has a shared mapping or "
                        + "one without read permission (or is not page aligned, or not 1.." + maxPages() + " pages)";
                case ATOMIC_ADD -> "the address must be 8-byte aligned (and the struct's flags and reserved fields zero)";
                case INJECT -> "the copy delay must be 0.." + HmmMirrorH.HMM_MIRROR_MAX_COPY_DELAY_US()
                        + " microseconds (flags and reserved fields zero)";
                case SET_DELAY -> "the delay must be 0.." + HmmMirrorH.HMM_MIRROR_MAX_DELAY_US()
                        + " microseconds (flags and reserved fields zero)";
                case EVENT_SCOPE -> "a scope range must be page aligned, end above its start and end at most at "
                        + "TASK_SIZE (the top of the user address space); flags exactly one of ADD and CLEAR, "
                        + "CLEAR with start and end 0, reserved fields zero";
                case VERSION, COUNTERS -> "the struct's size, pad or reserved fields are wrong: are these bindings "
                        + "from another ABI version than the loaded module?";
                default -> "invalid argument: ranges must be page aligned, 1.." + maxPages()
                        + " pages inside the address space, flags and reserved fields zero";
            };
            case EBUSY -> exclusive ? "the page kept changing while it was being made exclusive; retry"
                    : "the range kept being invalidated while faulting; retry";
            case ENOSPC -> command == Command.EVENT_SCOPE
                    ? "an event scope holds at most " + HmmMirrorH.HMM_MIRROR_SCOPE_RANGES()
                            + " ranges; clearEventScope() first (or scope fewer, larger ranges)"
                    : null;
            case ENOTTY -> "the device does not know this command: is the loaded hmm_mirror.ko older than these bindings?";
            case ESRCH -> "the mirrored process has exited";
            case EINTR -> "a fatal signal interrupted the command; the process is going away";
            case ENOMEM -> command == Command.MIGRATE_TO_DEV
                    ? "device memory is exhausted (module parameter dmem_mib): migrate fewer pages or move some back"
                    : "the kernel is out of memory";
            case EOPNOTSUPP -> exclusive
                    ? "make_device_exclusive refused a page of the range: only private anonymous pages (not "
                            + "shared, file-backed or hugetlb ones) can be made exclusive"
                    : migrate ? "unexpected: the module reports HMM_MIRROR_CAP_MIGRATE; see dmesg"
                    : "the module or the kernel does not support this here; see dmesg";
            case null, default -> null;
        };
    }

    private static long maxPages() {
        return HmmMirrorH.HMM_MIRROR_MAX_PAGES();
    }
}
