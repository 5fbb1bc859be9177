package dev.hmmmirror;

import dev.hmmmirror.internal.Posix;

/**
 * A child process made with {@code fork()}, sharing this process's private memory copy-on-write
 * and doing nothing until it is closed (killed and reaped). While it lives, the parent's next
 * write to a shared page breaks copy-on-write: the kernel gives the parent a new page and
 * invalidates every mirror of the old one.
 *
 * <p>The child runs no Java code at all: it is made by {@code clone(2)} without {@code CLONE_VM}
 * (a copy-on-write copy of this process, as {@code fork} makes) and its only code is libc's
 * {@code pause()} on a stack of its own, so a child of a busy multi-threaded JVM cannot get stuck
 * waiting for a JVM safepoint that no thread of its own will ever end.
 */
public final class CopyOnWriteChild implements AutoCloseable {
    private final int pid;
    private boolean reaped;

    private CopyOnWriteChild(int pid) {
        this.pid = pid;
    }

    /**
     * Forks the child.
     *
     * @return the running child; close it to kill and reap it
     * @throws HmmException with the errno of {@code fork(2)}: {@link Errno#EAGAIN} at the process limit,
     *                      {@link Errno#ENOMEM}
     */
    public static CopyOnWriteChild fork() throws HmmException {
        int pid = Posix.forkPausedChild();
        if (pid < 0) {
            throw new HmmException("fork", "this process", -pid, null);
        }
        return new CopyOnWriteChild(pid);
    }

    /**
     * The child's process id.
     *
     * @return the pid {@code fork} returned (reaped, and possibly reused, once {@link #close()} ran)
     */
    public int pid() {
        return pid;
    }

    /**
     * What the child sees at {@code address}: {@code length} bytes of its memory, read through
     * {@code /proc/<pid>/mem} (needs ptrace access to the child, which a parent has as root or
     * with the default Yama setting). Pages in device-private memory come back to system memory
     * on the way, as for any access through another process.
     *
     * @param address virtual address in the child (the same as in this process); any alignment
     * @param length  number of bytes to read, {@code >= 0}
     * @return the {@code length} bytes the child sees from {@code address}
     * @throws HmmException          {@link Errno#EIO} when the child has no mapping there, has exited, or
     *                               {@code /proc/<pid>/mem} cannot be read (e.g. no ptrace access)
     * @throws IllegalStateException after {@link #close()}
     */
    public byte[] bytes(long address, int length) throws HmmException {
        if (reaped) {
            throw new IllegalStateException("child " + pid + " was closed");
        }
        return read(java.nio.file.Path.of("/proc/" + pid + "/mem"), address, length);
    }

    /**
     * Reads {@code length} bytes of {@code file} from offset {@code address}. An end of file before
     * them is {@link Errno#EIO} with its own hint, thrown as is; an {@link java.io.IOException} of
     * the channel becomes {@link Errno#EIO} with the channel's message as hint.
     */
    static byte[] read(java.nio.file.Path file, long address, int length) throws HmmException {
        java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(length);
        try (java.nio.channels.FileChannel mem = java.nio.channels.FileChannel.open(file,
                java.nio.file.StandardOpenOption.READ)) {
            while (buf.hasRemaining()) {
                if (mem.read(buf, address + buf.position()) <= 0) {
                    throw new HmmException("read " + file, "0x" + Long.toHexString(address + buf.position()),
                            Errno.EIO.number(), "the child has no mapping there or has exited");
                }
            }
        } catch (HmmException e) {
            throw e; // our own, with its errno and hint: an IOException too, but not the channel's
        } catch (java.io.IOException e) {
            throw new HmmException("read " + file, "0x" + Long.toHexString(address), Errno.EIO.number(),
                    e.getMessage());
        }
        return buf.array();
    }

    /** Kills and reaps the child; idempotent. */
    @Override
    public void close() {
        if (!reaped) {
            reaped = true;
            Posix.kill(pid, Posix.SIGKILL);
            Posix.waitpid(pid);
        }
    }
}
