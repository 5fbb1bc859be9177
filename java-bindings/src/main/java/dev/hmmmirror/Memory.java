package dev.hmmmirror;

import dev.hmmmirror.internal.Posix;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

/**
 * Page-aligned memory mapped into this process with {@code mmap}: what a mirror mirrors.
 * Anonymous private, anonymous shared (shmem), memfd (shmem file), a file (e.g. on tmpfs), or
 * THP-backed.
 *
 * <p>A {@code Memory} owns its pages until it unmaps them: {@link #unmap} gives up part of the
 * range, and once given up, a page may be mapped again by anything in the process (the JVM, a
 * library). No later call touches such a page: {@link #close()} unmaps only the pages still
 * owned, {@link #protect} changes only them, and CPU access to a page given up throws
 * {@link IllegalStateException}. {@link #close()} is idempotent. Like C, CPU access to memory
 * protected {@link Protection#NONE} (or given to the device in ways the CPU may not touch) gets
 * SIGSEGV.
 *
 * <p>The CPU accessors ({@link #fill}, {@link #getLong}, {@link #bytes()} ...) take byte offsets
 * from {@link #address()}.
 *
 * <p>Close every {@code Memory} ({@code try}-with-resources). One dropped without {@link #close()}
 * stays mapped (and a {@link #memfd} keeps its descriptor) until the process exits: the garbage
 * collector never unmaps it, because its {@link #address()} is a plain {@code long} that mirrors,
 * raw structs, device page tables and other threads may still use after the object is gone, and an
 * unmap nobody asked for would make them fault or, worse, reach whatever is mapped there next.
 */
public final class Memory implements AutoCloseable {
    private static final long PAGE_SIZE = Posix.pageSize();
    private static final long HUGE_PAGE_SIZE = hugePageSizeOfTheSystem();
    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();

    /** Protection for {@link #protect}. */
    public enum Protection {
        /** {@code PROT_NONE}: no access; the CPU gets SIGSEGV, a device fault {@link Errno#EFAULT}. */
        NONE(Posix.PROT_NONE),
        /** {@code PROT_READ}: read-only; a device write fault gets {@link Errno#EPERM}. */
        READ(Posix.PROT_READ),
        /** {@code PROT_READ | PROT_WRITE}: the protection every mapping of this class starts with. */
        READ_WRITE(Posix.PROT_READ | Posix.PROT_WRITE);

        final int bits;

        Protection(int bits) {
            this.bits = bits;
        }
    }

    private final long address;
    private final long pages;
    private final String kind;
    private final MemorySegment segment;
    /** The page runs still owned, first page -> end page (exclusive); guarded by {@code this}. */
    private final TreeMap<Long, Long> owned = new TreeMap<>();

    /** The memfd this memory keeps open until {@link #close()} (-1: none); guarded by {@code this}. */
    private int fd;
    /** The file behind this memory, if any. */
    private final Path file;

    private Memory(long address, long pages, String kind) {
        this(address, pages, kind, null, -1);
    }

    private Memory(long address, long pages, String kind, Path file, int fd) {
        this.address = address;
        this.pages = pages;
        this.kind = kind;
        this.file = file;
        this.fd = fd;
        this.segment = MemorySegment.ofAddress(address).reinterpret(pages * PAGE_SIZE);
        owned.put(0L, pages);
    }

    /**
     * The running kernel's base page size in bytes ({@code sysconf(_SC_PAGESIZE)}).
     *
     * @return the page size: the unit of every page count and page index of this class
     */
    public static long pageSize() {
        return PAGE_SIZE;
    }

    /**
     * The size of a PMD-mapped transparent huge page on this system: the kernel's
     * {@code hpage_pmd_size} where it says, else what one page table page maps.
     *
     * @return the PMD size in bytes, e.g. 2 MiB on x86-64 with 4 KiB pages
     */
    public static long hugePageSize() {
        return HUGE_PAGE_SIZE;
    }

    private static long hugePageSizeOfTheSystem() {
        try {
            return Long.parseLong(Files.readString(
                    Path.of("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size")).strip());
        } catch (java.io.IOException | RuntimeException e) {
            return PAGE_SIZE * (PAGE_SIZE / Long.BYTES); // a page table page holds PAGE_SIZE / 8 entries
        }
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
            throw new HmmException("mmap", what, (int) -a, Errno.ENOMEM.is((int) -a)
                    ? "the process is out of address space or memory (see vm.max_map_count, ulimit -v)" : null);
        }
        return a;
    }

    /**
     * Private anonymous memory ({@code MAP_PRIVATE | MAP_ANONYMOUS}), not yet populated, advised
     * {@code MADV_NOHUGEPAGE} so that it stays in base pages.
     *
     * @param pages number of base pages, 1 .. 2^30
     * @return the mapping, read-write
     * @throws HmmException             {@link Errno#ENOMEM} when {@code mmap} finds no room (address space,
     *                                  {@code vm.max_map_count}, {@code ulimit -v})
     * @throws IllegalArgumentException when {@code pages} is out of range
     */
    public static Memory anonymous(long pages) throws HmmException {
        check(pages);
        long a = map(pages * PAGE_SIZE, Posix.MAP_PRIVATE | Posix.MAP_ANONYMOUS, -1, "anonymous memory");
        Posix.madvise(a, pages * PAGE_SIZE, Posix.MADV_NOHUGEPAGE);
        return new Memory(a, pages, "anonymous");
    }

    /**
     * Shared anonymous memory ({@code MAP_SHARED | MAP_ANONYMOUS}: shmem), not yet populated.
     *
     * @param pages number of base pages, 1 .. 2^30
     * @return the mapping, read-write
     * @throws HmmException             {@link Errno#ENOMEM} when {@code mmap} finds no room
     * @throws IllegalArgumentException when {@code pages} is out of range
     */
    public static Memory sharedAnonymous(long pages) throws HmmException {
        check(pages);
        return new Memory(map(pages * PAGE_SIZE, Posix.MAP_SHARED | Posix.MAP_ANONYMOUS, -1, "shared memory"),
                pages, "shared anonymous");
    }

    /**
     * Private anonymous memory aligned to {@link #hugePageSize()} and advised
     * {@code MADV_HUGEPAGE}, so that the kernel backs it with transparent huge pages when it can
     * (first touch of each huge page).
     *
     * @param hugePages number of huge pages, 1 .. 512; {@link #pages()} is this times the base pages per
     *                  huge page
     * @return the mapping, read-write, starting on a huge-page boundary
     * @throws HmmException             {@link Errno#ENOMEM} when {@code mmap} finds no room, or the errno of
     *                                  {@code madvise(MADV_HUGEPAGE)} ({@link Errno#EINVAL} without
     *                                  {@code CONFIG_TRANSPARENT_HUGEPAGE})
     * @throws IllegalArgumentException when {@code hugePages} is out of range
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
                    "the kernel has no transparent huge pages (build it with CONFIG_TRANSPARENT_HUGEPAGE=y)");
        }
        return new Memory(aligned, length / PAGE_SIZE, "THP");
    }

    /**
     * Private anonymous memory backed by hugetlbfs pages of the default huge page size
     * ({@code MAP_HUGETLB}); the pages come from the pool reserved in
     * {@code /proc/sys/vm/nr_hugepages}, so this fails with ENOMEM when it has too few free.
     *
     * @param hugePages number of hugetlb pages of {@link #hugetlbPageSize()}, 1 .. 512
     * @return the mapping, read-write
     * @throws HmmException             the errno of {@code mmap(MAP_HUGETLB)}: {@link Errno#ENOMEM} for a pool
     *                                  with too few free pages
     * @throws IllegalArgumentException when {@code hugePages} is out of range
     */
    public static Memory hugetlb(long hugePages) throws HmmException {
        if (hugePages <= 0 || hugePages > 512) {
            throw new IllegalArgumentException("hugePages must be 1..512, got " + hugePages);
        }
        long length = hugePages * hugetlbPageSize();
        long a = Posix.mmap(0, length, Posix.PROT_READ | Posix.PROT_WRITE,
                Posix.MAP_PRIVATE | Posix.MAP_ANONYMOUS | Posix.MAP_HUGETLB, -1, 0);
        if (a < 0) {
            throw new HmmException("mmap MAP_HUGETLB", "hugetlb memory", (int) -a,
                    "reserve huge pages first: echo N > /proc/sys/vm/nr_hugepages (CONFIG_HUGETLBFS=y needed)");
        }
        return new Memory(a, length / PAGE_SIZE, "hugetlb");
    }

    /**
     * The default hugetlbfs page size ({@code Hugepagesize} in {@code /proc/meminfo}: 2 MiB on x86-64,
     * 32 MiB on arm64 with 16 KiB pages), else the PMD size ({@link #hugePageSize()}).
     *
     * @return the size in bytes
     */
    public static long hugetlbPageSize() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("Hugepagesize:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (java.io.IOException | RuntimeException e) {
            // no meminfo (not Linux): a PMD, the default huge page size of x86-64 and arm64
        }
        return HUGE_PAGE_SIZE;
    }

    /**
     * A shmem file from {@code memfd_create}, mapped shared. The memory keeps the file's descriptor
     * open until {@link #close()}, so {@link #file()} reaches the file ({@code /proc/self/fd/N}):
     * read or write it with {@code java.nio.file.Files}, or hand it to another process.
     *
     * @param pages number of base pages, 1 .. 2^30; the file is {@code ftruncate}d to that size
     * @return the mapping, read-write
     * @throws HmmException             the errno of {@code memfd_create}, {@code ftruncate} or {@code mmap}
     *                                  ({@link Errno#EMFILE}, {@link Errno#ENOMEM} ...)
     * @throws IllegalArgumentException when {@code pages} is out of range
     */
    public static Memory memfd(long pages) throws HmmException {
        check(pages);
        int fd = Posix.memfdCreate("hmm-mirror");
        if (fd < 0) {
            throw new HmmException("memfd_create", "hmm-mirror", -fd, null);
        }
        boolean kept = false;
        try {
            int rc = Posix.ftruncate(fd, pages * PAGE_SIZE);
            if (rc < 0) {
                throw new HmmException("ftruncate", "memfd", -rc, null);
            }
            Memory m = new Memory(map(pages * PAGE_SIZE, Posix.MAP_SHARED, fd, "memfd"), pages, "memfd",
                    Path.of("/proc/self/fd/" + fd), fd);
            kept = true;
            return m;
        } finally {
            if (!kept) {
                Posix.close(fd);
            }
        }
    }

    /**
     * The file behind this memory: for {@link #memfd} {@code /proc/self/fd/N} (valid until
     * {@link #close()}), for {@link #file} the path it was given; empty for anonymous memory.
     *
     * @return the file's path, or empty (also for {@link #privateFile} and {@link #remap} results)
     * @throws IllegalStateException after {@link #close()} for a memfd (its descriptor is closed)
     */
    public synchronized java.util.Optional<Path> file() {
        if (file != null && kind.equals("memfd") && fd < 0) {
            throw new IllegalStateException(describe() + " is closed: its memfd is gone");
        }
        return java.util.Optional.ofNullable(file);
    }

    /**
     * {@code file} (created or truncated to size, e.g. on tmpfs), mapped shared.
     *
     * @param file  the file; created if missing, else its contents are kept up to the new size
     * @param pages number of base pages, 1 .. 2^30; the file is {@code ftruncate}d to that size
     * @return the mapping, read-write; the descriptor is closed, the mapping keeps the file
     * @throws HmmException             the errno of {@code open}, {@code ftruncate} or {@code mmap}
     *                                  ({@link Errno#EACCES}, {@link Errno#ENOENT} for a missing directory,
     *                                  {@link Errno#ENOSPC} ...)
     * @throws IllegalArgumentException when {@code pages} is out of range
     */
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
            return new Memory(map(pages * PAGE_SIZE, Posix.MAP_SHARED, fd, path), pages, "file " + path,
                    Path.of(path), -1);
        } finally {
            Posix.close(fd);
        }
    }

    /**
     * {@code file} (created or truncated to size), mapped {@code MAP_PRIVATE}: reads see the file,
     * writes make private anonymous copies of the pages written (copy-on-write), the file is never
     * changed. {@code protection} is the mapping's initial protection.
     *
     * @param file       the file; created if missing, else its contents are kept up to the new size
     * @param pages      number of base pages, 1 .. 2^30; the file is {@code ftruncate}d to that size
     * @param protection the mapping's initial protection
     * @return the mapping
     * @throws HmmException             the errno of {@code open}, {@code ftruncate} or {@code mmap}
     * @throws IllegalArgumentException when {@code pages} is out of range
     */
    public static Memory privateFile(Path file, long pages, Protection protection) throws HmmException {
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
            long a = Posix.mmap(0, pages * PAGE_SIZE, protection.bits, Posix.MAP_PRIVATE, fd, 0);
            if (a < 0) {
                throw new HmmException("mmap", path, (int) -a, null);
            }
            return new Memory(a, pages, "private file " + path);
        } finally {
            Posix.close(fd);
        }
    }

    /**
     * First address.
     *
     * @return the page-aligned (for {@link #hugeAnonymous} huge-page-aligned) start of the mapping
     */
    public long address() {
        return address;
    }

    /**
     * Number of base pages (of the range as mapped; {@link #unmap} leaves it unchanged).
     *
     * @return the length of the range in pages of {@link #pageSize()}
     */
    public long pages() {
        return pages;
    }

    /**
     * Size in bytes.
     *
     * @return {@link #pages()} times {@link #pageSize()}
     */
    public long byteSize() {
        return pages * PAGE_SIZE;
    }

    /**
     * Address of page {@code i}.
     *
     * @param i page index, 0 .. {@link #pages()} - 1
     * @return {@code address() + i * pageSize()}
     * @throws IndexOutOfBoundsException when {@code i} is outside the range
     */
    public long pageAddress(long i) {
        if (i < 0 || i >= pages) {
            throw new IndexOutOfBoundsException("page " + i + " of " + pages);
        }
        return address + i * PAGE_SIZE;
    }

    /**
     * Whether page {@code i} is still mapped by this {@code Memory}.
     *
     * @param i page index, 0 .. {@link #pages()} - 1
     * @return whether this {@code Memory} still owns the page (not given up by {@link #unmap}, {@link #remap}
     *         or {@link #close()})
     * @throws IndexOutOfBoundsException when {@code i} is outside the range
     */
    public synchronized boolean isMapped(long i) {
        pageAddress(i);
        Map.Entry<Long, Long> run = owned.floorEntry(i);
        return run != null && i < run.getValue();
    }

    /** The whole range as a segment, for the library's own calls; every page must still be owned. */
    MemorySegment ownedSegment() {
        ensureOwned(0, byteSize());
        return segment;
    }

    // --- CPU access ------------------------------------------------------------------------------

    /**
     * Sets every byte to {@code value} (the first write to each page populates it).
     *
     * @param value the byte to store
     * @throws IllegalStateException when a page of the range was given up
     */
    public void fill(byte value) {
        ensureOwned(0, byteSize());
        segment.fill(value);
    }

    /**
     * The byte at {@code offset}.
     *
     * @param offset byte offset from {@link #address()}
     * @return the byte the CPU reads there
     * @throws IndexOutOfBoundsException when {@code offset} is outside the range
     * @throws IllegalStateException     when its page was given up
     */
    public byte getByte(long offset) {
        ensureOwned(offset, 1);
        return segment.get(ValueLayout.JAVA_BYTE, offset);
    }

    /**
     * Stores {@code value} at {@code offset}.
     *
     * @param offset byte offset from {@link #address()}
     * @param value  the byte to store
     * @throws IndexOutOfBoundsException when {@code offset} is outside the range
     * @throws IllegalStateException     when its page was given up
     */
    public void setByte(long offset, byte value) {
        ensureOwned(offset, 1);
        segment.set(ValueLayout.JAVA_BYTE, offset, value);
    }

    /**
     * The 64-bit word at {@code offset} (8-byte aligned), in native byte order.
     *
     * @param offset byte offset from {@link #address()}, a multiple of 8
     * @return the word the CPU reads there
     * @throws IndexOutOfBoundsException when the word is not wholly inside the range
     * @throws IllegalArgumentException  when {@code offset} is not 8-byte aligned
     * @throws IllegalStateException     when its page was given up
     */
    public long getLong(long offset) {
        ensureOwned(offset, Long.BYTES);
        return segment.get(ValueLayout.JAVA_LONG, offset);
    }

    /**
     * Stores the 64-bit word {@code value} at {@code offset} (8-byte aligned), in native byte order.
     *
     * @param offset byte offset from {@link #address()}, a multiple of 8
     * @param value  the word to store
     * @throws IndexOutOfBoundsException when the word is not wholly inside the range
     * @throws IllegalArgumentException  when {@code offset} is not 8-byte aligned
     * @throws IllegalStateException     when its page was given up
     */
    public void setLong(long offset, long value) {
        ensureOwned(offset, Long.BYTES);
        segment.set(ValueLayout.JAVA_LONG, offset, value);
    }

    /**
     * A CPU atomic fetch-and-add ({@code lock xadd}) on the 64-bit word at {@code offset}; returns the old value.
     *
     * @param offset byte offset from {@link #address()}, a multiple of 8
     * @param delta  what to add
     * @return the word's value before the addition
     * @throws IndexOutOfBoundsException when the word is not wholly inside the range
     * @throws IllegalArgumentException  when {@code offset} is not 8-byte aligned
     * @throws IllegalStateException     when its page was given up
     */
    public long getAndAddLong(long offset, long delta) {
        ensureOwned(offset, Long.BYTES);
        return (long) LONG.getAndAdd(segment, offset, delta);
    }

    /**
     * A copy of the whole range.
     *
     * @return {@link #byteSize()} bytes as the CPU reads them
     * @throws IllegalStateException when the range is too large for one array, or a page was given up
     */
    public byte[] bytes() {
        if (byteSize() > Integer.MAX_VALUE - 8) {
            throw new IllegalStateException(describe() + " is too large for one byte[]: use bytes(offset, length)");
        }
        return bytes(0, (int) byteSize());
    }

    /**
     * A copy of {@code length} bytes from {@code offset}.
     *
     * @param offset byte offset from {@link #address()}
     * @param length number of bytes, {@code >= 0}
     * @return the bytes as the CPU reads them
     * @throws IndexOutOfBoundsException when the bytes are not wholly inside the range
     * @throws IllegalStateException     when one of their pages was given up
     */
    public byte[] bytes(long offset, int length) {
        ensureOwned(offset, length);
        byte[] out = new byte[length];
        MemorySegment.copy(segment, ValueLayout.JAVA_BYTE, offset, out, 0, length);
        return out;
    }

    /**
     * Copies {@code data} to {@code offset}.
     *
     * @param offset byte offset from {@link #address()}
     * @param data   the bytes to store
     * @throws IndexOutOfBoundsException when the bytes do not fit inside the range
     * @throws IllegalStateException     when one of their pages was given up
     */
    public void write(long offset, byte[] data) {
        ensureOwned(offset, data.length);
        MemorySegment.copy(data, 0, segment, ValueLayout.JAVA_BYTE, offset, data.length);
    }

    // --- the mapping -----------------------------------------------------------------------------

    /**
     * {@code mprotect} of every page still owned.
     *
     * @param protection the new protection
     * @throws HmmException          the errno of {@code mprotect} (e.g. {@link Errno#EACCES} for write access
     *                               to a file opened read-only, {@link Errno#ENOMEM})
     * @throws IllegalStateException when no page is owned any more
     */
    public synchronized void protect(Protection protection) throws HmmException {
        ensureAnyOwned();
        for (Map.Entry<Long, Long> run : owned.entrySet()) {
            int rc = Posix.mprotect(address + run.getKey() * PAGE_SIZE, (run.getValue() - run.getKey()) * PAGE_SIZE,
                    protection.bits);
            if (rc < 0) {
                throw new HmmException("mprotect", describe(), -rc, null);
            }
        }
    }

    /**
     * {@code mprotect} of {@code count} pages from page {@code first}, all still owned.
     *
     * @param first      index of the first page
     * @param count      number of pages, {@code >= 1}
     * @param protection the new protection
     * @throws HmmException              the errno of {@code mprotect}
     * @throws IndexOutOfBoundsException when the pages are not all inside the range
     * @throws IllegalStateException     when one of them was given up
     */
    public synchronized void protect(long first, long count, Protection protection) throws HmmException {
        checkPages(first, count);
        ensureOwned(first * PAGE_SIZE, count * PAGE_SIZE);
        int rc = Posix.mprotect(pageAddress(first), count * PAGE_SIZE, protection.bits);
        if (rc < 0) {
            throw new HmmException("mprotect", describe(), -rc, null);
        }
    }

    /**
     * {@code madvise(MADV_DONTNEED)} of {@code count} pages from page {@code first}, all still owned: the
     * kernel zaps their CPU page table entries (an {@link Invalidation.Reason#CLEAR} invalidation); private
     * anonymous pages read back as zeros, shared and file pages keep their contents.
     *
     * @param first index of the first page
     * @param count number of pages, {@code >= 1}
     * @throws HmmException              the errno of {@code madvise} (e.g. {@link Errno#EINVAL} for locked pages)
     * @throws IndexOutOfBoundsException when the pages are not all inside the range
     * @throws IllegalStateException     when one of them was given up
     */
    public synchronized void adviseDontNeed(long first, long count) throws HmmException {
        checkPages(first, count);
        ensureOwned(first * PAGE_SIZE, count * PAGE_SIZE);
        int rc = Posix.madvise(pageAddress(first), count * PAGE_SIZE, Posix.MADV_DONTNEED);
        if (rc < 0) {
            throw new HmmException("madvise MADV_DONTNEED", describe(), -rc, null);
        }
    }

    /**
     * {@code madvise(MADV_FREE)} of {@code count} pages from page {@code first}, all still owned: the
     * kernel may reclaim the (private anonymous) pages lazily unless they are written again.
     *
     * @param first index of the first page
     * @param count number of pages, {@code >= 1}
     * @throws HmmException              the errno of {@code madvise} ({@link Errno#EINVAL} for a shared or
     *                                   file mapping)
     * @throws IndexOutOfBoundsException when the pages are not all inside the range
     * @throws IllegalStateException     when one of them was given up
     */
    public synchronized void adviseFree(long first, long count) throws HmmException {
        advise(first, count, Posix.MADV_FREE, "MADV_FREE");
    }

    /**
     * {@code madvise(MADV_COLLAPSE)} of {@code count} pages from page {@code first}: the kernel
     * collapses them into transparent huge pages now, synchronously (Linux 6.1 and later).
     *
     * @param first index of the first page
     * @param count number of pages, {@code >= 1}; only whole huge-page-aligned extents collapse
     * @throws HmmException              the errno of {@code madvise}: {@link Errno#EINVAL} before Linux 6.1 or
     *                                   without THP, {@link Errno#EAGAIN} or {@link Errno#ENOMEM} when the
     *                                   kernel could not collapse
     * @throws IndexOutOfBoundsException when the pages are not all inside the range
     * @throws IllegalStateException     when one of them was given up
     */
    public synchronized void adviseCollapse(long first, long count) throws HmmException {
        advise(first, count, Posix.MADV_COLLAPSE, "MADV_COLLAPSE");
    }

    private void advise(long first, long count, int advice, String name) throws HmmException {
        checkPages(first, count);
        ensureOwned(first * PAGE_SIZE, count * PAGE_SIZE);
        int rc = Posix.madvise(pageAddress(first), count * PAGE_SIZE, advice);
        if (rc < 0) {
            throw new HmmException("madvise " + name, describe(), -rc, null);
        }
    }

    /**
     * Moves the whole range with {@code mremap} to a new address that lies {@code offset} bytes
     * past a {@link #hugePageSize()} boundary (0 keeps huge-page alignment, anything else splits
     * huge mappings), and returns the new range. Without {@code keepOld} this {@code Memory} gives
     * its pages up (as after {@link #unmap}); with it ({@code MREMAP_DONTUNMAP}, private anonymous
     * memory only) the old range stays mapped, empty, and still belongs to this {@code Memory}.
     *
     * @param offset  byte offset of the new address past a huge-page boundary: a multiple of
     *                {@link #pageSize()} below {@link #hugePageSize()}
     * @param keepOld whether to pass {@code MREMAP_DONTUNMAP}
     * @return a new {@code Memory} owning the moved range (same size; {@link #file()} empty)
     * @throws HmmException              the errno of {@code mmap} (reserving the target) or {@code mremap}
     *                                   ({@link Errno#EINVAL} for {@code keepOld} on a mapping it does not
     *                                   support)
     * @throws IllegalArgumentException  when {@code offset} is not page aligned or not below the huge page
     *                                   size
     * @throws IllegalStateException     when a page of the range was given up
     */
    public synchronized Memory remap(long offset, boolean keepOld) throws HmmException {
        if (offset < 0 || offset >= HUGE_PAGE_SIZE || offset % PAGE_SIZE != 0) {
            throw new IllegalArgumentException("offset must be page aligned and below " + HUGE_PAGE_SIZE + ": " + offset);
        }
        ensureOwned(0, byteSize());
        long length = byteSize();
        long reserved = length + 2 * HUGE_PAGE_SIZE;
        long raw = map(reserved, Posix.MAP_PRIVATE | Posix.MAP_ANONYMOUS, -1, "mremap target");
        long target = ((raw + HUGE_PAGE_SIZE - 1) & -HUGE_PAGE_SIZE) + offset;
        long moved = Posix.mremap(address, length,
                Posix.MREMAP_MAYMOVE | Posix.MREMAP_FIXED | (keepOld ? Posix.MREMAP_DONTUNMAP : 0), target);
        if (moved < 0) {
            Posix.munmap(raw, reserved);
            throw new HmmException("mremap", describe(), (int) -moved, null);
        }
        if (target > raw) {
            Posix.munmap(raw, target - raw);
        }
        if (raw + reserved > target + length) {
            Posix.munmap(target + length, raw + reserved - (target + length));
        }
        if (!keepOld) {
            disown(0, pages);
        }
        return new Memory(target, pages, kind + " (remapped)");
    }

    /**
     * {@code munmap} of the pages of {@code [first, first + count)} this {@code Memory} still owns,
     * leaving a hole it no longer owns: pages already unmapped are left alone, since something
     * else may be mapped there by now.
     *
     * @param first index of the first page
     * @param count number of pages, {@code >= 1}
     * @throws HmmException              the errno of {@code munmap} (e.g. {@link Errno#ENOMEM} when splitting
     *                                   the mapping would exceed {@code vm.max_map_count})
     * @throws IndexOutOfBoundsException when the pages are not all inside the range
     * @throws IllegalStateException     when no page is owned any more
     */
    public synchronized void unmap(long first, long count) throws HmmException {
        checkPages(first, count);
        ensureAnyOwned();
        long end = first + count;
        for (long[] run : ownedRuns(first, end)) {
            int rc = Posix.munmap(address + run[0] * PAGE_SIZE, (run[1] - run[0]) * PAGE_SIZE);
            if (rc < 0) {
                throw new HmmException("munmap", describe(), -rc, null);
            }
            disown(run[0], run[1]);
        }
    }

    private void checkPages(long first, long count) {
        if (count <= 0 || first < 0 || first > pages - count) {
            throw new IndexOutOfBoundsException("pages " + first + ".." + (first + count - 1) + " of " + pages);
        }
    }

    /** The owned runs clipped to {@code [from, to)}, as {first, end} pairs. */
    private java.util.List<long[]> ownedRuns(long from, long to) {
        java.util.List<long[]> runs = new java.util.ArrayList<>();
        Map.Entry<Long, Long> before = owned.floorEntry(from);
        long start = before != null && before.getValue() > from ? before.getKey() : from;
        for (Map.Entry<Long, Long> run : owned.subMap(start, true, to, false).entrySet()) {
            long a = Math.max(run.getKey(), from);
            long b = Math.min(run.getValue(), to);
            if (a < b) {
                runs.add(new long[] {a, b});
            }
        }
        return runs;
    }

    private void disown(long from, long to) {
        Map.Entry<Long, Long> run = owned.floorEntry(from);
        long start = run.getKey();
        long end = run.getValue();
        owned.remove(start);
        if (start < from) {
            owned.put(start, from);
        }
        if (to < end) {
            owned.put(to, end);
        }
    }

    private synchronized void ensureOwned(long offset, long length) {
        if (offset < 0 || length < 0 || offset > byteSize() - length) {
            throw new IndexOutOfBoundsException("bytes " + offset + "+" + length + " of " + describe() + " ("
                    + byteSize() + " bytes)");
        }
        ensureAnyOwned();
        Long whole = owned.size() == 1 ? owned.get(0L) : null;
        if (whole != null && whole == pages) {
            return; // all still ours (the usual case): no run list to build on every access
        }
        long first = offset / PAGE_SIZE;
        long end = length == 0 ? first : (offset + length - 1) / PAGE_SIZE + 1;
        long covered = first;
        for (long[] run : ownedRuns(first, end)) {
            if (run[0] != covered) {
                break;
            }
            covered = run[1];
        }
        if (covered < end) {
            throw new IllegalStateException("page " + covered + " of " + describe()
                    + " was unmapped: it is no longer this Memory's to touch");
        }
    }

    private void ensureAnyOwned() {
        if (owned.isEmpty()) {
            throw new IllegalStateException(describe() + " is unmapped");
        }
    }

    private String describe() {
        return kind + " memory at 0x" + Long.toHexString(address);
    }

    /** Unmaps the pages still owned (never a hole left by {@link #unmap}); idempotent. */
    @Override
    public synchronized void close() {
        for (Map.Entry<Long, Long> run : owned.entrySet()) {
            Posix.munmap(address + run.getKey() * PAGE_SIZE, (run.getValue() - run.getKey()) * PAGE_SIZE);
        }
        owned.clear();
        if (fd >= 0) {
            Posix.close(fd);
            fd = -1;
        }
    }

    @Override
    public synchronized String toString() {
        long mapped = owned.entrySet().stream().mapToLong(e -> e.getValue() - e.getKey()).sum();
        return "Memory[" + describe() + ", " + pages + " pages"
                + (mapped == pages ? "]" : mapped == 0 ? ", unmapped]" : ", " + mapped + " still mapped]");
    }
}
