package dev.hmmmirror;

import dev.hmmmirror.internal.Posix;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;

/**
 * Page-aligned memory mapped into this process with {@code mmap}: what a mirror mirrors.
 * Anonymous private, anonymous shared (shmem), memfd (shmem file), a file (e.g. on tmpfs), or
 * THP-backed. {@link #close()} unmaps whatever is still mapped; it is idempotent.
 *
 * <p>{@link #segment()} gives CPU access. Never touch it after {@link #unmap}, {@link #close} or
 * {@code protect(Protection.NONE)}: like C, the process gets SIGSEGV.
 */
public final class Memory implements AutoCloseable {
    /** The x86-64 base page size. */
    public static final long PAGE_SIZE = 4096;
    /** The x86-64 PMD (transparent huge page) size. */
    public static final long HUGE_PAGE_SIZE = 2L << 20;

    /** Protection for {@link #protect}. */
    public enum Protection {
        NONE(Posix.PROT_NONE), READ(Posix.PROT_READ), READ_WRITE(Posix.PROT_READ | Posix.PROT_WRITE);

        final int bits;

        Protection(int bits) {
            this.bits = bits;
        }
    }

    private final long address;
    private final long pages;
    private final String kind;
    private boolean mapped = true;

    private Memory(long address, long pages, String kind) {
        this.address = address;
        this.pages = pages;
        this.kind = kind;
    }

    private static long check(long pages) {
        if (pages <= 0 || pages > (1L << 30)) {
            throw new IllegalArgumentException("pages must be 1..2^30, got " + pages);
        }
        return pages;
    }

    private static long map(long length, int flags, int fd, String what) throws HmmException {
        long a = Posix.mmap(0, length, Posix.PROT_READ | Posix.PROT_WRITE, flags, fd, 0);
        if (a < 0) {
            throw new HmmException("mmap", what, (int) -a, null);
        }
        return a;
    }

    /** Private anonymous memory ({@code MAP_PRIVATE | MAP_ANONYMOUS}), not yet populated. */
    public static Memory anonymous(long pages) throws HmmException {
        check(pages);
        long a = map(pages * PAGE_SIZE, Posix.MAP_PRIVATE | Posix.MAP_ANONYMOUS, -1, "anonymous memory");
        Posix.madvise(a, pages * PAGE_SIZE, Posix.MADV_NOHUGEPAGE);
        return new Memory(a, pages, "anonymous");
    }

    /** Shared anonymous memory ({@code MAP_SHARED | MAP_ANONYMOUS}: shmem). */
    public static Memory sharedAnonymous(long pages) throws HmmException {
        check(pages);
        return new Memory(map(pages * PAGE_SIZE, Posix.MAP_SHARED | Posix.MAP_ANONYMOUS, -1, "shared memory"),
                pages, "shared anonymous");
    }

    /**
     * Private anonymous memory aligned to 2 MiB and advised {@code MADV_HUGEPAGE}, so that the
     * kernel backs it with transparent huge pages when it can (first touch of each 2 MiB).
     */
    public static Memory hugeAnonymous(long hugePages) throws HmmException {
        if (hugePages <= 0 || hugePages > 512) {
            throw new IllegalArgumentException("hugePages must be 1..512, got " + hugePages);
        }
        long length = hugePages * HUGE_PAGE_SIZE;
        long raw = map(length + HUGE_PAGE_SIZE, Posix.MAP_PRIVATE | Posix.MAP_ANONYMOUS, -1, "THP memory");
        long aligned = (raw + HUGE_PAGE_SIZE - 1) & -HUGE_PAGE_SIZE;
        if (aligned > raw) {
            Posix.munmap(raw, aligned - raw);
        }
        long tail = raw + length + HUGE_PAGE_SIZE - (aligned + length);
        if (tail > 0) {
            Posix.munmap(aligned + length, tail);
        }
        int rc = Posix.madvise(aligned, length, Posix.MADV_HUGEPAGE);
        if (rc < 0) {
            Posix.munmap(aligned, length);
            throw new HmmException("madvise MADV_HUGEPAGE", "THP memory", -rc,
                    "the kernel has no transparent huge pages (CONFIG_TRANSPARENT_HUGEPAGE)");
        }
        return new Memory(aligned, length / PAGE_SIZE, "THP");
    }

    /** A shmem file from {@code memfd_create}, mapped shared. */
    public static Memory memfd(long pages) throws HmmException {
        check(pages);
        int fd = Posix.memfdCreate("hmm-mirror");
        if (fd < 0) {
            throw new HmmException("memfd_create", "hmm-mirror", -fd, null);
        }
        try {
            int rc = Posix.ftruncate(fd, pages * PAGE_SIZE);
            if (rc < 0) {
                throw new HmmException("ftruncate", "memfd", -rc, null);
            }
            return new Memory(map(pages * PAGE_SIZE, Posix.MAP_SHARED, fd, "memfd"), pages, "memfd");
        } finally {
            Posix.close(fd);
        }
    }

    /** {@code file} (created or truncated to size, e.g. on tmpfs), mapped shared. */
    public static Memory file(Path file, long pages) throws HmmException {
        check(pages);
        String path = file.toAbsolutePath().toString();
        int fd = Posix.open(path, Posix.O_RDWR | Posix.O_CREAT | Posix.O_CLOEXEC);
        if (fd < 0) {
            throw new HmmException("open", path, -fd, null);
        }
        try {
            int rc = Posix.ftruncate(fd, pages * PAGE_SIZE);
            if (rc < 0) {
                throw new HmmException("ftruncate", path, -rc, null);
            }
            return new Memory(map(pages * PAGE_SIZE, Posix.MAP_SHARED, fd, path), pages, "file " + path);
        } finally {
            Posix.close(fd);
        }
    }

    /** First address. */
    public long address() {
        return address;
    }

    /** Number of base pages. */
    public long pages() {
        return pages;
    }

    /** Size in bytes. */
    public long byteSize() {
        return pages * PAGE_SIZE;
    }

    /** Address of page {@code i}. */
    public long pageAddress(long i) {
        if (i < 0 || i >= pages) {
            throw new IndexOutOfBoundsException("page " + i + " of " + pages);
        }
        return address + i * PAGE_SIZE;
    }

    /** The memory as a segment, for CPU reads and writes. */
    public MemorySegment segment() {
        ensureMapped();
        return MemorySegment.ofAddress(address).reinterpret(byteSize());
    }

    /** {@code mprotect} of the whole range. */
    public void protect(Protection protection) throws HmmException {
        ensureMapped();
        int rc = Posix.mprotect(address, byteSize(), protection.bits);
        if (rc < 0) {
            throw new HmmException("mprotect", describe(), -rc, null);
        }
    }

    /** {@code madvise(MADV_DONTNEED)} of {@code count} pages from page {@code first}. */
    public void adviseDontNeed(long first, long count) throws HmmException {
        ensureMapped();
        int rc = Posix.madvise(pageAddress(first), count * PAGE_SIZE, Posix.MADV_DONTNEED);
        if (rc < 0) {
            throw new HmmException("madvise MADV_DONTNEED", describe(), -rc, null);
        }
    }

    /**
     * {@code munmap} of {@code count} pages from page {@code first}. Unmapping part of the range
     * leaves a hole; {@link #close()} unmaps the rest (unmapping a hole again is harmless).
     */
    public void unmap(long first, long count) throws HmmException {
        ensureMapped();
        int rc = Posix.munmap(pageAddress(first), count * PAGE_SIZE);
        if (rc < 0) {
            throw new HmmException("munmap", describe(), -rc, null);
        }
        if (first == 0 && count == pages) {
            mapped = false;
        }
    }

    private void ensureMapped() {
        if (!mapped) {
            throw new IllegalStateException(describe() + " is unmapped");
        }
    }

    private String describe() {
        return kind + " memory at 0x" + Long.toHexString(address);
    }

    /** Unmaps the whole range; idempotent. */
    @Override
    public void close() {
        if (mapped) {
            mapped = false;
            Posix.munmap(address, byteSize());
        }
    }

    @Override
    public String toString() {
        return "Memory[" + describe() + ", " + pages + " pages" + (mapped ? "]" : ", unmapped]");
    }
}
