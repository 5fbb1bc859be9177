package dev.hmmmirror;

import java.util.Optional;

/**
 * The Linux errno values the hmm_mirror module and the system calls around it report, with their
 * symbolic names as a kernel developer reads them in {@code errno.h}. The library's one errno
 * vocabulary: the FFM layer, the error hints and the tests name errnos only through this enum.
 */
public enum Errno {
    EPERM(1, "Operation not permitted"),
    ENOENT(2, "No such file or directory"),
    ESRCH(3, "No such process"),
    EINTR(4, "Interrupted system call"),
    EIO(5, "Input/output error"),
    ENXIO(6, "No such device or address"),
    EBADF(9, "Bad file descriptor"),
    EAGAIN(11, "Resource temporarily unavailable"),
    ENOMEM(12, "Cannot allocate memory"),
    EACCES(13, "Permission denied"),
    EFAULT(14, "Bad address"),
    EBUSY(16, "Device or resource busy"),
    EEXIST(17, "File exists"),
    ENODEV(19, "No such device"),
    EINVAL(22, "Invalid argument"),
    ENFILE(23, "Too many open files in system"),
    EMFILE(24, "Too many open files"),
    ENOTTY(25, "Inappropriate ioctl for device"),
    ENOSPC(28, "No space left on device"),
    EPIPE(32, "Broken pipe"),
    ERANGE(34, "Numerical result out of range"),
    ENOSYS(38, "Function not implemented"),
    EOVERFLOW(75, "Value too large for defined data type"),
    EOPNOTSUPP(95, "Operation not supported"),
    ETIMEDOUT(110, "Connection timed out");

    private static final Errno[] VALUES = values();

    private final int number;
    private final String description;

    Errno(int number, String description) {
        this.number = number;
        this.description = description;
    }

    /** The numeric value, as in {@code errno}. */
    public int number() {
        return number;
    }

    /** The C library's text for this errno ({@code strerror}). */
    public String description() {
        return description;
    }

    /** The constant with this number, if it is one this enum knows. */
    public static Optional<Errno> of(int number) {
        return Optional.ofNullable(orNull(number));
    }

    /** The constant with this number, or {@code null}: for {@code switch} with {@code case null}. */
    public static Errno orNull(int number) {
        for (Errno e : VALUES) {
            if (e.number == number) {
                return e;
            }
        }
        return null;
    }

    /** Whether {@code number} is this errno. */
    public boolean is(int number) {
        return this.number == number;
    }

    /** The symbolic name of an errno number, e.g. {@code "ENOTTY"}, or {@code "errno 123"}. */
    public static String name(int number) {
        return of(number).map(Enum::name).orElse("errno " + number);
    }
}
