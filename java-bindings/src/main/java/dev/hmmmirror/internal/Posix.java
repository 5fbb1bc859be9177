package dev.hmmmirror.internal;

import dev.hmmmirror.Errno;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * The system calls the library makes, with errno captured. This is the only class that holds
 * downcall handles; nothing outside {@code dev.hmmmirror.internal} sees a MethodHandle.
 *
 * <p>Every call returns the raw result or, on failure, {@code -errno}; callers turn that into an
 * exception. Calls interrupted by a signal ({@code EINTR}) are retried here.
 */
public final class Posix {
    public static final int O_RDONLY = 0;
    public static final int O_RDWR = 2;
    public static final int O_CLOEXEC = 0x80000;

    public static final int PROT_NONE = 0;
    public static final int PROT_READ = 1;
    public static final int PROT_WRITE = 2;
    public static final int MAP_SHARED = 0x01;
    public static final int MAP_PRIVATE = 0x02;
    public static final int MAP_ANONYMOUS = 0x20;
    public static final int MAP_FIXED_NOREPLACE = 0x100000;
    public static final int MADV_DONTNEED = 4;
    public static final int MADV_HUGEPAGE = 14;
    public static final int MADV_NOHUGEPAGE = 15;
    public static final int MADV_FREE = 8;
    public static final int MADV_COLLAPSE = 25;
    public static final int MAP_HUGETLB = 0x40000;
    public static final int MREMAP_MAYMOVE = 1;
    public static final int MREMAP_FIXED = 2;
    public static final int MREMAP_DONTUNMAP = 4;
    public static final int O_NONBLOCK = 0x800;
    public static final int O_CREAT = 0x40;
    public static final int POLLIN = 1;
    public static final int SIGKILL = 9;
    public static final int MFD_CLOEXEC = 1;

    private static final int EINTR = Errno.EINTR.number();
    private static final int SC_PAGESIZE = 30;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final Linker.Option ERRNO = Linker.Option.captureCallState("errno");
    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    /** Where errno is in the capture segment (an offset, not a VarHandle: no handle to spin at start-up). */
    private static final long ERRNO_OFFSET =
            CAPTURE.byteOffset(java.lang.foreign.MemoryLayout.PathElement.groupElement("errno"));

    // Each downcall handle is made on first use, in a holder class of its own: making one spins
    // bytecode and links a native stub (tens of milliseconds each on this machine, far more under
    // TCG), and most programs use a handful of the calls below (docs/performance.md, 'Boot').
    private static final class Open {
        static final MethodHandle H = downcall("open",
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT,
                        ValueLayout.JAVA_INT),
                Linker.Option.firstVariadicArg(2));
    }

    private static final class Close {
        static final MethodHandle H = downcall("close",
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    }

    private static final class Ioctl {
        static final MethodHandle H = downcall("ioctl",
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG,
                        ValueLayout.ADDRESS),
                Linker.Option.firstVariadicArg(2));
    }

    private static final class Read {
        static final MethodHandle H = downcall("read",
                FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
                        ValueLayout.JAVA_LONG));
    }

    private static final class Poll {
        static final MethodHandle H = downcall("poll",
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG,
                        ValueLayout.JAVA_INT));
    }

    private static final class Mmap {
        static final MethodHandle H = downcall("mmap",
                FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
                        ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
    }

    private static final class Munmap {
        static final MethodHandle H = downcall("munmap",
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG));
    }

    private static final class Mprotect {
        static final MethodHandle H = downcall("mprotect",
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
                        ValueLayout.JAVA_INT));
    }

    private static final class Madvise {
        static final MethodHandle H = downcall("madvise",
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
                        ValueLayout.JAVA_INT));
    }

    private static final class Mremap {
        static final MethodHandle H = downcall("mremap",
                FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
                        ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG),
                Linker.Option.firstVariadicArg(4));
    }

    private static final class MemfdCreate {
        static final MethodHandle H = downcall("memfd_create",
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
    }

    private static final class Ftruncate {
        static final MethodHandle H = downcall("ftruncate",
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
    }

    private static final class Fork {
        static final MethodHandle H = downcall("fork", FunctionDescriptor.of(ValueLayout.JAVA_INT));
    }

    private static final class Clone {
        /** libc's {@code pause}, the whole program of a {@link #forkPausedChild} child. */
        static final MemorySegment PAUSE_FN = LINKER.defaultLookup().find("pause")
                .orElseThrow(() -> new UnsatisfiedLinkError("libc has no symbol pause"));
        static final MethodHandle H = downcall("clone",
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS,
                        ValueLayout.JAVA_INT, ValueLayout.ADDRESS),
                Linker.Option.firstVariadicArg(4));
    }

    private static final class Exit {
        static final MethodHandle H = downcall("_exit", FunctionDescriptor.ofVoid(ValueLayout.JAVA_INT));
    }

    private static final class Kill {
        static final MethodHandle H = downcall("kill",
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    }

    private static final class Waitpid {
        static final MethodHandle H = downcall("waitpid",
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
                        ValueLayout.JAVA_INT));
    }

    private static final class Pipe {
        static final MethodHandle H = downcall("pipe",
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
    }

    private static final class Vmsplice {
        static final MethodHandle H = downcall("vmsplice",
                FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
                        ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));
    }

    private static final class Getpid {
        static final MethodHandle H = downcall("getpid", FunctionDescriptor.of(ValueLayout.JAVA_INT));
    }

    private static final class Sysconf {
        static final MethodHandle H = downcall("sysconf",
                FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));
    }

    /**
     * Each thread's errno capture segment for {@link #ioctl}: the hot path of every command, where a
     * confined arena per call (malloc + free + arena bookkeeping) cost more than the downcall.
     */
    private static final ThreadLocal<MemorySegment> IOCTL_STATE =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(CAPTURE));

    private Posix() {}

    /** {@code read(fd, buf, count)} retried on EINTR; returns bytes read or {@code -errno}. */
    public static long read(int fd, MemorySegment buf, long count) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            while (true) {
                long n = (long) Read.H.invokeExact(state, fd, buf, count);
                if (n >= 0) {
                    return n;
                }
                int err = errno(state);
                if (err != EINTR) {
                    return -err;
                }
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Waits up to {@code timeoutMillis} for POLLIN on {@code fd}: 1 ready, 0 timeout, or {@code -errno}. */
    public static int pollIn(int fd, int timeoutMillis) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            MemorySegment pfd = arena.allocate(8, 4);
            pfd.set(ValueLayout.JAVA_INT, 0, fd);
            pfd.set(ValueLayout.JAVA_SHORT, 4, (short) POLLIN);
            int rc = (int) Poll.H.invokeExact(state, pfd, 1L, timeoutMillis);
            return rc >= 0 ? rc : -errno(state);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code mmap}; returns the address, or {@code -errno} (a valid address is never negative on x86-64). */
    public static long mmap(long addr, long length, int prot, int flags, int fd, long offset) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            long rc = (long) Mmap.H.invokeExact(state, addr, length, prot, flags, fd, offset);
            return rc == -1L ? -errno(state) : rc;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code mremap(old, size, size, flags, target)}; the new address, or {@code -errno}. */
    public static long mremap(long old, long size, int flags, long target) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            long rc = (long) Mremap.H.invokeExact(state, old, size, size, flags, target);
            return rc == -1L ? -errno(state) : rc;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code munmap}; 0 or {@code -errno}. */
    public static int munmap(long addr, long length) {
        return simple(Munmap.H, addr, length, 0, false);
    }

    /** {@code mprotect}; 0 or {@code -errno}. */
    public static int mprotect(long addr, long length, int prot) {
        return simple(Mprotect.H, addr, length, prot, true);
    }

    /** {@code madvise}; 0 or {@code -errno}. */
    public static int madvise(long addr, long length, int advice) {
        return simple(Madvise.H, addr, length, advice, true);
    }

    private static int simple(MethodHandle h, long addr, long length, int arg, boolean threeArgs) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            int rc = threeArgs ? (int) h.invokeExact(state, addr, length, arg) : (int) h.invokeExact(state, addr, length);
            return rc == 0 ? 0 : -errno(state);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code memfd_create(name, MFD_CLOEXEC)}; the fd or {@code -errno}. */
    public static int memfdCreate(String name) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            int fd = (int) MemfdCreate.H.invokeExact(state, arena.allocateFrom(name), MFD_CLOEXEC);
            return fd >= 0 ? fd : -errno(state);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code ftruncate}; 0 or {@code -errno}. */
    public static int ftruncate(int fd, long length) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            int rc = (int) Ftruncate.H.invokeExact(state, fd, length);
            return rc == 0 ? 0 : -errno(state);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * Makes a child that only waits to be killed: it shares this process's private memory
     * copy-on-write, as after {@code fork()}. Returns the child's pid or {@code -errno}.
     *
     * <p>The child runs no Java code at all: it is made with glibc's {@code clone(fn, stack,
     * SIGCHLD, arg)} (no {@code CLONE_VM}, so its memory is a copy-on-write copy as with fork)
     * whose {@code fn} is libc's {@code pause} itself, on a stack of its own; should {@code pause}
     * ever return, glibc's clone ends the child with {@code _exit}. A child of a multi-threaded JVM
     * that returned into Java could instead wait forever for a safepoint armed at fork time.
     */
    public static int forkPausedChild() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            MemorySegment stack = arena.allocate(CHILD_STACK_BYTES, 16);
            MemorySegment top = stack.asSlice(CHILD_STACK_BYTES - 64);
            int pid = (int) Clone.H.invokeExact(state, Clone.PAUSE_FN, top, SIGCHLD, MemorySegment.NULL);
            return pid >= 0 ? pid : -errno(state);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Stack of a {@link #forkPausedChild} child: {@code pause()} needs a few hundred bytes. */
    private static final long CHILD_STACK_BYTES = 64 * 1024;
    private static final int SIGCHLD = 17;

    /**
     * Forks a child that issues {@code ioctl(fd, request, arg)} on the parent's open file and exits
     * with 0 on success or the errno: the kernel sees the command come from another process (mm).
     * Returns that exit status, or {@code -errno} when fork or waitpid failed.
     */
    public static int ioctlFromForkedChild(int fd, long request, MemorySegment arg) {
        // The child of a multi-threaded JVM runs Java between its downcalls; should a safepoint
        // have been armed when fork() ran, the child waits for it forever (no VM thread in the
        // child: seen once in CI). Such a child is killed after a while and the fork repeated.
        for (int attempt = 1; ; attempt++) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment state = arena.allocate(CAPTURE);
                // loaded here, not in the child: a class the child loads from the jar can fail there
                // (seen: NoClassDefFoundError Posix$Exit, and the child ran on as a second test JVM)
                MethodHandle exit = Exit.H;
                int pid = (int) Fork.H.invokeExact(state);
                if (pid == 0) {
                    int rc = rawIoctl(state, fd, request, arg);
                    exit.invokeExact(state, rc >= 0 ? 0 : errno(state));
                }
                if (pid < 0) {
                    return -errno(state);
                }
                int status = waitpidWithin(pid, FORKED_CHILD_MILLIS);
                if (status != STILL_RUNNING) {
                    return status < 0 ? status : (status >> 8) & 0xff;
                }
                kill(pid, SIGKILL);
                waitpid(pid);
                if (attempt == 3) {
                    return -EINTR;
                }
            } catch (Throwable t) {
                throw rethrow(t);
            }
        }
    }

    /** How long a forked child that issues one command may take. */
    private static final long FORKED_CHILD_MILLIS = 30_000;
    /** {@link #waitpidWithin}: the child had not exited in time. */
    private static final int STILL_RUNNING = Integer.MIN_VALUE;

    /** {@code waitpid(pid, WNOHANG)} until the child exits or {@code millis} pass: its status, -errno or {@link #STILL_RUNNING}. */
    private static int waitpidWithin(int pid, long millis) throws Throwable {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            MemorySegment status = arena.allocate(ValueLayout.JAVA_INT);
            long deadline = System.nanoTime() + millis * 1_000_000;
            while (true) {
                int rc = (int) Waitpid.H.invokeExact(state, pid, status, 1 /* WNOHANG */);
                if (rc > 0) {
                    return status.get(ValueLayout.JAVA_INT, 0);
                }
                if (rc < 0 && errno(state) != EINTR) {
                    return -errno(state);
                }
                if (System.nanoTime() > deadline) {
                    return STILL_RUNNING;
                }
                Thread.sleep(5);
            }
        }
    }

    /** {@code pipe(fds)}; fills {@code fds[0..1]} and returns 0, or {@code -errno}. */
    public static int pipe(int[] fds) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            MemorySegment p = arena.allocate(ValueLayout.JAVA_INT, 2);
            int rc = (int) Pipe.H.invokeExact(state, p);
            if (rc != 0) {
                return -errno(state);
            }
            fds[0] = p.getAtIndex(ValueLayout.JAVA_INT, 0);
            fds[1] = p.getAtIndex(ValueLayout.JAVA_INT, 1);
            return 0;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * {@code vmsplice(fd, {addr, len}, 1, 0)}: the kernel takes references on the user pages
     * (get_user_pages), which faults in pages that are in device memory. Returns bytes or {@code -errno}.
     */
    public static long vmsplice(int fd, long addr, long len) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            MemorySegment iov = arena.allocate(16, 8);
            iov.set(ValueLayout.JAVA_LONG, 0, addr);
            iov.set(ValueLayout.JAVA_LONG, 8, len);
            long rc = (long) Vmsplice.H.invokeExact(state, fd, iov, 1L, 0);
            return rc >= 0 ? rc : -errno(state);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code kill(pid, sig)}; 0 or {@code -errno}. */
    public static int kill(int pid, int sig) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            int rc = (int) Kill.H.invokeExact(state, pid, sig);
            return rc == 0 ? 0 : -errno(state);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code waitpid(pid, &status, 0)} retried on EINTR; the raw status or {@code -errno}. */
    public static int waitpid(int pid) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            MemorySegment status = arena.allocate(ValueLayout.JAVA_INT);
            while (true) {
                int rc = (int) Waitpid.H.invokeExact(state, pid, status, 0);
                if (rc >= 0) {
                    return status.get(ValueLayout.JAVA_INT, 0);
                }
                int err = errno(state);
                if (err != EINTR) {
                    return -err;
                }
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code sysconf(_SC_PAGESIZE)}: the running kernel's base page size in bytes. */
    public static long pageSize() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            long size = (long) Sysconf.H.invokeExact(state, SC_PAGESIZE);
            if (size <= 0) {
                throw new IllegalStateException("sysconf(_SC_PAGESIZE) failed: " + Errno.name(errno(state)));
            }
            return size;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** This process's id. */
    public static int getpid() {
        try (Arena arena = Arena.ofConfined()) {
            return (int) Getpid.H.invokeExact(arena.allocate(CAPTURE));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code syscall(2)} with six arguments: for the calls libc has no wrapper of ({@code move_pages}). */
    private static final class Syscall6 {
        static final MethodHandle H = downcall("syscall",
                FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
                        ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
                        ValueLayout.JAVA_LONG),
                Linker.Option.firstVariadicArg(1));
    }

    private static final long SYS_MOVE_PAGES = moveSyscall(System.getProperty("os.arch"));

    /**
     * The number of {@code move_pages(2)} on the CPU architecture {@code osArch} (Java's {@code os.arch}):
     * 279 on x86-64, 239 on arm64 (the generic syscall table); -1 elsewhere (not used there: {@link #movePages}
     * fails with ENOSYS rather than call another system call).
     */
    static long moveSyscall(String osArch) {
        return switch (osArch) {
            case "amd64", "x86_64" -> 279;
            case "aarch64", "arm64" -> 239;
            default -> -1;
        };
    }

    /**
     * {@code move_pages(0, count, pages, nodes, status, flags)} of this process (x86-64 syscall 279,
     * arm64 239; glibc has no wrapper): {@code nodes} may be {@link MemorySegment#NULL} to ask where each
     * page is. Returns 0 (or the number of pages not moved) or {@code -errno} ({@code -ENOSYS} on a CPU
     * architecture whose number is not known here).
     */
    public static long movePages(long count, MemorySegment pages, MemorySegment nodes, MemorySegment status,
            int flags) {
        if (SYS_MOVE_PAGES < 0) {
            return -Errno.ENOSYS.number();
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            long rc = (long) Syscall6.H.invokeExact(state, SYS_MOVE_PAGES, 0L, count, pages.address(), nodes.address(),
                    status.address(), (long) flags);
            return rc < 0 ? -errno(state) : rc;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * {@code pidfd_open(2)} and {@code pidfd_getfd(2)}: 434 and 438 on every architecture (numbers
     * from 424 on are shared by all tables since Linux 5.1).
     */
    private static final long SYS_PIDFD_OPEN = 434;
    private static final long SYS_PIDFD_GETFD = 438;

    /**
     * A duplicate, in this process, of process {@code pid}'s descriptor {@code fd}: the same open
     * file ({@code pidfd_open} then {@code pidfd_getfd}, Linux 5.6+; the new descriptor is
     * close-on-exec). Needs ptrace access to {@code pid} (root, or its parent under Yama scope 1).
     * Returns the new descriptor or {@code -errno}: ESRCH (no such process), EBADF (no such
     * descriptor there), EPERM (no ptrace access), ENOSYS (a kernel before 5.6).
     */
    public static int pidfdGetfd(int pid, int fd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            long pidfd = (long) Syscall6.H.invokeExact(state, SYS_PIDFD_OPEN, (long) pid, 0L, 0L, 0L, 0L, 0L);
            if (pidfd < 0) {
                return -errno(state);
            }
            long dup = (long) Syscall6.H.invokeExact(state, SYS_PIDFD_GETFD, pidfd, (long) fd, 0L, 0L, 0L, 0L);
            int err = dup < 0 ? errno(state) : 0;
            close((int) pidfd);
            return dup < 0 ? -err : (int) dup;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * Set to {@code true}, {@link #open}, {@link #ioctl} and {@link #close} call libc's {@code open},
     * {@code ioctl} and {@code close} (three downcall handles of three shapes) instead of
     * {@code syscall(2)} (one handle): for side-by-side measurements (docs/performance.md, run M).
     */
    public static final String LIBC_FILE_CALLS_PROPERTY = "hmm.bindings.libcFileCalls";

    /** The numbers of the file calls made through {@code syscall(2)}: openat, ioctl, close. */
    record FileCalls(long openat, long ioctl, long close) {}

    /**
     * The {@code syscall(2)} numbers of {@code openat}, {@code ioctl} and {@code close} on the CPU
     * architecture {@code osArch} (Java's {@code os.arch}): 257, 16, 3 on x86-64; 56, 29, 57 on arm64
     * (the generic table); {@code null} elsewhere, where the calls go to libc's wrappers instead.
     */
    static FileCalls fileCalls(String osArch) {
        return switch (osArch) {
            case "amd64", "x86_64" -> new FileCalls(257, 16, 3);
            case "aarch64", "arm64" -> new FileCalls(56, 29, 57);
            default -> null;
        };
    }

    /**
     * How open, ioctl and close reach the kernel: through {@link Syscall4}, or (null) libc's wrappers.
     * One handle instead of three, because every distinct downcall shape costs a fresh JVM tens of
     * generated classes (a DowncallStub, LambdaForms, bound-handle species) that JDK 25's AOT cache
     * does not hold: under TCG that is most of the time to a program's first result.
     */
    private static final FileCalls FILE_CALLS =
            Boolean.getBoolean(LIBC_FILE_CALLS_PROPERTY) ? null : fileCalls(System.getProperty("os.arch"));

    /** {@code openat(2)}'s "relative to the current directory". */
    private static final long AT_FDCWD = -100;

    /**
     * {@code long syscall(long nr, long a1, long a2, void *a3, long a4)}: the one shape of open
     * ({@code openat(AT_FDCWD, path, flags, mode)}), ioctl ({@code (fd, request, arg)}) and close
     * ({@code (fd)}). The fourth argument is a pointer so that an ioctl's argument segment stays
     * alive (and is checked to be) for the whole call, as with libc's {@code ioctl}; open passes its
     * flags there as an address-sized value, and its path (of its own confined arena) as a number.
     */
    private static final class Syscall4 {
        static final MethodHandle H = downcall("syscall",
                FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
                        ValueLayout.JAVA_LONG, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG),
                Linker.Option.firstVariadicArg(1));
    }

    private static MethodHandle downcall(String name, FunctionDescriptor fd, Linker.Option... extra) {
        Linker.Option[] options = new Linker.Option[extra.length + 1];
        options[0] = ERRNO;
        System.arraycopy(extra, 0, options, 1, extra.length);
        MemorySegment symbol = LINKER.defaultLookup().find(name)
                .orElseThrow(() -> new UnsatisfiedLinkError("libc has no symbol " + name));
        try {
            return LINKER.downcallHandle(symbol, fd, options);
        } catch (IllegalCallerException e) {
            throw new IllegalCallerException("native access to libc is refused: run java with "
                    + "--enable-native-access=ALL-UNNAMED (java-bindings on the class path) or "
                    + "--enable-native-access=dev.hmmmirror (on the module path)", e);
        }
    }

    private static int errno(MemorySegment state) {
        return state.get(ValueLayout.JAVA_INT, ERRNO_OFFSET);
    }

    /** {@code open(path, flags)}; returns the fd or {@code -errno}. */
    public static int open(String path, int flags) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cpath = arena.allocateFrom(path);
            MemorySegment state = arena.allocate(CAPTURE);
            FileCalls sc = FILE_CALLS;
            while (true) {
                // cpath is freed only when this method's arena closes, after the call
                int fd = sc != null
                        ? (int) (long) Syscall4.H.invokeExact(state, sc.openat(), AT_FDCWD, cpath.address(),
                                MemorySegment.ofAddress(Integer.toUnsignedLong(flags)), 0L)
                        : (int) Open.H.invokeExact(state, cpath, flags, 0);
                if (fd >= 0) {
                    return fd;
                }
                int err = errno(state);
                if (err != EINTR) {
                    return -err;
                }
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code close(fd)}; returns 0 or {@code -errno}. Not retried on EINTR (Linux closes anyway). */
    public static int close(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            FileCalls sc = FILE_CALLS;
            int rc = sc != null
                    ? (int) (long) Syscall4.H.invokeExact(state, sc.close(), (long) fd, 0L, MemorySegment.NULL, 0L)
                    : (int) Close.H.invokeExact(state, fd);
            return rc == 0 ? 0 : -errno(state);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code ioctl(fd, request, arg)}; returns the non-negative result or {@code -errno}. */
    public static int ioctl(int fd, long request, MemorySegment arg) {
        return ioctl(fd, request, arg, IOCTL_STATE.get()); // this thread's: an ioctl allocates nothing
    }

    /** A segment to capture errno in ({@link #ioctl(int, long, MemorySegment, MemorySegment)}), in {@code arena}. */
    public static MemorySegment captureSegment(Arena arena) {
        return arena.allocate(CAPTURE);
    }

    /**
     * {@code ioctl(fd, request, arg)} with errno captured in {@code state} ({@link #captureSegment}),
     * which no other thread may use meanwhile; the non-negative result or {@code -errno}.
     */
    public static int ioctl(int fd, long request, MemorySegment arg, MemorySegment state) {
        try {
            while (true) {
                int rc = rawIoctl(state, fd, request, arg);
                if (rc >= 0) {
                    return rc;
                }
                int err = errno(state);
                if (err != EINTR) {
                    return -err;
                }
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** One {@code ioctl}, errno left in {@code state}: the result, -1 on failure. */
    private static int rawIoctl(MemorySegment state, int fd, long request, MemorySegment arg) throws Throwable {
        FileCalls sc = FILE_CALLS;
        return sc != null
                ? (int) (long) Syscall4.H.invokeExact(state, sc.ioctl(), (long) fd, request, arg, 0L)
                : (int) Ioctl.H.invokeExact(state, fd, request, arg);
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException re) {
            return re;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException(t);
    }
}
