package dev.hmmmirror.raw;

import dev.hmmmirror.HmmDevice;
import dev.hmmmirror.HmmException;
import dev.hmmmirror.internal.DeviceFile;
import java.lang.foreign.MemorySegment;
import java.lang.ref.Reference;
import java.time.Duration;

/**
 * An open {@code /dev/hmm_mirrorN} that issues commands as given: any command or request number,
 * with any struct or pointer, nothing checked on the way. A refused command throws
 * {@link HmmException} with the kernel's errno and no interpretation; what a {@code Mirror}
 * would say about it is the public API's business. Closing is idempotent; use after close throws
 * {@link IllegalStateException}.
 *
 * <p>A device dropped without {@link #close()} is closed once the garbage collector finds it
 * unreachable, at a moment nobody chooses (as a {@code Mirror} is): close it yourself.
 */
public final class RawDevice implements AutoCloseable {
    private final DeviceFile file;

    private RawDevice(DeviceFile file) {
        this.file = file;
        file.closeWhenUnreachable(this);
    }

    /**
     * Opens {@code path} read-write (as {@code Mirror.open} does: this process's mirror on it).
     *
     * @param path the device node, or any other file to send ioctls to
     * @return the open device
     * @throws HmmException with the errno of {@code open(2)}, e.g. {@link dev.hmmmirror.Errno#ENOENT} without
     *                      the node, {@link dev.hmmmirror.Errno#EACCES} for a non-root process
     */
    public static RawDevice open(String path) throws HmmException {
        return new RawDevice(DeviceFile.open(path));
    }

    /**
     * Opens {@code /dev/hmm_mirror<index>}.
     *
     * @param index the N of {@code /dev/hmm_mirrorN}
     * @return the open device
     * @throws HmmException             as for {@link #open(String)}
     * @throws IllegalArgumentException when {@code index} is negative
     */
    public static RawDevice open(int index) throws HmmException {
        return open(HmmDevice.of(index).path());
    }

    /**
     * The open file behind descriptor {@code fd} of process {@code pid}, duplicated into this
     * process with {@code pidfd_getfd(2)}: the same file, so the same mirror, bound to that
     * process's address space. Its events can be read here ({@link #read(RawBuffer, Duration)}),
     * also after that process exited (the exit's {@code RELEASE} included); its commands are
     * refused with {@link dev.hmmmirror.Errno#EPERM} (they belong to the mirrored process). The
     * mirror lives until both processes closed the file.
     *
     * @param pid a process that has {@code /dev/hmm_mirrorN} open
     * @param fd  its descriptor there ({@code ls -l /proc/PID/fd})
     * @return this process's handle on the same open file; {@link #path()} is {@code /proc/PID/fd/FD}
     * @throws HmmException with {@link dev.hmmmirror.Errno#ESRCH} for no such process,
     *                      {@link dev.hmmmirror.Errno#EBADF} for no such descriptor,
     *                      {@link dev.hmmmirror.Errno#EPERM} without ptrace access to it (not root),
     *                      {@link dev.hmmmirror.Errno#ENOSYS} before Linux 5.6
     */
    public static RawDevice ofProcess(int pid, int fd) throws HmmException {
        return new RawDevice(DeviceFile.ofProcess(pid, fd));
    }

    /**
     * The device node.
     *
     * @return the path this device was opened from
     */
    public String path() {
        return file.path();
    }

    /**
     * {@code ioctl(fd, command, arg)}, whatever {@code arg}'s type and contents. The kernel's output
     * fields are in {@code arg} afterwards, also when FAULT, READ, WRITE, MIGRATE_* or EXCLUSIVE fail
     * after their argument checks: the module copies the struct back before returning the error.
     * {@code arg}, and every {@link RawBuffer} it points to through {@link RawStruct#set(String, RawBuffer)},
     * stays reachable (its memory allocated) until the system call returns, also when the caller keeps
     * no reference to them.
     *
     * @param command the command; its request number is sent whatever struct {@code arg} is
     * @param arg     the argument, passed by address
     * @return the ioctl's non-negative result (0 for every hmm_mirror command)
     * @throws HmmException          with the errno when the kernel refuses it, no hint attached
     * @throws IllegalStateException after {@link #close()}
     */
    public int ioctl(Command command, RawStruct arg) throws HmmException {
        try {
            return check("ioctl " + command.ioctlName(), file.issue(command, arg.segment()));
        } finally {
            keepReachable(arg);
        }
    }

    /**
     * {@code ioctl(fd, request, arg)} for any request number, known to these bindings or not.
     *
     * @param request the request number (an unknown one gets {@link dev.hmmmirror.Errno#ENOTTY} from the module)
     * @param arg     the argument, passed by address
     * @return the ioctl's non-negative result
     * @throws HmmException          with the errno when the kernel refuses it
     * @throws IllegalStateException after {@link #close()}
     */
    public int ioctl(long request, RawStruct arg) throws HmmException {
        try {
            return check("ioctl 0x" + Long.toHexString(request), file.issue(request, arg.segment()));
        } finally {
            keepReachable(arg);
        }
    }

    /**
     * {@code ioctl(fd, request, arg)} with a struct these bindings do not know, laid out by the
     * caller in {@code arg} (e.g. another driver's uapi on a device file opened with
     * {@link #open(String)}). {@code arg} stays reachable until the system call returns; memory
     * whose address the caller stored inside it is the caller's to keep reachable.
     *
     * @param request the request number
     * @param arg     the argument bytes, passed by address
     * @return the ioctl's non-negative result
     * @throws HmmException          with the errno when the kernel refuses it
     * @throws IllegalStateException after {@link #close()}
     */
    public int ioctl(long request, RawBuffer arg) throws HmmException {
        try {
            return check("ioctl 0x" + Long.toHexString(request), file.issue(request, arg.segment()));
        } finally {
            Reference.reachabilityFence(arg);
            Reference.reachabilityFence(this);
        }
    }

    /**
     * {@code ioctl(fd, command, argAddress)}: the struct pointer is whatever address the caller says.
     * The memory there is the caller's to keep allocated until this returns: a
     * {@link RawStruct#address()} is valid only while its struct is reachable, so keep the struct in a
     * variable used after the call, or {@link java.lang.ref.Reference#reachabilityFence} it.
     *
     * @param command    the command
     * @param argAddress the user address passed as the argument (e.g. 0, unmapped or kernel addresses:
     *                   the module's {@code copy_from_user} answers {@link dev.hmmmirror.Errno#EFAULT})
     * @return the ioctl's non-negative result
     * @throws HmmException          with the errno when the kernel refuses it
     * @throws IllegalStateException after {@link #close()}
     */
    public int ioctlAt(Command command, long argAddress) throws HmmException {
        try {
            return check("ioctl " + command.ioctlName(), file.issue(command, MemorySegment.ofAddress(argAddress)));
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /**
     * Issues {@code command} from a forked child process (another mm) on this same open file, as
     * a test of the kernel's ownership check; the child runs no Java code.
     *
     * @param command the command the child issues
     * @param arg     the argument, at the same address in the child's copy-on-write copy of memory
     * @return 0 when the child's ioctl succeeded, else the errno it saw (never thrown; expect
     *         {@link dev.hmmmirror.Errno#EPERM}), or a negative {@code -errno} when {@code fork} or
     *         {@code waitpid} failed
     * @throws IllegalStateException after {@link #close()}
     */
    public int errnoFromOtherProcess(Command command, RawStruct arg) {
        try {
            return file.issueFromOtherProcess(command, arg.segment());
        } finally {
            keepReachable(arg);
        }
    }

    /**
     * {@code read(fd, buffer, buffer.byteSize())}: invalidation events as
     * {@code struct hmm_mirror_event}s; blocks until one is there.
     *
     * @param buffer where the events go; whole events only, at most 16 per call
     * @return bytes read, a multiple of {@code sizeof(struct hmm_mirror_event)}
     * @throws HmmException          {@link dev.hmmmirror.Errno#EINVAL} for a buffer smaller than one event
     * @throws IllegalStateException after {@link #close()}
     */
    public long read(RawBuffer buffer) throws HmmException {
        try {
            return check("read", file.read(buffer.segment()));
        } finally {
            Reference.reachabilityFence(buffer);
            Reference.reachabilityFence(this);
        }
    }

    /**
     * Waits up to {@code wait} for the first event ({@code poll(2)}), then reads whole
     * {@code struct hmm_mirror_event}s into {@code buffer} as {@link #read(RawBuffer)} does.
     *
     * @param buffer where the events go; whole events only, at most 16 per call
     * @param wait   how long to wait for the first one (zero: only what is queued)
     * @return bytes read, a multiple of {@code sizeof(struct hmm_mirror_event)}; 0 when none arrived
     * @throws HmmException          with the errno of {@code poll} or {@code read}
     * @throws IllegalStateException after {@link #close()}
     */
    public long read(RawBuffer buffer, Duration wait) throws HmmException {
        try {
            return file.readEvents(buffer.segment(), (int) Math.min(Integer.MAX_VALUE, wait.toMillis()));
        } finally {
            Reference.reachabilityFence(buffer);
            Reference.reachabilityFence(this);
        }
    }

    /**
     * Keeps {@code arg}, the buffers it points to and this device reachable up to here. Called in a
     * {@code finally} after the system call: compiled code drops a reference as soon as it last
     * uses it, and once the struct's address is loaded nothing else refers to the struct (the FFM
     * downcall keeps only the struct's own memory alive), so without this a caller that keeps
     * nothing itself would let the garbage collector free a {@link RawBuffer} the kernel is
     * writing (issue 25).
     */
    private void keepReachable(RawStruct arg) {
        Reference.reachabilityFence(arg);
        Reference.reachabilityFence(this);
    }

    private int check(String operation, long rc) throws HmmException {
        if (rc < 0) {
            throw new HmmException(operation, file.path(), (int) -rc, null);
        }
        return (int) Math.min(rc, Integer.MAX_VALUE);
    }

    /**
     * Whether {@link #close()} was called.
     *
     * @return whether this device was closed
     */
    public boolean isClosed() {
        return file.isClosed();
    }

    /**
     * Closes the file (the kernel then drops this process's mirror on it); idempotent.
     *
     * @throws HmmException with the errno of {@code close(2)}
     */
    @Override
    public void close() throws HmmException {
        file.close();
    }

    @Override
    public String toString() {
        return "RawDevice[" + file.path() + (isClosed() ? ", closed]" : "]");
    }
}
