package dev.hmmmirror.internal;

import dev.hmmmirror.HmmException;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An open {@code /dev/hmm_mirrorN} file descriptor. Every hmm_mirror command goes through
 * {@link #issue}: the one place where commands are issued, so tracing, fuzzing and fault
 * injection have one hook.
 */
public final class DeviceFile implements AutoCloseable {
    private static final int CLOSED = -1;

    private final String path;
    private final AtomicInteger fd;

    private DeviceFile(String path, int fd) {
        this.path = path;
        this.fd = new AtomicInteger(fd);
    }

    /** Opens {@code path} read-write; throws with the errno and a hint when that fails. */
    public static DeviceFile open(String path) throws HmmException {
        int fd = Posix.open(path, Posix.O_RDWR | Posix.O_CLOEXEC);
        if (fd < 0) {
            throw new HmmException("open", path, -fd, openHint(-fd));
        }
        return new DeviceFile(path, fd);
    }

    static String openHint(int errno) {
        return switch (errno) {
            case 2 -> "the device node does not exist: is hmm_mirror.ko loaded "
                    + "(insmod hmm_mirror.ko, see README) and is the index below its ndevices parameter?";
            case 13, 1 -> "the device node is root-only (mode 0600): run as root or change its mode";
            case 19, 6 -> "the node exists but no driver is bound to it: load hmm_mirror.ko";
            default -> null;
        };
    }

    /** The path this file was opened from. */
    public String path() {
        return path;
    }

    /**
     * Issues {@code command} with {@code arg} as its argument.
     *
     * @return the ioctl's non-negative result
     * @throws HmmException carrying the errno when the kernel refuses the command
     */
    public int issue(Command command, MemorySegment arg) throws HmmException {
        int rc = Posix.ioctl(descriptor(), command.request(), arg);
        if (rc < 0) {
            throw new HmmException("ioctl " + command.ioctlName(), path, -rc, null);
        }
        return rc;
    }

    private int descriptor() {
        int value = fd.get();
        if (value == CLOSED) {
            throw new IllegalStateException(path + " is closed");
        }
        return value;
    }

    /** Whether {@link #close()} was called. */
    public boolean isClosed() {
        return fd.get() == CLOSED;
    }

    /** Closes the descriptor; later calls do nothing. */
    @Override
    public void close() throws HmmException {
        int value = fd.getAndSet(CLOSED);
        if (value != CLOSED) {
            int rc = Posix.close(value);
            if (rc < 0) {
                throw new HmmException("close", path, -rc, null);
            }
        }
    }
}
