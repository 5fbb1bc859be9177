package dev.hmmmirror.raw;

import dev.hmmmirror.Errno;
import dev.hmmmirror.internal.Posix;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The mm system calls, raw: {@code mmap}, {@code munmap}, {@code mprotect}, {@code madvise} and
 * {@code move_pages} as the kernel takes them, for tools that must build address-space layouts the
 * API's {@link dev.hmmmirror.Memory} does not (a fuzzer's fixed mappings inside a reservation, guard
 * mappings over holes, advice the API has no method for). Nothing is checked or explained: each call
 * returns its result or {@code -errno}, as {@link Errno#name(int)} names it. <strong>No stability
 * promise</strong>, as for the rest of this package; {@link dev.hmmmirror.Memory} is the API.
 */
public final class Mm {
    /** {@code PROT_NONE}. */
    public static final int PROT_NONE = Posix.PROT_NONE;
    /** {@code PROT_READ}. */
    public static final int PROT_READ = Posix.PROT_READ;
    /** {@code PROT_WRITE}. */
    public static final int PROT_WRITE = Posix.PROT_WRITE;
    /** {@code MAP_SHARED}. */
    public static final int MAP_SHARED = Posix.MAP_SHARED;
    /** {@code MAP_PRIVATE}. */
    public static final int MAP_PRIVATE = Posix.MAP_PRIVATE;
    /** {@code MAP_FIXED}. */
    public static final int MAP_FIXED = 0x10;
    /** {@code MAP_ANONYMOUS}. */
    public static final int MAP_ANONYMOUS = Posix.MAP_ANONYMOUS;
    /** {@code MAP_NORESERVE}. */
    public static final int MAP_NORESERVE = 0x4000;
    /** {@code MAP_FIXED_NOREPLACE}. */
    public static final int MAP_FIXED_NOREPLACE = Posix.MAP_FIXED_NOREPLACE;
    /** {@code MADV_DONTNEED}. */
    public static final int MADV_DONTNEED = Posix.MADV_DONTNEED;
    /** {@code MADV_COLD}. */
    public static final int MADV_COLD = 20;
    /** {@code MADV_PAGEOUT}. */
    public static final int MADV_PAGEOUT = 21;
    /** {@link #movePages} flag: move the pages of this process. */
    public static final int MPOL_MF_MOVE = 2;

    private Mm() {}

    /**
     * {@code mmap(address, length, prot, flags, fd, offset)}.
     *
     * @param address where (a hint, or exact with {@link #MAP_FIXED}), or 0
     * @param length  bytes
     * @param prot    {@code PROT_*}
     * @param flags   {@code MAP_*}
     * @param fd      a file descriptor, or -1
     * @param offset  the file offset
     * @return the address, or {@code -errno}
     */
    public static long mmap(long address, long length, int prot, int flags, int fd, long offset) {
        return Posix.mmap(address, length, prot, flags, fd, offset);
    }

    /**
     * {@code munmap(address, length)}.
     *
     * @param address page-aligned start
     * @param length  bytes
     * @return 0 or {@code -errno}
     */
    public static int munmap(long address, long length) {
        return Posix.munmap(address, length);
    }

    /**
     * {@code mprotect(address, length, prot)}.
     *
     * @param address page-aligned start
     * @param length  bytes
     * @param prot    {@code PROT_*}
     * @return 0 or {@code -errno}
     */
    public static int mprotect(long address, long length, int prot) {
        return Posix.mprotect(address, length, prot);
    }

    /**
     * {@code madvise(address, length, advice)}.
     *
     * @param address page-aligned start
     * @param length  bytes
     * @param advice  {@code MADV_*}
     * @return 0 or {@code -errno}
     */
    public static int madvise(long address, long length, int advice) {
        return Posix.madvise(address, length, advice);
    }

    /**
     * {@code move_pages(2)} of this process's pages at {@code addresses}: to {@code node} with
     * {@link #MPOL_MF_MOVE}, or (node {@code < 0}) only asks where each page is. Returns each page's
     * status (its node, or {@code -errno}: {@code -ENOENT} for a page not present or not movable);
     * throws {@link IllegalStateException}, naming the errno, when the call itself fails.
     *
     * @param addresses one address in each page
     * @param node      the target node, or {@code < 0} to ask only
     * @return each page's status
     */
    public static int[] movePages(long[] addresses, int node) {
        int n = addresses.length;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment pages = a.allocateFrom(ValueLayout.JAVA_LONG, addresses);
            MemorySegment nodes = node < 0 ? MemorySegment.NULL : a.allocate(ValueLayout.JAVA_INT, n);
            for (int i = 0; node >= 0 && i < n; i++) {
                nodes.setAtIndex(ValueLayout.JAVA_INT, i, node);
            }
            MemorySegment status = a.allocate(ValueLayout.JAVA_INT, n);
            long rc = Posix.movePages(n, pages, nodes, status, node < 0 ? 0 : MPOL_MF_MOVE);
            if (rc < 0) {
                throw new IllegalStateException("move_pages failed: " + Errno.name((int) -rc));
            }
            int[] out = new int[n];
            for (int i = 0; i < n; i++) {
                out[i] = status.getAtIndex(ValueLayout.JAVA_INT, i);
            }
            return out;
        }
    }
}
