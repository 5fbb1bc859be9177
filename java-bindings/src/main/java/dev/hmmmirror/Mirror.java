package dev.hmmmirror;

import dev.hmmmirror.raw.Command;
import dev.hmmmirror.internal.DeviceFile;
import dev.hmmmirror.internal.gen.HmmMirrorH;
import dev.hmmmirror.internal.gen.hmm_mirror_atomic;
import dev.hmmmirror.internal.gen.hmm_mirror_counters;
import dev.hmmmirror.internal.gen.hmm_mirror_delay;
import dev.hmmmirror.internal.gen.hmm_mirror_inject;
import dev.hmmmirror.internal.gen.hmm_mirror_event;
import dev.hmmmirror.internal.gen.hmm_mirror_event_scope;
import dev.hmmmirror.internal.gen.hmm_mirror_migrate;
import dev.hmmmirror.internal.gen.hmm_mirror_page;
import dev.hmmmirror.internal.gen.hmm_mirror_pages;
import dev.hmmmirror.internal.gen.hmm_mirror_range;
import dev.hmmmirror.internal.gen.hmm_mirror_rw;
import dev.hmmmirror.internal.gen.hmm_mirror_snapshot;
import dev.hmmmirror.internal.gen.hmm_mirror_version;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.ref.Reference;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * A device's mirror of this process's address space: an open {@code /dev/hmm_mirrorN}. The
 * device page table starts empty; {@link #fault} fills it through {@code hmm_range_fault}, and
 * the kernel's mmu notifier removes entries whenever the CPU page table changes (each removal is
 * an {@link Invalidation} event; {@link #scopeEvents(long, long)} limits which are reported).
 * {@link #read} and {@link #write} access memory the way the device would: through its own page
 * table, faulting what is missing.
 *
 * <p>A mirror belongs to the process that opened it; the kernel refuses commands from any other
 * with {@link Errno#EPERM}. Methods may be called from several threads; each command is one
 * ioctl. Closing is idempotent; use after close throws {@link IllegalStateException}.
 *
 * <p>Close every mirror ({@code try}-with-resources). One dropped without {@link #close()} is closed
 * by a {@link java.lang.ref.Cleaner} once the garbage collector finds it unreachable: until then it
 * keeps its descriptor and the kernel keeps its notifier, which every invalidation of the process
 * visits; and when the cleaner closes it, at a moment nobody chooses, the kernel releases it as on
 * {@link #close()}, migrating the pages in its device memory back to system memory (other mirrors
 * see those invalidations then). A mirror is never closed while one of its own calls is running.
 */
public final class Mirror implements AutoCloseable {
    private static final int EVENT_BATCH = 16;

    private final HmmDevice device;
    private final DeviceFile file;
    private final long pageSize;
    /** What the kernel can do, read at open: decides what an errno of a command means. */
    private final Set<Capability> capabilities;

    private Mirror(HmmDevice device, DeviceFile file, AbiVersion version) {
        this.device = device;
        this.file = file;
        this.pageSize = version.pageSize();
        this.capabilities = version.capabilities();
        file.closeWhenUnreachable(this);
    }

    /**
     * Opens a mirror on {@code device}: {@code open(2)} of its node read-write ({@code O_CLOEXEC}), which
     * registers an interval notifier over this process's whole address space, then
     * {@code HMM_MIRROR_IOC_VERSION} to learn the page size and capabilities.
     *
     * @param device the device to mirror on
     * @return the new mirror, with an empty device page table
     * @throws HmmException {@link Errno#ENOENT} without the node (module not loaded, or the index past
     *                      {@code ndevices}), {@link Errno#EACCES} for a non-root process (the node is mode
     *                      0600), {@link Errno#ENODEV} for a stale node; from the version command
     *                      {@link Errno#EINVAL} or {@link Errno#ENOTTY} when the module speaks another ABI
     */
    public static Mirror open(HmmDevice device) throws HmmException {
        DeviceFile f = DeviceFile.open(device.path());
        try {
            return new Mirror(device, f, version(f));
        } catch (HmmException | RuntimeException e) {
            try {
                f.close();
            } catch (HmmException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /**
     * Opens a mirror on {@code /dev/hmm_mirror<index>}.
     *
     * @param index the N of {@code /dev/hmm_mirrorN}
     * @return the new mirror, with an empty device page table
     * @throws HmmException             as for {@link #open(HmmDevice)}
     * @throws IllegalArgumentException when {@code index} is negative
     */
    public static Mirror open(int index) throws HmmException {
        return open(HmmDevice.of(index));
    }

    /**
     * The device this mirror is on.
     *
     * @return the device given to {@link #open(HmmDevice)}
     */
    public HmmDevice device() {
        return device;
    }

    /**
     * The kernel's page size in bytes.
     *
     * @return {@code PAGE_SIZE} as {@code HMM_MIRROR_IOC_VERSION} reported it at open: the unit of every
     *         page count and the alignment of every range address of this class
     */
    public long pageSize() {
        return pageSize;
    }

    /**
     * The module's ABI version and capabilities ({@code HMM_MIRROR_IOC_VERSION}).
     *
     * @return what the module reports now
     * @throws HmmException          {@link Errno#EINVAL} when the module's struct size differs from these
     *                               bindings' (another ABI version), {@link Errno#EPERM} from another process
     * @throws IllegalStateException after {@link #close()}
     */
    public AbiVersion version() throws HmmException {
        try {
            return version(file);
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    private static AbiVersion version(DeviceFile file) throws HmmException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment v = hmm_mirror_version.allocate(arena);
            hmm_mirror_version.size(v, (int) hmm_mirror_version.sizeof());
            issue(file, Set.of(), Command.VERSION, v);
            return new AbiVersion(hmm_mirror_version.abi_version(v),
                    Capability.fromBits(hmm_mirror_version.caps(v)),
                    Integer.toUnsignedLong(hmm_mirror_version.page_size(v)),
                    hmm_mirror_version.ndevices(v),
                    hmm_mirror_version.device_index(v));
        }
    }

    /**
     * Faults {@code pages} pages at {@code address} into the device page table
     * ({@code HMM_MIRROR_IOC_FAULT}: {@code hmm_range_fault()} with {@code HMM_PFN_REQ_FAULT}, in chunks
     * of 64 pages). Missing CPU pages are faulted in as a CPU access would; a write fault breaks
     * copy-on-write first. On failure the chunks before the failing one stay mapped.
     *
     * @param address page-aligned first address
     * @param pages   number of pages, 1 .. {@link dev.hmmmirror.raw.Abi#MAX_PAGES}
     * @param access  whether the device asks for read or write access
     * @return pages faulted into the device page table: {@code pages} (the call throws otherwise)
     * @throws HmmException          {@link Errno#EFAULT} for unmapped or PROT_NONE memory, {@link Errno#EPERM}
     *                               for a write to a read-only mapping, {@link Errno#EINVAL} for a bad range,
     *                               {@link Errno#EBUSY} when the range kept being invalidated for the retry
     *                               deadline (1 s), {@link Errno#ENOMEM}, {@link Errno#EINTR} on a fatal signal
     * @throws IllegalStateException after {@link #close()}
     */
    public long fault(long address, long pages, Access access) throws HmmException {
        Scratch scratch = Scratch.get(); // this thread's: a fault allocates nothing
        MemorySegment r = scratch.range;
        hmm_mirror_range.size(r, (int) hmm_mirror_range.sizeof());
        hmm_mirror_range.flags(r, access == Access.WRITE ? (int) HmmMirrorH.HMM_MIRROR_FAULT_WRITE() : 0);
        hmm_mirror_range.addr(r, address);
        hmm_mirror_range.npages(r, pages);
        hmm_mirror_range.faulted(r, 0);
        issue(Command.FAULT, r, scratch.errno);
        return hmm_mirror_range.faulted(r);
    }

    /**
     * Faults all of {@code memory} into the device page table.
     *
     * @param memory the range to fault; every page of it must still be mapped
     * @param access whether the device asks for read or write access
     * @return pages faulted into the device page table: {@code memory.pages()}
     * @throws HmmException          as for {@link #fault(long, long, Access)}
     * @throws IllegalStateException after {@link #close()}
     */
    public long fault(Memory memory, Access access) throws HmmException {
        return fault(memory.address(), memory.pages(), access);
    }

    /**
     * Reads {@code pages} pages at {@code address} as the device sees them ({@code HMM_MIRROR_IOC_READ}):
     * each page is copied through the device page table, read-faulting it first when the device does
     * not map it. Pages in device-private memory the device may map (its own; any device's with
     * {@link Capability#SHARED_OWNER}) are read in place, others migrate back to system memory first.
     *
     * @param address page-aligned first address
     * @param pages   number of pages, 1 .. {@link dev.hmmmirror.raw.Abi#MAX_PAGES}
     * @return the {@code pages * pageSize()} bytes the device read
     * @throws HmmException          as for {@link #fault(long, long, Access)}, and {@link Errno#EIO} for an
     *                               injected copy failure ({@link FaultInjection#failedCopies})
     * @throws IllegalStateException after {@link #close()}
     */
    public byte[] read(long address, long pages) throws HmmException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(pages * pageSize, pageSize);
            rw(Command.READ, address, pages, buf);
            return buf.toArray(ValueLayout.JAVA_BYTE);
        }
    }

    /**
     * Reads {@code dst.pages()} pages at {@code address} into {@code dst}: no allocation, for
     * loops and benchmarks. {@code dst} must be wholly mapped.
     *
     * @param address page-aligned first address of the range to read
     * @param dst     where the bytes go (its own pages are written by the kernel's {@code copy_to_user})
     * @return pages the command had to fault into the device page table on the way
     * @throws HmmException          as for {@link #read(long, long)}; {@link Errno#EFAULT} also when
     *                               {@code dst} is not writable
     * @throws IllegalStateException after {@link #close()}, or when a page of {@code dst} was unmapped
     */
    public long read(long address, Memory dst) throws HmmException {
        if (dst.byteSize() % pageSize != 0) {
            throw new IllegalArgumentException("dst must be a whole number of " + pageSize + "-byte pages");
        }
        return rw(Command.READ, address, dst.byteSize() / pageSize, dst.ownedSegment());
    }

    /**
     * Writes {@code data} (a whole number of pages) at {@code address} through the device page table
     * ({@code HMM_MIRROR_IOC_WRITE}): pages the device does not map writable are write-faulted first
     * (breaking copy-on-write). Pages in device-private memory are written there. On failure the pages
     * before the failing one are written.
     *
     * @param address page-aligned first address
     * @param data    the bytes to store, {@code pageSize()} .. {@code MAX_PAGES * pageSize()} of them, a
     *                multiple of {@link #pageSize()}
     * @throws HmmException             as for {@link #fault(long, long, Access)} with {@link Access#WRITE},
     *                                  and {@link Errno#EIO} for an injected copy failure
     * @throws IllegalArgumentException when {@code data} is empty or not a whole number of pages
     * @throws IllegalStateException    after {@link #close()}
     */
    public void write(long address, byte[] data) throws HmmException {
        if (data.length == 0 || data.length % pageSize != 0) {
            throw new IllegalArgumentException("data must be a whole number of " + pageSize + "-byte pages, got "
                    + data.length + " bytes");
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(data.length, pageSize);
            MemorySegment.copy(data, 0, buf, ValueLayout.JAVA_BYTE, 0, data.length);
            rw(Command.WRITE, address, data.length / pageSize, buf);
        }
    }

    /** The READ/WRITE command with a caller-provided buffer; returns pages faulted on the way. */
    private long rw(Command command, long address, long pages, MemorySegment buffer) throws HmmException {
        Scratch scratch = Scratch.get(); // this thread's: a read or write allocates nothing
        MemorySegment r = scratch.rw;
        hmm_mirror_rw.size(r, (int) hmm_mirror_rw.sizeof());
        hmm_mirror_rw.addr(r, address);
        hmm_mirror_rw.npages(r, pages);
        hmm_mirror_rw.ptr(r, buffer.address());
        hmm_mirror_rw.faulted(r, 0);
        issue(command, r, scratch.errno);
        return hmm_mirror_rw.faulted(r);
    }

    /**
     * Each thread's command structs for the hot commands (fault, read, write), zeroed once, and its
     * errno capture segment: the kernel never writes the structs' reserved words and every other
     * field is set before each call, so they are reused instead of allocating a confined arena per
     * call, and one thread-local lookup per command serves both (under TCG each costs a noticeable
     * part of a one-page command; docs/performance.md, 'Java vs C').
     */
    private static final class Scratch {
        private static final ThreadLocal<Scratch> MINE = ThreadLocal.withInitial(Scratch::new);

        final MemorySegment range;
        final MemorySegment rw;
        final MemorySegment errno;

        private Scratch() {
            Arena arena = Arena.ofAuto();
            range = hmm_mirror_range.allocate(arena);
            rw = hmm_mirror_rw.allocate(arena);
            errno = DeviceFile.errnoSegment(arena);
        }

        static Scratch get() {
            return MINE.get();
        }
    }

    /**
     * The map order {@code hmm_range_fault()} reports for each page of a range, without faulting anything
     * ({@code HMM_MIRROR_IOC_SNAPSHOT} with {@code HMM_MIRROR_SNAPSHOT_MAP_ORDER}): 0 for a page mapped by
     * a page-table entry, the order of the PMD (or PUD, or hugetlb page) mapping it otherwise, 0 for a page
     * it reports as not valid. With {@link Capability#MAP_ORDER}.
     *
     * @param address page-aligned first address
     * @param pages   number of pages, 1 .. {@link dev.hmmmirror.raw.Abi#MAX_PAGES}
     * @return one order per page, in address order
     * @throws HmmException             as for {@link #snapshot(long, long)}; {@link Errno#EINVAL} also from
     *                                  a module without {@link Capability#MAP_ORDER}
     * @throws IllegalArgumentException when {@code pages} is not 1 .. {@link Integer#MAX_VALUE}
     * @throws IllegalStateException    after {@link #close()}
     */
    public byte[] mapOrders(long address, long pages) throws HmmException {
        if (pages <= 0 || pages > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("pages must be 1.." + Integer.MAX_VALUE + ", got " + pages);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment orders = arena.allocate(pages);
            MemorySegment s = hmm_mirror_snapshot.allocate(arena);
            hmm_mirror_snapshot.size(s, (int) hmm_mirror_snapshot.sizeof());
            hmm_mirror_snapshot.flags(s, HmmMirrorH.HMM_MIRROR_SNAPSHOT_MAP_ORDER());
            hmm_mirror_snapshot.addr(s, address);
            hmm_mirror_snapshot.npages(s, pages);
            hmm_mirror_snapshot.ptr(s, orders.address());
            issue(Command.SNAPSHOT, s);
            return orders.toArray(ValueLayout.JAVA_BYTE);
        }
    }

    /**
     * The state of each page of a range, without faulting anything ({@code HMM_MIRROR_IOC_SNAPSHOT}):
     * the CPU page table as {@code hmm_range_fault()} sees it without {@code HMM_PFN_REQ_FAULT}, and the
     * device page table, read together under the mirror's lock.
     *
     * @param address page-aligned first address
     * @param pages   number of pages, 1 .. {@link dev.hmmmirror.raw.Abi#MAX_PAGES}
     * @return one set of states per page; pages without a readable mapping are
     *         {@link PageState#INACCESSIBLE}, not an error
     * @throws HmmException             {@link Errno#EINVAL} for a bad range, {@link Errno#EBUSY} when the
     *                                  range kept being invalidated for the retry deadline (1 s),
     *                                  {@link Errno#EINTR} on a fatal signal, {@link Errno#ENOMEM}
     * @throws IllegalArgumentException when {@code pages} is not 1 .. {@link Integer#MAX_VALUE}
     * @throws IllegalStateException    after {@link #close()}
     */
    public Snapshot snapshot(long address, long pages) throws HmmException {
        if (pages <= 0 || pages > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("pages must be 1.." + Integer.MAX_VALUE + ", got " + pages);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment states = arena.allocate(pages);
            MemorySegment s = hmm_mirror_snapshot.allocate(arena);
            hmm_mirror_snapshot.size(s, (int) hmm_mirror_snapshot.sizeof());
            hmm_mirror_snapshot.addr(s, address);
            hmm_mirror_snapshot.npages(s, pages);
            hmm_mirror_snapshot.ptr(s, states.address());
            issue(Command.SNAPSHOT, s);
            List<Set<PageState>> list = new ArrayList<>((int) pages);
            for (long i = 0; i < pages; i++) {
                list.add(PageState.decode(states.get(ValueLayout.JAVA_BYTE, i)));
            }
            return new Snapshot(address, list);
        }
    }

    /**
     * The physical pages the CPU and the device map over a range, and the CPU pages' reference and
     * map counts, without faulting anything: the way to see that the device follows a page the
     * kernel moved, and that mirroring takes no reference ({@code HMM_MIRROR_IOC_PAGES}).
     *
     * @param address page-aligned first address
     * @param pages   number of pages, 1 .. {@link dev.hmmmirror.raw.Abi#MAX_PAGES}
     * @return one frame per page, in address order (unmodifiable)
     * @throws HmmException             {@link Errno#EPERM} without {@code CAP_SYS_ADMIN} (page frame numbers are
     *                                  as sensitive as {@code /proc/PID/pagemap}'s), {@link Errno#EINVAL} for a
     *                                  bad range, {@link Errno#EBUSY}, {@link Errno#EINTR} as for
     *                                  {@link #snapshot(long, long)}
     * @throws IllegalArgumentException when {@code pages} is below 1 or its array would exceed 2 GiB
     * @throws IllegalStateException    after {@link #close()}
     */
    public List<PageFrame> pageFrames(long address, long pages) throws HmmException {
        if (pages <= 0 || pages > Integer.MAX_VALUE / hmm_mirror_page.sizeof()) {
            throw new IllegalArgumentException("pages must be 1.." + Integer.MAX_VALUE / hmm_mirror_page.sizeof()
                    + ", got " + pages);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment frames = hmm_mirror_page.allocateArray(pages, arena);
            MemorySegment s = hmm_mirror_pages.allocate(arena);
            hmm_mirror_pages.size(s, (int) hmm_mirror_pages.sizeof());
            hmm_mirror_pages.addr(s, address);
            hmm_mirror_pages.npages(s, pages);
            hmm_mirror_pages.ptr(s, frames.address());
            issue(Command.PAGES, s);
            List<PageFrame> list = new ArrayList<>((int) pages);
            for (long i = 0; i < pages; i++) {
                MemorySegment f = hmm_mirror_page.asSlice(frames, i);
                list.add(new PageFrame(hmm_mirror_page.cpu_pfn(f), hmm_mirror_page.dev_pfn(f),
                        hmm_mirror_page.refcount(f), hmm_mirror_page.mapcount(f)));
            }
            return List.copyOf(list);
        }
    }

    /**
     * The state of each page of {@code memory}.
     *
     * @param memory the range to report, whole: a page it gave up ({@link Memory#unmap}) reports what maps
     *               that address now
     * @return one set of states per page of {@code memory}
     * @throws HmmException          as for {@link #snapshot(long, long)}
     * @throws IllegalStateException after {@link #close()}
     */
    public Snapshot snapshot(Memory memory) throws HmmException {
        return snapshot(memory.address(), memory.pages());
    }

    /**
     * This mirror's counters ({@code HMM_MIRROR_IOC_COUNTERS}).
     *
     * @return the counters now; each only grows for the life of this mirror (the open file)
     * @throws HmmException          {@link Errno#EINVAL} when the module's struct size differs from these
     *                               bindings', {@link Errno#EPERM} from another process
     * @throws IllegalStateException after {@link #close()}
     */
    public Counters counters() throws HmmException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment c = hmm_mirror_counters.allocate(arena);
            hmm_mirror_counters.size(c, (int) hmm_mirror_counters.sizeof());
            issue(Command.COUNTERS, c);
            return new Counters(hmm_mirror_counters.faults(c), hmm_mirror_counters.pages_faulted(c),
                    hmm_mirror_counters.fault_retries(c), hmm_mirror_counters.invalidations(c),
                    hmm_mirror_counters.pages_invalidated(c), hmm_mirror_counters.events_dropped(c),
                    hmm_mirror_counters.device_reads(c), hmm_mirror_counters.device_writes(c),
                    hmm_mirror_counters.migrated_to_device(c), hmm_mirror_counters.migrated_to_system(c),
                    hmm_mirror_counters.cpu_fault_migrations(c), hmm_mirror_counters.exclusive_grants(c),
                    hmm_mirror_counters.exclusive_revocations(c), hmm_mirror_counters.device_atomics(c),
                    hmm_mirror_counters.device_private_reads(c));
        }
    }

    /**
     * Moves the private anonymous pages of a range into this device's memory
     * ({@code migrate_vma_*}). The device page table then maps them; a CPU access moves a page
     * back. Never-touched pages move as zero pages; holes between mappings are skipped.
     * In a private file mapping only the pages the process wrote (its anonymous copies) move.
     *
     * @param address page-aligned first address
     * @param pages   number of pages, 1 .. {@link dev.hmmmirror.raw.Abi#MAX_PAGES}
     * @return pages moved, and pages skipped (holes, pages already in device memory or held by another
     *         device, pages the kernel could not isolate, failed copies)
     * @throws MissingCapabilityException on a kernel without {@code CONFIG_DEVICE_PRIVATE}
     * @throws HmmException {@link Errno#EINVAL} for a shared or PROT_NONE mapping in the range (or a bad
     *                      range; pages of mappings before it may have moved already),
     *                      {@link Errno#EFAULT} when nothing in the range is mapped, {@link Errno#ENOMEM}
     *                      when device memory ({@code dmem_mib}) ran out before any page moved
     * @throws IllegalStateException after {@link #close()}
     */
    public Migration migrateToDevice(long address, long pages) throws HmmException {
        return migrate(Command.MIGRATE_TO_DEV, address, pages);
    }

    /**
     * Moves the pages of a range that are in this device's memory back to system memory
     * ({@code HMM_MIRROR_IOC_MIGRATE_TO_SYS}); other pages are skipped.
     *
     * @param address page-aligned first address
     * @param pages   number of pages, 1 .. {@link dev.hmmmirror.raw.Abi#MAX_PAGES}
     * @return pages moved back, and pages skipped (not in this device's memory, holes, failed
     *         allocations or copies)
     * @throws MissingCapabilityException on a kernel without {@code CONFIG_DEVICE_PRIVATE}
     * @throws HmmException          as for {@link #migrateToDevice}: the module checks the range and its
     *                               mappings the same way ({@link Errno#EINVAL}, {@link Errno#EFAULT})
     * @throws IllegalStateException after {@link #close()}
     */
    public Migration migrateToSystem(long address, long pages) throws HmmException {
        return migrate(Command.MIGRATE_TO_SYS, address, pages);
    }

    private Migration migrate(Command command, long address, long pages) throws HmmException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = hmm_mirror_migrate.allocate(arena);
            hmm_mirror_migrate.size(m,
                    (int) hmm_mirror_migrate.sizeof());
            hmm_mirror_migrate.addr(m, address);
            hmm_mirror_migrate.npages(m, pages);
            issue(command, m);
            return new Migration(hmm_mirror_migrate.migrated(m),
                    hmm_mirror_migrate.skipped(m));
        }
    }

    /**
     * Takes the pages of a range exclusive for the device ({@code make_device_exclusive}): the CPU
     * page table holds device-exclusive entries until the CPU touches a page, which revokes it.
     * Pages are taken one at a time; on failure the pages before the failing one stay exclusive.
     *
     * @param address page-aligned first address
     * @param pages   number of pages, 1 .. {@link dev.hmmmirror.raw.Abi#MAX_PAGES}
     * @return pages made exclusive: {@code pages} (the call throws otherwise)
     * @throws MissingCapabilityException on a kernel without {@code CONFIG_DEVICE_PRIVATE}
     * @throws HmmException {@link Errno#EFAULT} for an unmapped page, {@link Errno#EPERM} for a mapping
     *                      without write permission, {@link Errno#EBUSY} when a page kept changing,
     *                      {@link Errno#EOPNOTSUPP} for a page {@code make_device_exclusive} refuses
     *                      (shared, file-backed, hugetlb), {@link Errno#EINVAL} for a bad range
     * @throws IllegalStateException after {@link #close()}
     */
    public long makeExclusive(long address, long pages) throws HmmException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment r = hmm_mirror_range.allocate(arena);
            hmm_mirror_range.size(r, (int) hmm_mirror_range.sizeof());
            hmm_mirror_range.addr(r, address);
            hmm_mirror_range.npages(r, pages);
            issue(Command.EXCLUSIVE, r);
            return hmm_mirror_range.faulted(r);
        }
    }

    /**
     * A device atomic fetch-and-add on the 64-bit word at {@code address} (8-byte aligned), through a
     * device-exclusive mapping of its page (taken first when needed).
     *
     * @param address 8-byte aligned address of the word
     * @param value   what to add (two's complement: a negative value subtracts)
     * @return the word's value before the addition
     * @throws MissingCapabilityException on a kernel without {@code CONFIG_DEVICE_PRIVATE}
     * @throws HmmException {@link Errno#EINVAL} for a misaligned address, else as for
     *                      {@link #makeExclusive} of its page
     * @throws IllegalStateException after {@link #close()}
     */
    public long atomicAdd(long address, long value) throws HmmException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = hmm_mirror_atomic.allocate(arena);
            hmm_mirror_atomic.size(a, (int) hmm_mirror_atomic.sizeof());
            hmm_mirror_atomic.addr(a, address);
            hmm_mirror_atomic.value(a, value);
            issue(Command.ATOMIC_ADD, a);
            return hmm_mirror_atomic.old(a);
        }
    }

    /**
     * Makes the device slow: every invalidation waits {@code delay} before the device page table is
     * updated (the kernel waits for it, as for a real device's TLB shootdown). Zero turns it off.
     * While a delay is set the mirror refuses invalidations that may not sleep (non-blockable
     * {@code mmu_notifier} ranges, e.g. from the OOM reaper), so the kernel retries or gives them up.
     *
     * @param delay how long each invalidation waits, 0 .. 10 s; truncated to whole microseconds
     * @throws HmmException          {@link Errno#EINVAL} for a delay over 10 s ({@code HMM_MIRROR_MAX_DELAY_US})
     *                               or a negative one
     * @throws IllegalStateException after {@link #close()}
     */
    public void setDeviceDelay(Duration delay) throws HmmException {
        long us = delay.toNanos() / 1000;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment d = hmm_mirror_delay.allocate(arena);
            hmm_mirror_delay.size(d, (int) hmm_mirror_delay.sizeof());
            hmm_mirror_delay.delay_us(d, us);
            issue(Command.SET_DELAY, d);
        }
    }

    /**
     * Injects faults into this mirror's error and fallback paths (see {@link FaultInjection}):
     * replaces every setting with {@code injection} ({@link FaultInjection#NONE} turns injection
     * off) and returns the settings it replaced, i.e. what was still pending, so a test sees how
     * many injected failures its commands consumed.
     *
     * @param injection the settings to install
     * @return the settings replaced: the counts not yet consumed, and the previous copy delay
     * @throws HmmException          {@link Errno#EINVAL} for a copy delay over 100 ms
     *                               ({@code HMM_MIRROR_MAX_COPY_DELAY_US})
     * @throws IllegalStateException after {@link #close()}
     */
    public FaultInjection injectFaults(FaultInjection injection) throws HmmException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment in = hmm_mirror_inject.allocate(arena);
            hmm_mirror_inject.size(in, (int) hmm_mirror_inject.sizeof());
            hmm_mirror_inject.fail_alloc(in, injection.failedAllocations());
            hmm_mirror_inject.fault_busy(in, injection.busyFaults());
            hmm_mirror_inject.fail_copy(in, injection.failedCopies());
            hmm_mirror_inject.copy_delay_us(in, (int) (injection.copyDelay().toNanos() / 1000));
            issue(Command.INJECT, in);
            return new FaultInjection(hmm_mirror_inject.fail_alloc(in), hmm_mirror_inject.fault_busy(in),
                    hmm_mirror_inject.fail_copy(in), Duration.ofNanos(1000L * hmm_mirror_inject.copy_delay_us(in)));
        }
    }

    /**
     * Scopes this mirror's invalidation events to a range: adds {@code [address, address + bytes)} to
     * the mirror's event scope ({@code HMM_MIRROR_IOC_EVENT_SCOPE}, {@code HMM_MIRROR_SCOPE_ADD}). While the
     * scope holds a range, the kernel records only invalidations whose range overlaps one of the scope's
     * ranges, each with the kernel's full range (which may reach past the scope); the others are not
     * queued at all, so a {@code fork()} of the JVM or its own {@code munmap}s elsewhere cannot fill the
     * ring of {@link dev.hmmmirror.raw.Abi#EVENT_RING} events. The scope filters what is reported, never
     * coherence: every invalidation still removes the device's mappings it covers and counts in
     * {@link Counters#invalidations()}. Sequence numbers ({@link Invalidation#seq()}) count recorded events
     * only, so filtering leaves no gap. The change applies to the invalidations that follow: events already
     * queued stay. Ranges may overlap; each call takes one of the {@link dev.hmmmirror.raw.Abi#SCOPE_RANGES}
     * (16) slots and nothing is merged; {@link #clearEventScope()} empties the scope. The range need not be
     * mapped.
     *
     * @param address page-aligned first address of the range
     * @param bytes   length of the range in bytes: a positive multiple of {@link #pageSize()}, and the range
     *                ends at most at the top of the user address space ({@code TASK_SIZE})
     * @throws MissingCapabilityException on a module without {@link Capability#EVENT_SCOPE} (older than the
     *                                    command, which it refuses with {@link Errno#ENOTTY})
     * @throws HmmException               {@link Errno#EINVAL} when {@code address} or {@code bytes} is not page
     *                                    aligned, {@code bytes} is not positive or the range ends past
     *                                    {@code TASK_SIZE}; {@link Errno#ENOSPC} when the scope holds 16 ranges
     *                                    already; {@link Errno#EPERM} from another process
     * @throws IllegalStateException      after {@link #close()}
     */
    public void scopeEvents(long address, long bytes) throws HmmException {
        eventScope(HmmMirrorH.HMM_MIRROR_SCOPE_ADD(), address, address + bytes);
    }

    /**
     * Scopes this mirror's invalidation events to all of {@code memory}: as
     * {@link #scopeEvents(long, long)} with its address and {@link Memory#byteSize()}.
     *
     * @param memory the range to add to the scope, whole (pages it gave up with {@link Memory#unmap} included:
     *               the scope is a range of addresses, whatever maps them)
     * @throws MissingCapabilityException on a module without {@link Capability#EVENT_SCOPE}
     * @throws HmmException               as for {@link #scopeEvents(long, long)}: {@link Errno#ENOSPC} when the
     *                                    scope holds 16 ranges already
     * @throws IllegalStateException      after {@link #close()}
     */
    public void scopeEvents(Memory memory) throws HmmException {
        scopeEvents(memory.address(), memory.byteSize());
    }

    /**
     * Empties this mirror's event scope ({@code HMM_MIRROR_IOC_EVENT_SCOPE}, {@code HMM_MIRROR_SCOPE_CLEAR}):
     * every invalidation that follows is recorded again, as on a mirror that was never scoped. Events
     * already queued stay. Clearing an empty scope does nothing.
     *
     * @throws MissingCapabilityException on a module without {@link Capability#EVENT_SCOPE}
     * @throws HmmException               {@link Errno#EPERM} from another process
     * @throws IllegalStateException      after {@link #close()}
     */
    public void clearEventScope() throws HmmException {
        eventScope(HmmMirrorH.HMM_MIRROR_SCOPE_CLEAR(), 0, 0);
    }

    private void eventScope(int flags, long start, long end) throws HmmException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = hmm_mirror_event_scope.allocate(arena);
            hmm_mirror_event_scope.size(s, (int) hmm_mirror_event_scope.sizeof());
            hmm_mirror_event_scope.flags(s, flags);
            hmm_mirror_event_scope.start(s, start);
            hmm_mirror_event_scope.end(s, end);
            issue(Command.EVENT_SCOPE, s);
        }
    }

    /**
     * The invalidations received so far and not yet returned, waiting up to {@code timeout} for the
     * first one ({@code poll(2)}, then {@code read(2)} of whole {@code struct hmm_mirror_event}s until
     * none is pending). Events are consumed: each is returned once. The kernel keeps at most
     * {@link dev.hmmmirror.raw.Abi#EVENT_RING} of them and drops the oldest when full (then
     * {@link Invalidation#afterOverflow()} is set and {@link Counters#eventsDropped()} grows). With an
     * event scope ({@link #scopeEvents(long, long)}) only the invalidations overlapping it were recorded.
     *
     * @param timeout how long to wait for the first event, at millisecond resolution; zero or negative
     *                does not wait
     * @return the events in stream order, empty when none arrived in time
     * @throws HmmException          with the errno of {@code poll} or {@code read}
     * @throws IllegalStateException after {@link #close()}
     */
    public List<Invalidation> invalidations(Duration timeout) throws HmmException {
        List<Invalidation> out = new ArrayList<>();
        long size = hmm_mirror_event.sizeof();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(size * EVENT_BATCH, 8);
            int wait = (int) Math.min(Integer.MAX_VALUE, Math.max(0, timeout.toMillis()));
            while (true) {
                long n;
                try {
                    n = file.readEvents(buf, out.isEmpty() ? wait : 0);
                } finally {
                    Reference.reachabilityFence(this); // the cleaner must not close the file under a read
                }
                if (n <= 0) {
                    return out;
                }
                for (long off = 0; off + size <= n; off += size) {
                    MemorySegment e = buf.asSlice(off, size);
                    out.add(Invalidation.of(hmm_mirror_event.seq(e), hmm_mirror_event.start(e),
                            hmm_mirror_event.end(e), hmm_mirror_event.notifier_seq(e), hmm_mirror_event.reason(e),
                            hmm_mirror_event.flags(e), hmm_mirror_event.pages(e)));
                }
            }
        }
    }

    /**
     * The invalidations received so far and not yet returned, without waiting.
     *
     * @return the events in stream order, possibly empty
     * @throws HmmException          with the errno of {@code poll} or {@code read}
     * @throws IllegalStateException after {@link #close()}
     */
    public List<Invalidation> invalidations() throws HmmException {
        return invalidations(Duration.ZERO);
    }

    private void issue(Command command, MemorySegment arg) throws HmmException {
        try {
            issue(file, capabilities, command, arg);
        } finally {
            Reference.reachabilityFence(this); // the cleaner must not close the file under a command
        }
    }

    /** {@link #issue(Command, MemorySegment)} with this thread's errno capture segment (the hot commands). */
    private void issue(Command command, MemorySegment arg, MemorySegment errno) throws HmmException {
        try {
            int rc = file.issue(command.request(), arg, errno);
            if (rc < 0) {
                throw CommandErrors.exception(command, file.path(), -rc, capabilities);
            }
        } finally {
            Reference.reachabilityFence(this); // the cleaner must not close the file under a command
        }
    }

    private static void issue(DeviceFile file, Set<Capability> capabilities, Command command, MemorySegment arg)
            throws HmmException {
        int rc = file.issue(command, arg);
        if (rc < 0) {
            throw CommandErrors.exception(command, file.path(), -rc, capabilities);
        }
    }

    /**
     * Whether {@link #close()} was called.
     *
     * @return whether this mirror was closed (its descriptor may still be in use by calls in flight)
     */
    public boolean isClosed() {
        return file.isClosed();
    }

    /**
     * Closes the device file; the kernel removes the mirror and its notifier. Idempotent. The release
     * (when the last reference to the open file goes: a forked child's copy of the descriptor keeps it)
     * first migrates every page this mirror moved to device memory back to system memory. Calls in
     * flight on other threads finish first: the descriptor is closed when the last returns.
     *
     * @throws HmmException with the errno of {@code close(2)}
     */
    @Override
    public void close() throws HmmException {
        file.close();
    }

    @Override
    public String toString() {
        return "Mirror[" + device.path() + (isClosed() ? ", closed]" : "]");
    }
}
