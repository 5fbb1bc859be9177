package dev.hmmmirror.guest.mm;

import dev.hmmmirror.Errno;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.lang.foreign.ValueLayout;

/**
 * The Linux system calls the mm-event tests make through the kernel's own machinery (x86-64's
 * numbers, or arm64's from the generic table), raw through libc's {@code syscall()} with errno captured: memory policy and page
 * migration ({@code move_pages}, {@code mbind}, {@code migrate_pages}), {@code madvise} advice the
 * library does not offer, {@code mremap}, {@code msync}, {@code userfaultfd} and {@code io_uring}.
 */
public final class Sys {
    /** Whether this JVM runs on arm64, whose system call numbers are the generic table's. */
    private static final boolean ARM64 = "aarch64".equals(System.getProperty("os.arch"));

    public static final long MMAP = nr(9, 222), MPROTECT = nr(10, 226), MUNMAP = nr(11, 215), IOCTL = nr(16, 29),
            MREMAP = nr(25, 216), MSYNC = nr(26, 227), MADVISE = nr(28, 233), CLOSE = nr(3, 57), MBIND = nr(237, 235),
            MIGRATE_PAGES = nr(256, 238), USERFAULTFD = nr(323, 282), OPENAT = nr(257, 56),
            IO_URING_SETUP = 425, IO_URING_REGISTER = 427;

    public static final int PROT_NONE = 0, PROT_READ = 1, PROT_WRITE = 2;
    public static final int MAP_SHARED = 1, MAP_PRIVATE = 2, MAP_FIXED = 0x10, MAP_ANONYMOUS = 0x20,
            MAP_NORESERVE = 0x4000, MAP_HUGETLB = 0x40000;
    public static final int MADV_DONTNEED = 4, MADV_MERGEABLE = 12, MADV_UNMERGEABLE = 13, MADV_HUGEPAGE = 14,
            MADV_NOHUGEPAGE = 15, MADV_COLD = 20, MADV_PAGEOUT = 21, MADV_POPULATE_WRITE = 23, MADV_COLLAPSE = 25;
    public static final int MREMAP_MAYMOVE = 1, MREMAP_FIXED = 2, MREMAP_DONTUNMAP = 4;
    public static final int MS_SYNC = 4;
    public static final int MPOL_DEFAULT = 0, MPOL_BIND = 2, MPOL_MF_MOVE = 2;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE.varHandle(
            java.lang.foreign.MemoryLayout.PathElement.groupElement("errno"));
    private static final MethodHandle SYSCALL = LINKER.downcallHandle(
            LINKER.defaultLookup().find("syscall").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
                    ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
                    ValueLayout.JAVA_LONG),
            Linker.Option.firstVariadicArg(1), Linker.Option.captureCallState("errno"));

    private Sys() {}

    /** The number of a system call: {@code x86} on x86-64, {@code arm64} on arm64 (asm-generic/unistd.h). */
    private static long nr(long x86, long arm64) {
        return ARM64 ? arm64 : x86;
    }

    /** A failed system call: its name and errno. */
    public static final class SysException extends RuntimeException {
        final int errno;

        SysException(String call, int errno) {
            super(call + " failed: " + name(errno) + " (" + errno + ")");
            this.errno = errno;
        }

        boolean is(Errno e) {
            return e.is(errno);
        }
    }

    public static String name(int errno) {
        Errno e = Errno.orNull(errno);
        return e == null ? "errno " + errno : e.name();
    }

    /** {@code syscall(nr, args...)}: the result, or -errno. */
    public static long raw(long nr, long... args) {
        long[] a = new long[6];
        System.arraycopy(args, 0, a, 0, args.length);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            long r = (long) SYSCALL.invokeExact(state, nr, a[0], a[1], a[2], a[3], a[4], a[5]);
            return r == -1 ? -(int) ERRNO.get(state, 0L) : r;
        } catch (Throwable t) {
            throw new AssertionError("syscall " + nr, t);
        }
    }

    /** {@code syscall(nr, args...)}, throwing on failure. */
    public static long call(String name, long nr, long... args) {
        long r = raw(nr, args);
        if (r < 0 && r > -4096) {
            throw new SysException(name, (int) -r);
        }
        return r;
    }

    public static long mmap(long addr, long len, int prot, int flags, int fd, long off) {
        return call("mmap", MMAP, addr, len, prot, flags, fd, off);
    }

    /** {@code openat(AT_FDCWD, path, O_RDWR | O_CLOEXEC)}: the new descriptor. */
    public static int openReadWrite(String path) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment name = arena.allocateFrom(path);
            return (int) call("openat " + path, OPENAT, -100 /* AT_FDCWD */, name.address(), 02 | 02000000);
        }
    }

    public static void munmap(long addr, long len) {
        call("munmap", MUNMAP, addr, len);
    }

    public static void madvise(long addr, long len, int advice) {
        call("madvise(" + advice + ")", MADVISE, addr, len, advice);
    }

    public static void mprotect(long addr, long len, int prot) {
        call("mprotect", MPROTECT, addr, len, prot);
    }

    public static void msync(long addr, long len) {
        call("msync", MSYNC, addr, len, MS_SYNC);
    }

    public static long mremap(long old, long oldLen, long newLen, int flags, long newAddr) {
        return call("mremap", MREMAP, old, oldLen, newLen, flags, newAddr);
    }

    public static void close(int fd) {
        raw(CLOSE, fd);
    }

    /** An address range of {@code len} bytes aligned to {@code align}, mapped private anonymous. */
    public static long mmapAligned(long len, long align, int extraFlags) {
        long raw = mmap(0, len + align, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | extraFlags, -1, 0);
        long a = (raw + align - 1) & -align;
        if (a > raw) {
            munmap(raw, a - raw);
        }
        long tail = raw + len + align - (a + len);
        if (tail > 0) {
            munmap(a + len, tail);
        }
        return a;
    }
}
