package dev.hmmmirror.internal;

import dev.hmmmirror.HmmException;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An open {@code /dev/hmm_mirrorN} file descriptor. Every hmm_mirror command goes through
 * {@link #issue}: the one place where commands are issued, so tracing, fuzzing and fault
 * injection have one hook.
 *
 * <p>Closing while other threads are inside a system call on this file is safe: the descriptor is
 * released only when the last of them returns, so its number cannot be reused under them.
 */
public final class DeviceFile implements AutoCloseable {
    /** Bit set in {@link #state} once close() was called; the low bits count calls in flight. */
    private static final int CLOSING = 1 << 30;

    private final String path;
    private final int fd;
    private final AtomicInteger state = new AtomicInteger();

    private DeviceFile(String path, int fd) {
        this.path = path;
        this.fd = fd;
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

    static String commandHint(Command command, int errno) {
        return switch (errno) {
            case 1 -> command == Command.FAULT || command == Command.WRITE
                    ? "the range is mapped without write permission (or the mirror belongs to another process)"
                    : "the mirror belongs to another process: use it from the process that opened it";
            case 14 -> "part of the range is not mapped, or mapped PROT_NONE (or a buffer pointer is bad)";
            case 22 -> "invalid argument: ranges must be page aligned, 1.." + dev.hmmmirror.internal.gen.HmmMirrorH
                    .HMM_MIRROR_MAX_PAGES() + " pages inside the address space, flags and reserved fields zero";
            case 16 -> "the range kept being invalidated while faulting; retry";
            case 25 -> "the device does not know this command: is the loaded hmm_mirror.ko older than these bindings?";
            case 3 -> "the mirrored process has exited";
            case 95 -> "this kernel has no device-private memory (it needs CONFIG_DEVICE_PRIVATE=y)";
            case 12 -> command == Command.MIGRATE_TO_DEV
                    ? "device memory is exhausted (module parameter dmem_mib)" : null;
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
        int rc;
        acquire();
        try {
            rc = Posix.ioctl(fd, command.request(), arg);
        } finally {
            release();
        }
        if (rc < 0) {
            if (-rc == 95) { // EOPNOTSUPP: the kernel lacks what the command needs
                throw new dev.hmmmirror.MissingCapabilityException("ioctl " + command.ioctlName(), path, -rc,
                        dev.hmmmirror.Capability.DEVICE_PRIVATE);
            }
            throw new HmmException("ioctl " + command.ioctlName(), path, -rc, commandHint(command, -rc));
        }
        return rc;
    }

    /**
     * Reads whole events into {@code buf}, waiting up to {@code timeoutMillis} for the first one.
     *
     * @return bytes read, 0 when none arrived in time
     */
    public long readEvents(MemorySegment buf, int timeoutMillis) throws HmmException {
        acquire();
        try {
            int ready = Posix.pollIn(fd, timeoutMillis);
            if (ready < 0) {
                throw new HmmException("poll", path, -ready, null);
            }
            if (ready == 0) {
                return 0;
            }
            long n = Posix.read(fd, buf, buf.byteSize());
            if (n < 0) {
                throw new HmmException("read", path, (int) -n, null);
            }
            return n;
        } finally {
            release();
        }
    }

    /**
     * Issues {@code command} from a forked child process (another mm) on this same open file, for
     * tests of the kernel's ownership check. Returns 0 or the errno the child saw.
     */
    public int issueFromOtherProcess(Command command, MemorySegment arg) {
        acquire();
        try {
            return Posix.ioctlFromForkedChild(fd, command.request(), arg);
        } finally {
            release();
        }
    }

    private void acquire() {
        while (true) {
            int s = state.get();
            if ((s & CLOSING) != 0) {
                throw new IllegalStateException(path + " is closed");
            }
            if (state.compareAndSet(s, s + 1)) {
                return;
            }
        }
    }

    private void release() {
        if (state.decrementAndGet() == CLOSING) {
            Posix.close(fd); // the last call in flight after close(): release the descriptor now
        }
    }

    /** Whether {@link #close()} was called. */
    public boolean isClosed() {
        return (state.get() & CLOSING) != 0;
    }

    /**
     * Closes the descriptor (at once, or when the last call in flight returns); later calls do
     * nothing.
     */
    @Override
    public void close() throws HmmException {
        while (true) {
            int s = state.get();
            if ((s & CLOSING) != 0) {
                return;
            }
            if (state.compareAndSet(s, s | CLOSING)) {
                if (s == 0) {
                    int rc = Posix.close(fd);
                    if (rc < 0) {
                        throw new HmmException("close", path, -rc, null);
                    }
                }
                return;
            }
        }
    }
}
