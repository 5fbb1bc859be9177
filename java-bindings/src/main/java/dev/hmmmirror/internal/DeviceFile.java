package dev.hmmmirror.internal;

import dev.hmmmirror.Errno;
import dev.hmmmirror.HmmException;
import dev.hmmmirror.raw.Command;
import java.lang.foreign.MemorySegment;
import java.lang.ref.Cleaner;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An open {@code /dev/hmm_mirrorN} file descriptor. Every hmm_mirror command goes through
 * {@link #issue}: the one place where commands are issued, so tracing, fuzzing and fault
 * injection have one hook.
 *
 * <p>Closing while other threads are inside a system call on this file is safe: the descriptor is
 * released only when the last of them returns, so its number cannot be reused under them. The
 * same holds for the close a {@link Cleaner} makes once the owner ({@link #closeWhenUnreachable})
 * is unreachable: no new call can start (only the owner could start one), calls in flight finish
 * first, and the number never leaves this class, so nothing can use it after its reuse.
 */
public final class DeviceFile implements AutoCloseable {
    /** Bit set in {@link #state} once close() was called; the low bits count calls in flight. */
    private static final int CLOSING = 1 << 30;

    /**
     * Test seam, {@code null} outside tests: runs on the calling thread inside every
     * {@link #issue}, after the call was admitted and before the system call, i.e. while a caller's
     * argument must already be kept reachable. Host tests (which cannot load the module) use it to
     * collect garbage at that moment; nothing else may set it.
     */
    static volatile Runnable whileIssuing;

    /** Closes the files of owners dropped without close(): one daemon thread for the library. */
    private static final Cleaner CLEANER = Cleaner.create(r -> {
        Thread t = new Thread(r, "hmm-mirror-cleaner");
        t.setDaemon(true);
        return t;
    });

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

    /**
     * The open file behind process {@code pid}'s descriptor {@code fd}, duplicated into this
     * process ({@code pidfd_getfd(2)}); throws with the errno and a hint when that fails.
     */
    public static DeviceFile ofProcess(int pid, int fd) throws HmmException {
        String path = "/proc/" + pid + "/fd/" + fd;
        int dup = Posix.pidfdGetfd(pid, fd);
        if (dup < 0) {
            throw new HmmException("pidfd_getfd", path, -dup, switch (Errno.orNull(-dup)) {
                case ESRCH -> "process " + pid + " does not exist (any more)";
                case EBADF -> "process " + pid + " has no descriptor " + fd + ": see ls -l /proc/" + pid + "/fd";
                case EPERM -> "no ptrace access to process " + pid + ": run as root";
                case ENOSYS -> "pidfd_getfd needs Linux 5.6 or later";
                case null, default -> null;
            });
        }
        return new DeviceFile(path, dup);
    }

    static String openHint(int errno) {
        return switch (Errno.orNull(errno)) {
            case ENOENT -> "the device node does not exist: is hmm_mirror.ko loaded "
                    + "(insmod hmm_mirror.ko, see docs/dkms.md) and is the index below its ndevices parameter?";
            case EACCES, EPERM -> "the device node is root-only (mode 0600): run as root or change its mode";
            case ENODEV, ENXIO -> "the node exists but no driver is bound to it: load hmm_mirror.ko";
            case null, default -> null;
        };
    }

    /**
     * Closes this file once {@code owner} (the only object that holds it: a {@code Mirror}, a
     * {@code RawDevice}) is unreachable, as {@link #close()} would; nothing when it was closed
     * already. The owner must keep itself reachable while it issues calls
     * ({@link java.lang.ref.Reference#reachabilityFence}), or its file could be closed under a
     * multi-call operation.
     *
     * @param owner the object whose unreachability closes this file; not captured by the cleaner
     */
    public void closeWhenUnreachable(Object owner) {
        CLEANER.register(owner, new QuietClose(this));
    }

    /**
     * The cleaner's action. A class rather than {@code this::closeQuietly}: a method reference's first
     * use spins a class, which under TCG cost the guest's first result tens of milliseconds (docs,
     * performance.md, run O).
     */
    private static final class QuietClose implements Runnable {
        private final DeviceFile file;

        QuietClose(DeviceFile file) {
            this.file = file;
        }

        @Override
        public void run() {
            file.closeQuietly();
        }
    }

    /** The cleaner's close: a close(2) error has nobody to go to. */
    private void closeQuietly() {
        try {
            close();
        } catch (HmmException nobodyToTell) {
            // the descriptor is released by Linux even when close(2) reports an error
        }
    }

    /** The path this file was opened from. */
    public String path() {
        return path;
    }

    /**
     * Issues {@code command} with {@code arg} as its argument. What an errno means depends on the
     * command and on what the kernel can do: the caller (the public API, or the raw package)
     * turns it into an exception.
     *
     * @return the ioctl's non-negative result, or {@code -errno}
     */
    public int issue(Command command, MemorySegment arg) {
        return issue(command.request(), arg);
    }

    /** Issues the ioctl {@code request} (known or not) with {@code arg}; the result or {@code -errno}. */
    public int issue(long request, MemorySegment arg) {
        acquire();
        try {
            Runnable seam = whileIssuing;
            if (seam != null) {
                seam.run();
            }
            return Posix.ioctl(fd, request, arg);
        } finally {
            release();
        }
    }

    /**
     * {@link #issue(long, MemorySegment)} with the caller's errno capture segment
     * ({@link #errnoSegment}, one per thread): no thread-local lookup on the way.
     */
    public int issue(long request, MemorySegment arg, MemorySegment errno) {
        acquire();
        try {
            Runnable seam = whileIssuing;
            if (seam != null) {
                seam.run();
            }
            return Posix.ioctl(fd, request, arg, errno);
        } finally {
            release();
        }
    }

    /** A segment for {@link #issue(long, MemorySegment, MemorySegment)}'s errno, allocated in {@code arena}. */
    public static MemorySegment errnoSegment(java.lang.foreign.Arena arena) {
        return Posix.captureSegment(arena);
    }

    /** {@code read(2)} of the device file into {@code buf}, blocking; bytes read or {@code -errno}. */
    public long read(MemorySegment buf) {
        acquire();
        try {
            return Posix.read(fd, buf, buf.byteSize());
        } finally {
            release();
        }
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
