package dev.hmmmirror.raw;

import dev.hmmmirror.HmmException;
import dev.hmmmirror.internal.Posix;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A pipe for {@code vmsplice(2)}: the kernel takes references on user pages
 * ({@code get_user_pages}), the way a driver pins memory, which for instance brings pages in
 * device memory back first. Closing closes both ends; it is idempotent.
 */
public final class RawPipe implements AutoCloseable {
    private final int readFd;
    private final int writeFd;
    private boolean closed;

    private RawPipe(int readFd, int writeFd) {
        this.readFd = readFd;
        this.writeFd = writeFd;
    }

    /**
     * {@code pipe(2)}.
     *
     * @return the open pipe (default capacity, 16 pages on Linux)
     * @throws HmmException with the errno of {@code pipe}: {@link dev.hmmmirror.Errno#EMFILE},
     *                      {@link dev.hmmmirror.Errno#ENFILE}
     */
    public static RawPipe open() throws HmmException {
        int[] fds = new int[2];
        int rc = Posix.pipe(fds);
        if (rc < 0) {
            throw new HmmException("pipe", "this process", -rc, null);
        }
        return new RawPipe(fds[0], fds[1]);
    }

    /**
     * {@code vmsplice(write end, {address, length}, 1, 0)}: splices the user pages into the pipe.
     *
     * @param address user address of the first byte; any alignment
     * @param length  number of bytes
     * @return bytes spliced (may be less than {@code length} when the pipe is full)
     * @throws HmmException          with the errno of {@code vmsplice}, e.g. {@link dev.hmmmirror.Errno#EFAULT}
     *                               for an unmapped address
     * @throws IllegalStateException after {@link #close()}
     */
    public synchronized long vmsplice(long address, long length) throws HmmException {
        ensureOpen();
        long n = Posix.vmsplice(writeFd, address, length);
        if (n < 0) {
            throw new HmmException("vmsplice", "0x" + Long.toHexString(address) + "+" + length, (int) -n, null);
        }
        return n;
    }

    /**
     * Reads exactly {@code length} bytes from the read end (blocking until they are there).
     *
     * @param length number of bytes, {@code >= 0}
     * @return the bytes, in the order they were spliced
     * @throws HmmException          with the errno of {@code read(2)}
     * @throws IllegalStateException after {@link #close()}, or when the pipe ends early
     */
    public synchronized byte[] read(int length) throws HmmException {
        ensureOpen();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(Math.max(1, length));
            long got = 0;
            while (got < length) {
                long r = Posix.read(readFd, buf.asSlice(got), length - got);
                if (r < 0) {
                    throw new HmmException("read", "pipe", (int) -r, null);
                }
                if (r == 0) {
                    throw new IllegalStateException("the pipe ended after " + got + " of " + length + " bytes");
                }
                got += r;
            }
            return buf.asSlice(0, length).toArray(ValueLayout.JAVA_BYTE);
        }
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("the pipe is closed");
        }
    }

    /** Closes both ends; idempotent. */
    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            Posix.close(readFd);
            Posix.close(writeFd);
        }
    }
}
