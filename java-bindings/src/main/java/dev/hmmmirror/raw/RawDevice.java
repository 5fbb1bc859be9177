package dev.hmmmirror.raw;

import dev.hmmmirror.HmmDevice;
import dev.hmmmirror.HmmException;
import dev.hmmmirror.internal.DeviceFile;
import java.lang.foreign.MemorySegment;

/**
 * An open {@code /dev/hmm_mirrorN} that issues commands as given: any command or request number,
 * with any struct or pointer, nothing checked on the way. A refused command throws
 * {@link HmmException} with the kernel's errno and no interpretation; what a {@code Mirror}
 * would say about it is the public API's business. Closing is idempotent; use after close throws
 * {@link IllegalStateException}.
 */
public final class RawDevice implements AutoCloseable {
    private final DeviceFile file;

    private RawDevice(DeviceFile file) {
        this.file = file;
    }

    /** Opens {@code path} read-write (as {@code Mirror.open} does: this process's mirror on it). */
    public static RawDevice open(String path) throws HmmException {
        return new RawDevice(DeviceFile.open(path));
    }

    /** Opens {@code /dev/hmm_mirror<index>}. */
    public static RawDevice open(int index) throws HmmException {
        return open(HmmDevice.of(index).path());
    }

    /** The device node. */
    public String path() {
        return file.path();
    }

    /**
     * {@code ioctl(fd, command, arg)}, whatever {@code arg}'s type and contents.
     *
     * @return the ioctl's non-negative result
     * @throws HmmException with the errno when the kernel refuses it
     */
    public int ioctl(Command command, RawStruct arg) throws HmmException {
        return check("ioctl " + command.ioctlName(), file.issue(command, arg.segment()));
    }

    /** {@code ioctl(fd, request, arg)} for any request number, known to these bindings or not. */
    public int ioctl(long request, RawStruct arg) throws HmmException {
        return check("ioctl 0x" + Long.toHexString(request), file.issue(request, arg.segment()));
    }

    /**
     * {@code ioctl(fd, request, arg)} with a struct these bindings do not know, laid out by the
     * caller in {@code arg} (e.g. another driver's uapi on a device file opened with
     * {@link #open(String)}).
     */
    public int ioctl(long request, RawBuffer arg) throws HmmException {
        return check("ioctl 0x" + Long.toHexString(request), file.issue(request, arg.segment()));
    }

    /** {@code ioctl(fd, command, argAddress)}: the struct pointer is whatever address the caller says. */
    public int ioctlAt(Command command, long argAddress) throws HmmException {
        return check("ioctl " + command.ioctlName(), file.issue(command, MemorySegment.ofAddress(argAddress)));
    }

    /**
     * Issues {@code command} from a forked child process (another mm) on this same open file, as
     * a test of the kernel's ownership check; the child runs no Java code.
     *
     * @return 0 when the child's ioctl succeeded, else the errno it saw (never thrown)
     */
    public int errnoFromOtherProcess(Command command, RawStruct arg) {
        return file.issueFromOtherProcess(command, arg.segment());
    }

    /**
     * {@code read(fd, buffer, buffer.byteSize())}: invalidation events as
     * {@code struct hmm_mirror_event}s; blocks until one is there.
     *
     * @return bytes read
     */
    public long read(RawBuffer buffer) throws HmmException {
        long n = file.read(buffer.segment());
        return check("read", n);
    }

    private int check(String operation, long rc) throws HmmException {
        if (rc < 0) {
            throw new HmmException(operation, file.path(), (int) -rc, null);
        }
        return (int) Math.min(rc, Integer.MAX_VALUE);
    }

    /** Whether {@link #close()} was called. */
    public boolean isClosed() {
        return file.isClosed();
    }

    /** Closes the file (the kernel then drops this process's mirror on it); idempotent. */
    @Override
    public void close() throws HmmException {
        file.close();
    }

    @Override
    public String toString() {
        return "RawDevice[" + file.path() + (isClosed() ? ", closed]" : "]");
    }
}
