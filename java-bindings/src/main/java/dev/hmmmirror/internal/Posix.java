package dev.hmmmirror.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

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

    private static final int EINTR = 4;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final Linker.Option ERRNO = Linker.Option.captureCallState("errno");
    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO_HANDLE =
            CAPTURE.varHandle(java.lang.foreign.MemoryLayout.PathElement.groupElement("errno"));

    private static final MethodHandle OPEN = downcall("open",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT,
                    ValueLayout.JAVA_INT),
            Linker.Option.firstVariadicArg(2));
    private static final MethodHandle CLOSE = downcall("close",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final MethodHandle IOCTL = downcall("ioctl",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG,
                    ValueLayout.ADDRESS),
            Linker.Option.firstVariadicArg(2));

    private Posix() {}

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
                    + "--enable-native-access=ALL-UNNAMED (or the module name of hmm-mirror)", e);
        }
    }

    private static int errno(MemorySegment state) {
        return (int) ERRNO_HANDLE.get(state, 0L);
    }

    /** {@code open(path, flags)}; returns the fd or {@code -errno}. */
    public static int open(String path, int flags) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cpath = arena.allocateFrom(path);
            MemorySegment state = arena.allocate(CAPTURE);
            while (true) {
                int fd = (int) OPEN.invokeExact(state, cpath, flags, 0);
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
            int rc = (int) CLOSE.invokeExact(state, fd);
            return rc == 0 ? 0 : -errno(state);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code ioctl(fd, request, arg)}; returns the non-negative result or {@code -errno}. */
    public static int ioctl(int fd, long request, MemorySegment arg) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            while (true) {
                int rc = (int) IOCTL.invokeExact(state, fd, request, arg);
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
