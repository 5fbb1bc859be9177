package dev.hmmmirror.explorer.driver;

import dev.hmmmirror.Access;
import dev.hmmmirror.CopyOnWriteChild;
import dev.hmmmirror.Counters;
import dev.hmmmirror.Errno;
import dev.hmmmirror.HmmException;
import dev.hmmmirror.Invalidation;
import dev.hmmmirror.Memory;
import dev.hmmmirror.Migration;
import dev.hmmmirror.Mirror;
import dev.hmmmirror.PageFrame;
import dev.hmmmirror.Snapshot;
import dev.hmmmirror.explorer.engine.Violation;
import dev.hmmmirror.explorer.engine.Stats;
import dev.hmmmirror.explorer.model.Kind;
import dev.hmmmirror.explorer.sys.Kernel;
import dev.hmmmirror.raw.Mm;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The system under test, driven: the mirrors of a program (through {@link Mirror}), its regions
 * (through {@link Memory}) and the few calls beyond the API ({@link Kernel}, {@link Mm}). Every
 * system call and ioctl a step or a check makes goes through here, where it is counted
 * ({@link Stats#calls}) and, for the mirror commands the module may refuse with EBUSY, retried
 * ({@link #busy}). It holds no expectation: what the calls should return is the model's business.
 */
public final class Driver implements AutoCloseable {
    private static final int PAGE = (int) Memory.pageSize();

    private final Stats stats;
    private final int[] devices;
    private final Mirror[] mirrors;
    private final Memory[] regions;
    private final List<long[]> guards = new ArrayList<>();
    private final List<Path> files = new ArrayList<>();
    private final List<Memory> retired = new ArrayList<>();
    private final Path dir;
    /** The RDMA steps' rxe device and regions, opened on the first RDMA step. */
    private RdmaSide rdma;

    private Driver(int[] devices, int regions, Stats stats) throws IOException {
        this.stats = stats;
        this.devices = devices.clone();
        this.mirrors = new Mirror[devices.length];
        this.regions = new Memory[regions];
        this.dir = Files.createTempDirectory(Kernel.tmpfs(), "hmm-explorer");
    }

    /** Opens mirror {@code i} on device {@code devices[i]}, with room for {@code regions} regions. */
    public static Driver open(int[] devices, int regions, Stats stats) throws Exception {
        Driver d = new Driver(devices, regions, stats);
        try {
            for (int i = 0; i < devices.length; i++) {
                d.mirrors[i] = Mirror.open(devices[i]);
            }
            return d;
        } catch (Exception | Error e) {
            d.close();
            throw e;
        }
    }

    /** The statistics the calls are counted in. */
    public Stats stats() {
        return stats;
    }

    // ---- regions ----------------------------------------------------------------------------------

    /** Maps region {@code slot} of {@code kind}: {@code pages} base pages, or one huge page; its address. */
    public long map(int slot, Kind kind, int pages) throws Exception {
        Memory m = switch (kind) {
            case ANONYMOUS -> Memory.anonymous(pages);
            case SHARED -> Memory.sharedAnonymous(pages);
            case MEMFD -> Memory.memfd(pages);
            case FILE -> {
                Path f = dir.resolve("region-" + files.size());
                files.add(f);
                yield Memory.file(f, pages);
            }
            case THP -> Memory.hugeAnonymous(1);
            case HUGETLB -> Memory.hugetlb(1);
        };
        regions[slot] = m;
        stats.calls++;
        return m.address();
    }

    /** Base pages of region {@code slot} as mapped. */
    public int pages(int slot) {
        return (int) regions[slot].pages();
    }

    /** The CPU writes a 64-bit word at byte {@code offset} of region {@code slot}. */
    public void setLong(int slot, long offset, long value) {
        regions[slot].setLong(offset, value);
    }

    /** The CPU reads {@code length} bytes at {@code offset} of region {@code slot}. */
    public byte[] bytes(int slot, long offset, int length) {
        return regions[slot].bytes(offset, length);
    }

    /** {@code munmap} of pages [first, end) of region {@code slot}. */
    public void unmap(int slot, int first, int end) throws HmmException {
        regions[slot].unmap(first, end - first);
        stats.calls++;
    }

    /** Maps a guard (inaccessible, never moved) over pages [first, end) of region {@code slot}: 0 or a negative errno. */
    public int guard(int slot, int first, int end) {
        long address = regions[slot].pageAddress(first);
        long length = (long) (end - first) * PAGE;
        int rc = Kernel.guard(address, length);
        if (rc == 0) {
            guards.add(new long[] {address, length});
        }
        return rc;
    }

    /** {@code mprotect} of pages [first, end) of region {@code slot}. */
    public void protect(int slot, int first, int end, Memory.Protection protection) throws HmmException {
        regions[slot].protect(first, end - first, protection);
        stats.calls++;
    }

    /** {@code MADV_DONTNEED} of pages [first, end) of region {@code slot}. */
    public void dontNeed(int slot, int first, int end) throws HmmException {
        regions[slot].adviseDontNeed(first, end - first);
        stats.calls++;
    }

    /** {@code MADV_PAGEOUT} of pages [first, end) of region {@code slot}: 0 or a negative errno. */
    public int pageOut(int slot, int first, int end) {
        int rc = Mm.madvise(regions[slot].pageAddress(first), (long) (end - first) * PAGE, Mm.MADV_PAGEOUT);
        stats.calls++;
        return rc;
    }

    /**
     * {@code mremap} of region {@code slot} to a new address {@code offset} bytes past a huge-page
     * boundary ({@code keepOld}: {@code MREMAP_DONTUNMAP}); its new address. The old mapping stays
     * this driver's until {@link #releaseRetired}.
     */
    public long remap(int slot, long offset, boolean keepOld) throws Exception {
        forgetRdma(slot); // the ODP region covers the old addresses
        Memory old = regions[slot];
        regions[slot] = old.remap(offset, keepOld);
        stats.calls++;
        retired.add(old);
        return regions[slot].address();
    }

    /** Closes what {@link #remap} left of the old mappings. */
    public void releaseRetired() {
        for (Memory m : retired) {
            m.close();
        }
        retired.clear();
    }

    /** Closes region {@code slot} (nothing of it is left mapped). */
    public void release(int slot) throws Exception {
        forgetRdma(slot);
        regions[slot].close();
        regions[slot] = null;
    }

    /** Times a refused fork is tried again, after a compaction, before it fails the program. */
    private static final int FORK_RETRIES = 5;

    /** Forks; the child writes {@code value} at {@code address}, then exits. */
    public void forkChildWrite(long address, long value) throws Exception {
        CopyOnWriteChild forked = forkRetrying();
        try (CopyOnWriteChild child = forked) {
            stats.calls++;
            Kernel.writeWord(child.pid(), address, value);
        }
    }

    /**
     * Forks the copy-on-write child; a fork refused for memory (ENOMEM, EAGAIN: once seen after 30
     * minutes of a debug-kernel campaign, when an order-3 kernel stack of KASAN could not be had)
     * is tried again after compacting memory, and only then fails, saying what the guest had left
     * so that a refused fork can be told from a leak.
     */
    private CopyOnWriteChild forkRetrying() throws Exception {
        for (int attempt = 0; ; attempt++) {
            try {
                return CopyOnWriteChild.fork();
            } catch (HmmException e) {
                boolean memory = e.errno() == Errno.ENOMEM.number() || e.errno() == Errno.EAGAIN.number();
                if (!memory || attempt == FORK_RETRIES) {
                    throw new Violation("fork-refused", e.getMessage() + " (" + (attempt + 1) + " tries); guest memory: "
                            + Kernel.memorySummary());
                }
                System.err.println("explorer: fork refused (" + Errno.name(e.errno()) + "), compacting and trying again; "
                        + "guest memory: " + Kernel.memorySummary());
                Kernel.compact();
                Thread.sleep(100L << attempt);
            }
        }
    }

    /** {@code move_pages(2)} of {@code addresses} to {@code node} (or, below 0, where they are). */
    public int[] movePages(long[] addresses, int node) {
        int[] status = Kernel.movePages(addresses, node);
        stats.calls++;
        return status;
    }

    /** Compacts memory. */
    public void compact() {
        Kernel.compact();
        stats.calls++;
    }

    // ---- mirrors --------------------------------------------------------------------------------

    /** The device of mirror {@code slot}. */
    public int device(int slot) {
        return devices[slot];
    }

    /** A device fault through mirror {@code slot}; the pages faulted. */
    public long fault(int slot, long address, int pages, Access access) throws HmmException {
        return busy(() -> mirrors[slot].fault(address, pages, access));
    }

    /** A device read through mirror {@code slot}. */
    public byte[] read(int slot, long address, int pages) throws HmmException {
        return busy(() -> mirrors[slot].read(address, pages));
    }

    /** A device write through mirror {@code slot}. */
    public void write(int slot, long address, byte[] data) throws HmmException {
        busy(() -> {
            mirrors[slot].write(address, data);
            return null;
        });
    }

    /** Moves pages to the device memory of mirror {@code slot} (or, {@code toDevice} false, back). */
    public Migration migrate(int slot, long address, int pages, boolean toDevice) throws HmmException {
        stats.calls++;
        return toDevice ? mirrors[slot].migrateToDevice(address, pages) : mirrors[slot].migrateToSystem(address, pages);
    }

    /** Takes pages exclusive for the device of mirror {@code slot}; the pages granted. */
    public long makeExclusive(int slot, long address, int pages) throws HmmException {
        return busy(() -> mirrors[slot].makeExclusive(address, pages));
    }

    /** A device atomic add through mirror {@code slot}; the old value. */
    public long atomicAdd(int slot, long address, long value) throws HmmException {
        stats.calls++;
        return mirrors[slot].atomicAdd(address, value);
    }

    /** Closes mirror {@code slot} and opens a new one on its device. */
    public void reopen(int slot) throws HmmException {
        mirrors[slot].close();
        stats.calls++;
        mirrors[slot] = Mirror.open(devices[slot]);
        stats.calls++;
    }

    /** Sets the slow-device delay of mirror {@code slot}. */
    public void delay(int slot, int micros) throws HmmException {
        mirrors[slot].setDeviceDelay(Duration.ofNanos(micros * 1000L));
        stats.calls++;
    }

    /** The page frames the CPU and the device of mirror {@code slot} map at each page. */
    public List<PageFrame> pageFrames(int slot, long address, int pages) throws HmmException {
        List<PageFrame> frames = mirrors[slot].pageFrames(address, pages);
        stats.calls++;
        return frames;
    }

    /** The page states mirror {@code slot} sees, after EBUSY again. */
    public Snapshot snapshot(int slot, long address, int pages) throws HmmException {
        return busy(() -> mirrors[slot].snapshot(address, pages));
    }

    /** The map orders mirror {@code slot}'s walk reports (MAP_ORDER), after EBUSY again. */
    public byte[] mapOrders(int slot, long address, int pages) throws HmmException {
        return busy(() -> mirrors[slot].mapOrders(address, pages));
    }

    /** The page states mirror {@code slot} sees, asked once (for a trace, which must not fail a step). */
    public Snapshot snapshotOnce(int slot, long address, int pages) throws HmmException {
        stats.calls++;
        return mirrors[slot].snapshot(address, pages);
    }

    /** The counters of mirror {@code slot}. */
    public Counters counters(int slot) throws HmmException {
        stats.calls++;
        return mirrors[slot].counters();
    }

    /** The invalidation events mirror {@code slot} has not returned yet. */
    public List<Invalidation> invalidations(int slot) throws HmmException {
        stats.calls++;
        return mirrors[slot].invalidations();
    }

    // ---- the second mirror: rxe On-Demand Paging ---------------------------------------------------

    /**
     * What an RDMA step gave.
     *
     * @param status the work completion's error status ({@code REM_ACCESS_ERR} ...), null when it completed
     * @param bytes  what a READ read (null otherwise)
     * @param old    the word's value before an atomic
     */
    public record RdmaResult(String status, byte[] bytes, long old) {}

    private RdmaSide rdma() throws Exception {
        if (rdma == null) {
            rdma = RdmaSide.open(stats, regions.length);
        }
        return rdma;
    }

    private void forgetRdma(int slot) throws Exception {
        if (rdma != null) {
            rdma.forget(slot);
        }
    }

    /** Why the guest cannot do RDMA steps (rxe with On-Demand Paging READ, WRITE and atomics), or empty. */
    public static java.util.Optional<String> rdmaMissing() {
        return RdmaSide.missing();
    }

    /**
     * RDMA READ, through an rxe On-Demand Paging region over region {@code slot} (registered on the
     * first RDMA step on it), of {@code pages} pages (at most 16) from page {@code first}.
     */
    public RdmaResult rdmaRead(int slot, int first, int pages) throws Exception {
        return rdma().read(slot, regions[slot], (long) first * PAGE, pages);
    }

    /** RDMA WRITE of {@code data} (at most 16 whole pages) from page {@code first} of region {@code slot}. */
    public RdmaResult rdmaWrite(int slot, int first, byte[] data) throws Exception {
        return rdma().write(slot, regions[slot], (long) first * PAGE, data);
    }

    /** RDMA atomic fetch-and-add of {@code add} on the 64-bit word at byte {@code offset} of region {@code slot}. */
    public RdmaResult rdmaFetchAndAdd(int slot, long offset, long add) throws Exception {
        return rdma().fetchAndAdd(slot, regions[slot], offset, add);
    }

    /** A mirror command that may meet EBUSY. */
    private interface Command<T> {
        T call() throws HmmException;
    }

    /** Retries after the module gave up on a range that kept being invalidated. */
    private static final int BUSY_RETRIES = 8;

    /**
     * Runs {@code c}, again after each EBUSY (the module's documented "the range kept being
     * invalidated while faulting; retry": under a debug kernel in TCG one hmm_range_fault() walk
     * can outlast the module's 1 s retry deadline, so that any invalidation of the process during
     * it gives EBUSY), at most {@link #BUSY_RETRIES} times: EBUSY every time is a livelock and a
     * failure. The commands retried (fault, device read and write, exclusive grant, snapshot)
     * repeat the same effect, so a retry ends in the state of one successful call. Each try is
     * one call.
     */
    private <T> T busy(Command<T> c) throws HmmException {
        for (int attempt = 0; ; attempt++) {
            try {
                T result = c.call();
                stats.calls++;
                return result;
            } catch (HmmException e) {
                if (e.errno() != Errno.EBUSY.number() || attempt == BUSY_RETRIES) {
                    if (e.errno() == Errno.EBUSY.number()) {
                        throw new Violation("livelock", "EBUSY " + (attempt + 1) + " times in a row: " + e.getMessage());
                    }
                    stats.calls++;
                    throw e;
                }
                stats.calls++;
                stats.busyRetries++;
            }
        }
    }

    @Override
    public void close() {
        if (rdma != null) {
            rdma.close(); // before the memory its regions cover goes
            rdma = null;
        }
        for (Mirror m : mirrors) {
            if (m != null) {
                try {
                    m.close();
                } catch (HmmException e) {
                    // closing is best effort: the process exit releases the rest
                }
            }
        }
        for (int i = 0; i < regions.length; i++) {
            if (regions[i] != null) {
                regions[i].close();
                regions[i] = null;
            }
        }
        releaseRetired();
        for (long[] g : guards) {
            Mm.munmap(g[0], g[1]);
        }
        guards.clear();
        for (Path f : files) {
            try {
                Files.deleteIfExists(f);
            } catch (IOException e) {
                // a temporary file left behind
            }
        }
        try {
            Files.deleteIfExists(dir);
        } catch (IOException e) {
            // not empty: leave it
        }
    }
}
