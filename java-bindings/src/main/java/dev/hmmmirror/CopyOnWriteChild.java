package dev.hmmmirror;

import dev.hmmmirror.internal.Posix;

/**
 * A child process made with {@code fork()}, sharing this process's private memory copy-on-write
 * and doing nothing until it is closed (killed and reaped). While it lives, the parent's next
 * write to a shared page breaks copy-on-write: the kernel gives the parent a new page and
 * invalidates every mirror of the old one.
 *
 * <p>The child runs no Java code after {@code fork} returns: it calls {@code pause()} and, if that
 * ever returns, {@code _exit(0)}.
 */
public final class CopyOnWriteChild implements AutoCloseable {
    private final int pid;
    private boolean reaped;

    private CopyOnWriteChild(int pid) {
        this.pid = pid;
    }

    /** Forks the child. */
    public static CopyOnWriteChild fork() throws HmmException {
        int pid = Posix.forkPausedChild();
        if (pid < 0) {
            throw new HmmException("fork", "this process", -pid, null);
        }
        return new CopyOnWriteChild(pid);
    }

    /** The child's process id. */
    public int pid() {
        return pid;
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
