package dev.hmmmirror;

import java.util.Optional;

/**
 * The Linux errno values the hmm_mirror module and the system calls around it report, with their
 * symbolic names as a kernel developer reads them in {@code errno.h}. The library's one errno
 * vocabulary: the FFM layer, the error hints and the tests name errnos only through this enum.
 */
public enum Errno {
    /**
     * A command from a process (mm) other than the one that opened the device, a write or atomic on a
     * mapping without write permission, or {@code HMM_MIRROR_IOC_PAGES} without {@code CAP_SYS_ADMIN}.
     */
    EPERM(1, "Operation not permitted"),
    /** {@code open}: no such device node (module not loaded, or an index past {@code ndevices}). */
    ENOENT(2, "No such file or directory"),
    /** The mirrored process's address space is gone (its {@code mm} has no users left). */
    ESRCH(3, "No such process"),
    /** A fatal signal interrupted a command's fault or retry loop. */
    EINTR(4, "Interrupted system call"),
    /**
     * A device copy failed (injected with {@link FaultInjection#failedCopies}), or
     * {@link CopyOnWriteChild#bytes} could not read the child's memory.
     */
    EIO(5, "Input/output error"),
    /** {@code open}: no driver for the node's device number (e.g. a stale node made by hand). */
    ENXIO(6, "No such device or address"),
    /** A file descriptor that is not open. */
    EBADF(9, "Bad file descriptor"),
    /** {@code read} of an {@code O_NONBLOCK} device file with no event pending; {@code fork} at the process limit. */
    EAGAIN(11, "Resource temporarily unavailable"),
    /** Out of kernel memory; for MIGRATE_TO_DEV, device memory ({@code dmem_mib}) exhausted before any page moved. */
    ENOMEM(12, "Cannot allocate memory"),
    /** {@code open}: no permission (the device nodes are root-only, mode 0600). */
    EACCES(13, "Permission denied"),
    /** Part of the range is not mapped or is {@code PROT_NONE}, or a struct or buffer pointer is bad. */
    EFAULT(14, "Bad address"),
    /** The range kept being invalidated (or the page kept changing) until the retry deadline; retry. */
    EBUSY(16, "Device or resource busy"),
    /** A mapping already exists there ({@code MAP_FIXED_NOREPLACE}). */
    EEXIST(17, "File exists"),
    /** {@code open}: the node's misc device is not registered (the module was unloaded). */
    ENODEV(19, "No such device"),
    /** A bad struct size, flag, reserved word, alignment or range, or a mapping the command cannot take. */
    EINVAL(22, "Invalid argument"),
    /** The system-wide limit of open files is reached. */
    ENFILE(23, "Too many open files in system"),
    /** This process's limit of open file descriptors ({@code RLIMIT_NOFILE}) is reached. */
    EMFILE(24, "Too many open files"),
    /** The device does not know the ioctl: the loaded module is older than these bindings, or not hmm_mirror. */
    ENOTTY(25, "Inappropriate ioctl for device"),
    /** No space left, e.g. on the tmpfs behind a {@link Memory#file(java.nio.file.Path, long) file} mapping. */
    ENOSPC(28, "No space left on device"),
    /** A write to a pipe whose read end is closed. */
    EPIPE(32, "Broken pipe"),
    /** A result out of range. */
    ERANGE(34, "Numerical result out of range"),
    /** The system call does not exist on this kernel (e.g. {@code memfd_create}, {@code vmsplice}). */
    ENOSYS(38, "Function not implemented"),
    /** A value too large for its type, e.g. a file offset or size. */
    EOVERFLOW(75, "Value too large for defined data type"),
    /**
     * The kernel lacks what the command needs (no {@code CONFIG_DEVICE_PRIVATE}: see {@link Capability}), or
     * {@code make_device_exclusive} refused a page (not private anonymous).
     */
    EOPNOTSUPP(95, "Operation not supported"),
    /** A wait timed out. */
    ETIMEDOUT(110, "Connection timed out");

    private static final Errno[] VALUES = values();

    private final int number;
    private final String description;

    Errno(int number, String description) {
        this.number = number;
        this.description = description;
    }

    /**
     * The numeric value, as in {@code errno}.
     *
     * @return the positive errno number (the kernel returns its negation)
     */
    public int number() {
        return number;
    }

    /**
     * The C library's text for this errno ({@code strerror}).
     *
     * @return glibc's message, e.g. {@code "Invalid argument"}
     */
    public String description() {
        return description;
    }

    /**
     * The constant with this number, if it is one this enum knows.
     *
     * @param number a positive errno number
     * @return the constant, or empty
     */
    public static Optional<Errno> of(int number) {
        return Optional.ofNullable(orNull(number));
    }

    /**
     * The constant with this number, or {@code null}: for {@code switch} with {@code case null}.
     *
     * @param number a positive errno number
     * @return the constant, or {@code null} for a number this enum does not list
     */
    public static Errno orNull(int number) {
        for (Errno e : VALUES) {
            if (e.number == number) {
                return e;
            }
        }
        return null;
    }

    /**
     * Whether {@code number} is this errno.
     *
     * @param number a positive errno number, e.g. {@link HmmException#errno()}
     * @return whether it equals {@link #number()}
     */
    public boolean is(int number) {
        return this.number == number;
    }

    /**
     * The symbolic name of an errno number, e.g. {@code "ENOTTY"}, or {@code "errno 123"}.
     *
     * @param number a positive errno number
     * @return the constant's name, or {@code "errno <number>"} for one this enum does not list
     */
    public static String name(int number) {
        return of(number).map(Enum::name).orElse("errno " + number);
    }
}
