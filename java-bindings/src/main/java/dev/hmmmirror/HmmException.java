package dev.hmmmirror;

import java.io.IOException;
import java.util.Optional;

/**
 * A system call or hmm_mirror command failed. Carries the errno the kernel returned, the
 * operation and its target, and, where one is known, what to do about it.
 *
 * <p>The one rule of the API's errors: what the kernel refused is an {@code HmmException} (checked,
 * with its errno); what the API refuses before any system call is a programming error and
 * unchecked: {@link IllegalArgumentException} for an argument out of range (a page count, an
 * unaligned address), {@link IllegalStateException} for using what was closed or given up (a closed
 * {@link Mirror}, a closed {@link Memory}'s memfd, a page {@link Memory#unmap unmapped}).
 */
public class HmmException extends IOException {
    private static final long serialVersionUID = 1L;

    /** The positive errno value the failed call returned. */
    private final int errno;
    /** What was attempted, e.g. {@code "open"}. */
    private final String operation;
    /** What it was attempted on, e.g. a device path. */
    private final String target;

    /**
     * Builds the exception; the message reads {@code "<operation> <target> failed: <ENAME> (<strerror>): <hint>"}.
     *
     * @param operation what was attempted, e.g. {@code "open"} or {@code "ioctl HMM_MIRROR_IOC_VERSION"}
     * @param target    what it was attempted on, e.g. a device path
     * @param errno     the errno value the kernel returned (positive, e.g. 22 for EINVAL)
     * @param hint      what the user can do about it, or {@code null}
     */
    public HmmException(String operation, String target, int errno, String hint) {
        super(format(operation, target, errno, hint));
        this.errno = errno;
        this.operation = operation;
        this.target = target;
    }

    private static String format(String operation, String target, int errno, String hint) {
        String text = Errno.of(errno).map(Errno::description).orElse("unknown error");
        String msg = operation + " " + target + " failed: " + Errno.name(errno) + " (" + text + ")";
        return hint == null || hint.isEmpty() ? msg : msg + ": " + hint;
    }

    /**
     * The errno value, e.g. 25 for ENOTTY.
     *
     * @return the positive errno the failed call returned
     */
    public int errno() {
        return errno;
    }

    /**
     * The errno as a known constant, if it is one.
     *
     * @return the {@link Errno} with this number, or empty for a number {@link Errno} does not list
     */
    public Optional<Errno> errnoConstant() {
        return Errno.of(errno);
    }

    /**
     * The symbolic errno name, e.g. {@code "ENOTTY"}.
     *
     * @return the name, or {@code "errno N"} for a number {@link Errno} does not list
     */
    public String errnoName() {
        return Errno.name(errno);
    }

    /**
     * The operation that failed, e.g. {@code "open"}.
     *
     * @return the system call or command, e.g. {@code "ioctl HMM_MIRROR_IOC_FAULT"}
     */
    public String operation() {
        return operation;
    }

    /**
     * What the operation was applied to, e.g. {@code "/dev/hmm_mirror0"}.
     *
     * @return the device path, memory description or address the operation was applied to
     */
    public String target() {
        return target;
    }
}
