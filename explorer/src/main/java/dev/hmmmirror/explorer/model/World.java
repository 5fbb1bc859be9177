package dev.hmmmirror.explorer.model;

import dev.hmmmirror.Access;
import dev.hmmmirror.Counters;
import dev.hmmmirror.Errno;
import dev.hmmmirror.HmmException;
import dev.hmmmirror.Invalidation;
import dev.hmmmirror.Memory;
import dev.hmmmirror.Migration;
import dev.hmmmirror.Mirror;
import dev.hmmmirror.PageFrame;
import dev.hmmmirror.PageState;
import dev.hmmmirror.Snapshot;
import dev.hmmmirror.CopyOnWriteChild;
import dev.hmmmirror.explorer.check.Violation;
import dev.hmmmirror.explorer.report.PageMap;
import dev.hmmmirror.explorer.engine.Stats;
import dev.hmmmirror.explorer.sys.Kernel;
import dev.hmmmirror.raw.Mm;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * The system under test and its model, side by side: up to {@link #REGIONS} mappings of this
 * process with the expected bytes and special states of every page, and {@link #MIRRORS} mirrors
 * (two on device 0, one on device 1 where the module has two devices).
 *
 * <p>Each public method is one action of a program (and one statement of a reproducer): it does
 * the action, checks what the action returned against the model (bytes read, errno of a refused
 * command, counts), updates the model, then checks the invariants of every mirror over every
 * region:
 * <ul>
 * <li>the device maps only the page the CPU maps at that address (never a page the CPU unmapped,
 *     protected to none, or moved), except its own device-exclusive entries;</li>
 * <li>the device may write only where the CPU may write, and never where the model's protection
 *     is read-only;</li>
 * <li>device-private and exclusive states only where the model says a mirror put the page there
 *     and nothing has taken it back since;</li>
 * <li>every page an mm operation had to take from the device is covered by an invalidation event
 *     of a fitting reason, and event sequence numbers have no gaps;</li>
 * <li>counters never go backwards.</li>
 * </ul>
 * A method returns false, doing nothing, when its target does not exist (a step kept from a longer
 * program while shrinking).
 */
public final class World implements AutoCloseable {
    public static final int REGIONS = 4;
    public static final int MIRRORS = 3;
    public static final int MAX_PAGES = 8;
    static final int PAGE = PageModel.SIZE;
    static final int WORDS = PAGE / 8;
    /** Pages of one hmm_range_fault() call of the module (HMM_MIRROR_FAULT_CHUNK in kmod/mirror.c). */
    static final int FAULT_CHUNK = 64;

    private static final Set<Invalidation.Reason> UNMAP = EnumSet.of(Invalidation.Reason.UNMAP,
            Invalidation.Reason.CLEAR);
    private static final Set<Invalidation.Reason> PROTECT = EnumSet.of(Invalidation.Reason.PROTECTION_VMA,
            Invalidation.Reason.PROTECTION_PAGE, Invalidation.Reason.CLEAR);
    private static final Set<Invalidation.Reason> MIGRATED = EnumSet.of(Invalidation.Reason.CLEAR);
    private static final Set<Invalidation.Reason> FORK = EnumSet.of(Invalidation.Reason.PROTECTION_PAGE,
            Invalidation.Reason.PROTECTION_VMA, Invalidation.Reason.CLEAR);

    private final Features features;
    private final Stats stats;
    private final Region[] regions = new Region[REGIONS];
    private final Slot[] slots = new Slot[MIRRORS];
    private final List<long[]> guards = new ArrayList<>();
    private final List<Path> files = new ArrayList<>();
    private final Path dir;

    /** One mirror of the program and what the checks remember of it. */
    private static final class Slot {
        final int device;
        Mirror mirror;
        long nextSeq = -1;
        Counters last;
        List<Invalidation> events = List.of();
        boolean overflowed;

        Slot(int device) {
            this.device = device;
        }
    }

    /** What each mirror's device held of a range before an mm operation. */
    private record Held(List<long[]> mapped, List<long[]> writable) {}

    private World(Features features, Stats stats) throws IOException {
        this.features = features;
        this.stats = stats;
        this.dir = Files.createTempDirectory(Kernel.tmpfs(), "hmm-explorer");
    }

    /** A fresh world: no regions, three new mirrors. */
    public static World open(Features features, Stats stats) throws Exception {
        World w = new World(features, stats);
        try {
            int[] devices = {0, 0, features.devices() > 1 ? 1 : 0};
            for (int i = 0; i < MIRRORS; i++) {
                w.slots[i] = new Slot(devices[i]);
                w.slots[i].mirror = Mirror.open(devices[i]);
            }
            w.check();
            return w;
        } catch (Exception | Error e) {
            w.close();
            throw e;
        }
    }

    /** A fresh world on this guest's kernel, for reproducers: {@code try (World w = World.open()) ...}. */
    public static World open() throws Exception {
        return open(Features.detect(), new Stats());
    }

    public Features features() {
        return features;
    }

    // ---- what the action kinds need to draw steps -------------------------------------------

    /** Whether region slot {@code i} holds a mapping. */
    public boolean hasRegion(int i) {
        return regions[i] != null;
    }

    /** Pages of region {@code i} (0 when empty). */
    public int regionSize(int i) {
        return regions[i] == null ? 0 : regions[i].size();
    }

    /** The kind of region {@code i}, or null. */
    public Kind regionKind(int i) {
        return regions[i] == null ? null : regions[i].kind;
    }

    /** The address of page {@code p} of region {@code i} (which must hold a mapping). */
    public long address(int i, int p) {
        return regions[i].address(p);
    }

    /** Whether any region slot is occupied. */
    public boolean anyRegion() {
        return Arrays.stream(regions).anyMatch(r -> r != null);
    }

    /** Whether any region slot is free. */
    public boolean anyFree() {
        return Arrays.stream(regions).anyMatch(r -> r == null);
    }

    /** A random occupied region slot, or -1. */
    public int anyRegion(SplittableRandom r) {
        int[] used = java.util.stream.IntStream.range(0, REGIONS).filter(this::hasRegion).toArray();
        return used.length == 0 ? -1 : used[r.nextInt(used.length)];
    }

    /** A random free region slot, or -1. */
    public int freeRegion(SplittableRandom r) {
        int[] free = java.util.stream.IntStream.range(0, REGIONS).filter(i -> !hasRegion(i)).toArray();
        return free.length == 0 ? -1 : free[r.nextInt(free.length)];
    }

    /** Whether page {@code p} of region {@code i} is mapped and writable in the model. */
    public boolean writable(int i, int p) {
        return regions[i] != null && p < regions[i].size() && regions[i].pages[p].writable();
    }

    /** Whether page {@code p} of region {@code i} is mapped and readable in the model. */
    public boolean readable(int i, int p) {
        return regions[i] != null && p < regions[i].size() && regions[i].pages[p].readable();
    }

    /** Whether some page of some region is writable in the model. */
    public boolean anyWritable() {
        for (int i = 0; i < REGIONS; i++) {
            for (int p = 0; p < regionSize(i); p++) {
                if (writable(i, p)) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Whether some page of some region is readable in the model. */
    public boolean anyReadable() {
        for (int i = 0; i < REGIONS; i++) {
            for (int p = 0; p < regionSize(i); p++) {
                if (readable(i, p)) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Whether every page of region {@code i} is mapped. */
    public boolean fullyMapped(int i) {
        return regions[i] != null && Arrays.stream(regions[i].pages).allMatch(p -> p.mapped);
    }

    /** Whether a region of {@code kind} exists. */
    public boolean hasKind(Kind kind) {
        return Arrays.stream(regions).anyMatch(r -> r != null && r.kind == kind);
    }

    // ---- actions -----------------------------------------------------------------------------

    /** Maps a region of {@code kind} in slot {@code region}: {@code pages} base pages, or one huge page. */
    public boolean map(int region, Kind kind, int pages) throws Exception {
        if (regions[region] != null) {
            return false;
        }
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
        regions[region] = new Region(region, kind, m);
        stats.calls++;
        return after(null, null, null);
    }

    /** The CPU writes {@code value} into word {@code word} of a page. */
    public boolean cpuWrite(int region, int page, int word, long value) throws Exception {
        Region r = regions[region];
        if (r == null || page >= r.size() || !r.pages[page].writable()) {
            return false;
        }
        r.memory.setLong((long) page * PAGE + word * 8L, value);
        r.pages[page].setWord(word, value);
        r.pages[page].cpuTouched();
        relearnBack(r, page, page + 1); // a large device folio comes back whole
        return after(null, null, null);
    }

    /** The CPU reads a page: it must hold the model's bytes. */
    public boolean cpuRead(int region, int page) throws Exception {
        Region r = regions[region];
        if (r == null || page >= r.size() || !r.pages[page].readable()) {
            return false;
        }
        byte[] got = r.memory.bytes((long) page * PAGE, PAGE);
        expectBytes("cpu-read", r, page, r.pages[page].bytes(), got, 0);
        r.pages[page].cpuTouched();
        relearnBack(r, page, page + 1); // a large device folio comes back whole
        return after(null, null, null);
    }

    /** Unmaps {@code count} pages from {@code first} (all of a hugetlb region); guards the hole. */
    public boolean unmap(int region, int first, int count) throws Exception {
        Region r = regions[region];
        int[] range = target(r, first, count, true);
        if (range == null) {
            return false;
        }
        Held held = held(r, range[0], range[1]);
        long base = r.memory.address();
        List<int[]> runs = mappedRuns(r, range[0], range[1]);
        for (int[] run : runs) {
            r.memory.unmap(run[0], run[1] - run[0]);
            stats.calls++;
        }
        for (int p = range[0]; p < range[1]; p++) {
            r.pages[p].mapped = false;
            r.pages[p].clear();
            r.pages[p].cpuTouched();
        }
        if (!r.anyMapped()) {
            regions[region] = null;
            drain();
            cover("munmap", held.mapped, UNMAP);
            nothingLeftAt(base, r, "munmap of all of");
            r.memory.close();
            return after(null, null, null);
        }
        for (int[] run : runs) {
            int rc = Kernel.guard(r.address(run[0]), (long) (run[1] - run[0]) * PAGE);
            if (rc < 0) {
                throw new IllegalStateException("could not guard the hole at page " + run[0] + " of " + r
                        + ": " + Errno.name(-rc) + " (something else was mapped there at once)");
            }
            guards.add(new long[] {r.address(run[0]), (long) (run[1] - run[0]) * PAGE});
        }
        return after("munmap", held.mapped, UNMAP);
    }

    /** {@code mprotect} of {@code count} pages from {@code first} (all of a hugetlb region). */
    public boolean protect(int region, int first, int count, Memory.Protection protection) throws Exception {
        Region r = regions[region];
        int[] range = target(r, first, count, true);
        if (range == null) {
            return false;
        }
        Held held = held(r, range[0], range[1]);
        for (int[] run : mappedRuns(r, range[0], range[1])) {
            r.memory.protect(run[0], run[1] - run[0], protection);
            stats.calls++;
        }
        for (int p = range[0]; p < range[1]; p++) {
            if (r.pages[p].mapped) {
                r.pages[p].protection = protection;
            }
        }
        List<long[]> required = switch (protection) {
            case NONE -> held.mapped;
            case READ -> held.writable;
            case READ_WRITE -> List.of();
        };
        return after("mprotect " + protection, required, PROTECT);
    }

    /** {@code MADV_DONTNEED}: private pages read as zero afterwards, shared ones keep their data. */
    public boolean dontNeed(int region, int first, int count) throws Exception {
        Region r = regions[region];
        int[] range = target(r, first, count, false);
        if (range == null) {
            return false;
        }
        Held held = held(r, range[0], range[1]);
        for (int[] run : mappedRuns(r, range[0], range[1])) {
            r.memory.adviseDontNeed(run[0], run[1] - run[0]);
            stats.calls++;
        }
        for (int p = range[0]; p < range[1]; p++) {
            if (r.pages[p].mapped) {
                if (r.kind.privateAnonymous()) {
                    r.pages[p].clear();
                }
                r.pages[p].cpuTouched();
            }
        }
        return after("madvise(MADV_DONTNEED)", held.mapped, UNMAP);
    }

    /** {@code MADV_PAGEOUT}: the kernel may reclaim the pages (to swap where there is one); their data stays. */
    public boolean pageOut(int region, int first, int count) throws Exception {
        Region r = regions[region];
        int[] range = target(r, first, count, false);
        if (range == null) {
            return false;
        }
        for (int[] run : mappedRuns(r, range[0], range[1])) {
            int rc = Mm.madvise(r.address(run[0]), (long) (run[1] - run[0]) * PAGE, Mm.MADV_PAGEOUT);
            stats.calls++;
            if (rc < 0) {
                throw new Violation("errno", "madvise(MADV_PAGEOUT) of pages " + run[0] + "-" + (run[1] - 1) + " of "
                        + r + " failed with " + Errno.name(-rc) + ", expected success");
            }
        }
        return after(null, null, null);
    }

    /**
     * {@code mremap} of the whole region to a new address {@code offset} pages past a huge-page
     * boundary; {@code keepOld} ({@code MREMAP_DONTUNMAP}, private anonymous only) leaves the old
     * range mapped and empty, which is then unmapped.
     */
    public boolean remap(int region, int offset, boolean keepOld) throws Exception {
        Region r = regions[region];
        if (r == null || !fullyMapped(region) || r.kind == Kind.HUGETLB
                || (keepOld && r.kind != Kind.ANONYMOUS && r.kind != Kind.THP)
                || Arrays.stream(r.pages).anyMatch(p -> p.protection != r.pages[0].protection)) {
            return false; // one whole mapping (6.1 refuses a range over several with EFAULT)
        }
        Held held = held(r, 0, r.size());
        Memory old = r.memory;
        long oldBase = old.address();
        Memory moved = old.remap((long) offset * PAGE, keepOld);
        stats.calls++;
        r.memory = moved;
        drain();
        cover("mremap" + (keepOld ? " MREMAP_DONTUNMAP" : ""), held.mapped, UNMAP);
        nothingLeftAt(oldBase, r, "mremap of");
        old.close();
        return after(null, null, null);
    }

    /** Forks; the child writes {@code value} into word {@code word} of a page, then exits. */
    public boolean forkChildWrite(int region, int page, int word, long value) throws Exception {
        Region r = regions[region];
        if (r == null || page >= r.size() || !r.pages[page].writable()) {
            return false;
        }
        List<long[]> required = new ArrayList<>();
        for (Region x : regions) {
            if (x != null && !x.kind.shared()) {
                required.addAll(held(x, 0, x.size()).writable);
            }
        }
        CopyOnWriteChild forked = forkRetrying();
        try (CopyOnWriteChild child = forked) {
            stats.calls++;
            Kernel.writeWord(child.pid(), r.address(page) + word * 8L, value);
        }
        if (r.kind.shared()) {
            r.pages[page].setWord(word, value);
        }
        // the child's write brought the shared device page back for it; the migration walks the
        // rmap, so this process may now map a system page too (seen on 7.2): ask the device
        relearnBack(r, page, page + 1);
        for (Region x : regions) {
            if (x != null && !x.kind.shared()) {
                for (PageModel p : x.pages) {
                    p.exclusiveSlot = -1; // fork restores device-exclusive entries
                }
            }
        }
        return after("fork", required, FORK);
    }

    /** Times a refused fork is tried again, after a compaction, before it fails the program. */
    private static final int FORK_RETRIES = 5;

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

    /** A device fault of {@code count} pages from {@code first}. */
    public boolean fault(int mirror, int region, int first, int count, Access access) throws Exception {
        Region r = regions[region];
        int[] range = r == null ? null : clip(r, first, count);
        if (range == null) {
            return false;
        }
        Slot s = slots[mirror];
        int bad = faultStop(r, range[0], range[1], access == Access.WRITE, s.device);
        Errno expected = bad < 0 ? null : expectedErrno(r, bad, access == Access.WRITE);
        long faulted;
        try {
            faulted = busy(() -> s.mirror.fault(r.address(range[0]), range[1] - range[0], access));
            stats.calls++;
        } catch (HmmException e) {
            stats.calls++;
            expectRefused("fault " + access, r, range, expected, e);
            deviceAccessed(mirror, r, range[0], bad, true);
            relearnBack(r, range[0], range[1]);
            return after(null, null, null);
        }
        expectDone("fault " + access, r, range, expected);
        if (faulted != range[1] - range[0]) {
            throw new Violation("counts", "fault " + access + " of pages " + range[0] + "-" + (range[1] - 1) + " of "
                    + r + " reported " + faulted + " pages faulted, expected " + (range[1] - range[0]));
        }
        deviceAccessed(mirror, r, range[0], range[1], true);
        // hmm_range_fault() faults every page from the first that needs a CPU fault to the end of
        // its walk, and a CPU fault of a page in device memory migrates it back, even one of the
        // mirror's own owner (seen on 7.2): which came back, the device says
        relearnBack(r, range[0], range[1]);
        return after(null, null, null);
    }

    /** The device reads {@code count} pages from {@code first}: each must hold the model's bytes. */
    public boolean deviceRead(int mirror, int region, int first, int count) throws Exception {
        Region r = regions[region];
        int[] range = r == null ? null : clip(r, first, count);
        if (range == null) {
            return false;
        }
        Slot s = slots[mirror];
        int bad = firstBad(r, range[0], range[1], false);
        Errno expected = bad < 0 ? null : expectedErrno(r, bad, false);
        byte[] got;
        try {
            got = busy(() -> s.mirror.read(r.address(range[0]), range[1] - range[0]));
            stats.calls++;
        } catch (HmmException e) {
            stats.calls++;
            expectRefused("device read", r, range, expected, e);
            deviceAccessed(mirror, r, range[0], bad, false);
            relearnBack(r, range[0], range[1]);
            return after(null, null, null);
        }
        expectDone("device read", r, range, expected);
        for (int p = range[0]; p < range[1]; p++) {
            expectBytes("device-read", r, p, r.pages[p].bytes(), got, (p - range[0]) * PAGE);
        }
        deviceAccessed(mirror, r, range[0], range[1], false);
        // a read that misses faults the run of pages the device does not map at once, and
        // hmm_range_fault() CPU-faults from the first page that needs it to the end of its walk:
        // a page in (any) device memory after it comes back (see fault)
        relearnBack(r, range[0], range[1]);
        return after(null, null, null);
    }

    /** The device writes {@code count} pages from {@code first} with a pattern drawn from {@code seed}. */
    public boolean deviceWrite(int mirror, int region, int first, int count, long seed) throws Exception {
        Region r = regions[region];
        int[] range = r == null ? null : clip(r, first, count);
        if (range == null) {
            return false;
        }
        Slot s = slots[mirror];
        int n = range[1] - range[0];
        byte[] data = pattern(seed, n);
        int bad = firstBad(r, range[0], range[1], true);
        Errno expected = bad < 0 ? null : expectedErrno(r, bad, true);
        int end = bad < 0 ? range[1] : bad;
        try {
            busy(() -> {
                s.mirror.write(r.address(range[0]), data);
                return null;
            });
            stats.calls++;
            expectDone("device write", r, range, expected);
        } catch (HmmException e) {
            stats.calls++;
            expectRefused("device write", r, range, expected, e);
        }
        for (int p = range[0]; p < end; p++) {
            r.pages[p].setBytes(Arrays.copyOfRange(data, (p - range[0]) * PAGE, (p - range[0] + 1) * PAGE));
        }
        deviceAccessed(mirror, r, range[0], end, false);
        relearnBack(r, range[0], range[1]); // as after a read: the missing run is faulted at once
        return after(null, null, null);
    }

    /** Moves pages to the mirror's device memory. */
    public boolean migrateToDevice(int mirror, int region, int first, int count) throws Exception {
        return migrate(mirror, region, first, count, true);
    }

    /** Moves the pages in the mirror's device memory back to system memory. */
    public boolean migrateToSystem(int mirror, int region, int first, int count) throws Exception {
        return migrate(mirror, region, first, count, false);
    }

    private boolean migrate(int mirror, int region, int first, int count, boolean toDevice) throws Exception {
        Region r = regions[region];
        int[] range = r == null || !features.migrate() ? null : clip(r, first, count);
        if (range == null) {
            return false;
        }
        Slot s = slots[mirror];
        String what = toDevice ? "migrate to device" : "migrate to system";
        Errno expected = null;
        if (!r.kind.migrates()) {
            expected = Errno.EINVAL; // shared and hugetlb mappings never move
        } else {
            for (int p = range[0]; p < range[1]; p++) {
                if (!r.pages[p].readable()) {
                    expected = Errno.EINVAL; // PROT_NONE (or a guarded hole) refuses migration
                    break;
                }
            }
        }
        Migration m;
        try {
            m = toDevice ? s.mirror.migrateToDevice(r.address(range[0]), range[1] - range[0])
                    : s.mirror.migrateToSystem(r.address(range[0]), range[1] - range[0]);
            stats.calls++;
        } catch (HmmException e) {
            stats.calls++;
            expectRefused(what, r, range, expected, e);
            if (toDevice) {
                learnPrivate(mirror, r, range);
            }
            return after(null, null, null);
        }
        expectDone(what, r, range, expected);
        if (m.migrated() + m.skipped() != range[1] - range[0]) {
            throw new Violation("counts", what + " of pages " + range[0] + "-" + (range[1] - 1) + " of " + r
                    + ": " + m.migrated() + " migrated + " + m.skipped() + " skipped != " + (range[1] - range[0]));
        }
        if (toDevice) {
            learnPrivate(mirror, r, range);
        } else {
            for (int p = range[0]; p < range[1]; p++) {
                if (r.pages[p].privateDevice == s.device) {
                    r.pages[p].privateDevice = -1;
                    r.pages[p].privateSlot = -1;
                }
            }
        }
        return after(null, null, null);
    }

    /** Takes pages exclusive for the device (private anonymous base pages). */
    public boolean makeExclusive(int mirror, int region, int first, int count) throws Exception {
        Region r = regions[region];
        int[] range = r == null || !features.exclusive() || r.kind != Kind.ANONYMOUS ? null : clip(r, first, count);
        if (range == null) {
            return false;
        }
        int bad = firstBad(r, range[0], range[1], true);
        Errno expected = bad < 0 ? null : Errno.EPERM; // atomics write: read-only and inaccessible refuse
        long granted;
        try {
            granted = busy(() -> slots[mirror].mirror.makeExclusive(r.address(range[0]), range[1] - range[0]));
            stats.calls++;
        } catch (HmmException e) {
            stats.calls++;
            expectRefused("make exclusive", r, range, expected, e);
            for (int p = range[0]; p < bad; p++) { // granted page by page, up to the refused one
                r.pages[p].cpuTouched();
                r.pages[p].exclusiveSlot = mirror;
            }
            return after(null, null, null);
        }
        expectDone("make exclusive", r, range, expected);
        if (granted != range[1] - range[0]) {
            throw new Violation("counts", "make exclusive of pages " + range[0] + "-" + (range[1] - 1) + " of " + r
                    + " granted " + granted + ", expected " + (range[1] - range[0]));
        }
        for (int p = range[0]; p < range[1]; p++) {
            r.pages[p].cpuTouched();
            r.pages[p].exclusiveSlot = mirror;
        }
        return after(null, null, null);
    }

    /** A device atomic add on word {@code word} of a page: returns the model's old value. */
    public boolean atomicAdd(int mirror, int region, int page, int word, long value) throws Exception {
        Region r = regions[region];
        if (r == null || !features.exclusive() || r.kind != Kind.ANONYMOUS || page >= r.size()) {
            return false;
        }
        PageModel p = r.pages[page];
        Errno expected = p.writable() ? null : Errno.EPERM;
        int[] range = {page, page + 1};
        long old;
        try {
            old = slots[mirror].mirror.atomicAdd(r.address(page) + word * 8L, value);
            stats.calls++;
        } catch (HmmException e) {
            stats.calls++;
            expectRefused("atomic add", r, range, expected, e);
            return after(null, null, null);
        }
        expectDone("atomic add", r, range, expected);
        if (old != p.word(word)) {
            throw new Violation("device-atomic", "atomic add on word " + word + " of page " + page + " of " + r
                    + " returned old value 0x" + Long.toHexString(old) + ", the page held 0x"
                    + Long.toHexString(p.word(word)));
        }
        p.setWord(word, old + value);
        p.cpuTouched();
        p.exclusiveSlot = mirror;
        return after(null, null, null);
    }

    /** Closes a mirror (it must bring back what it moved to device memory) and opens a new one. */
    public boolean reopen(int mirror) throws Exception {
        Slot s = slots[mirror];
        s.mirror.close();
        stats.calls++;
        for (Region r : regions) {
            if (r != null) {
                for (PageModel p : r.pages) {
                    if (p.privateSlot == mirror) {
                        p.privateDevice = -1;
                        p.privateSlot = -1;
                    }
                    if (p.exclusiveSlot == mirror) {
                        p.exclusiveSlot = -1;
                    }
                }
            }
        }
        s.mirror = Mirror.open(s.device);
        stats.calls++;
        s.nextSeq = -1;
        s.last = null;
        return after(null, null, null);
    }

    /** Sets the slow-device delay of a mirror. */
    public boolean delay(int mirror, int micros) throws Exception {
        slots[mirror].mirror.setDeviceDelay(Duration.ofNanos(micros * 1000L));
        stats.calls++;
        return after(null, null, null);
    }

    /**
     * {@code move_pages(2)} of pages [first, first + count) to the NUMA node the first present one
     * is not on: each page that moves must leave no device mapping of its old frame, and every
     * device that mapped it must have had an invalidation event (CLEAR) for it. Pages in device
     * memory, device-exclusive ones and holes are not moved (a negative status). On a guest with
     * one memory node nothing happens (the step is still drawn, so that a seed draws the same
     * programs on every guest).
     */
    public boolean movePages(int region, int first, int count) throws Exception {
        Region r = regions[region];
        int[] range = r == null ? null : clip(r, first, count);
        if (range == null || !features.numa()) {
            return false;
        }
        long[] addresses = new long[range[1] - range[0]];
        for (int p = range[0]; p < range[1]; p++) {
            addresses[p - range[0]] = r.address(p);
        }
        int[] before = Kernel.movePages(addresses, -1);
        stats.calls++;
        int from = Arrays.stream(before).filter(n -> n >= 0).findFirst().orElse(-1);
        if (from < 0) {
            return false; // nothing present to move
        }
        int to = from == 0 ? 1 : 0;
        Held held = held(r, range[0], range[1]);
        int[] after = Kernel.movePages(addresses, to);
        stats.calls++;
        List<long[]> required = new ArrayList<>();
        for (long[] need : held.mapped) {
            int p = (int) ((need[1] - r.address(0)) / PAGE);
            int i = p - range[0];
            if (before[i] >= 0 && before[i] != to && after[i] == to) {
                required.add(need); // moved while a device mapped it
            }
        }
        return after("move_pages(2) to node " + to, required, MIGRATED);
    }

    /** Compacts memory: pages may move; the device must follow. */
    public boolean compact() throws Exception {
        if (!features.compact()) {
            return false;
        }
        Kernel.compact();
        stats.calls++;
        return after(null, null, null);
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
     * repeat the same effect, so a retry ends in the state of one successful call.
     */
    private <T> T busy(Command<T> c) throws HmmException {
        for (int attempt = 0; ; attempt++) {
            try {
                return c.call();
            } catch (HmmException e) {
                if (e.errno() != Errno.EBUSY.number() || attempt == BUSY_RETRIES) {
                    if (e.errno() == Errno.EBUSY.number()) {
                        throw new Violation("livelock", "EBUSY " + (attempt + 1) + " times in a row: " + e.getMessage());
                    }
                    throw e;
                }
                stats.calls++;
                stats.busyRetries++;
            }
        }
    }

    // ---- the page-state map of a replay -------------------------------------------------------------

    /** Forgets the events of the step before, so that {@link #traceNow} marks this step's only. */
    public void traceBegin() {
        for (Slot s : slots) {
            s.events = List.of();
        }
    }

    /**
     * Every region page's state now, as the map colours it (the strongest over the mirrors:
     * exclusive, device memory, device write, device read, CPU only, not mapped), keyed
     * {@code "region R page P"}, and the keys an invalidation event of this step covered. Reads
     * without checking anything: it also runs after a step that failed.
     */
    public void traceNow(java.util.Map<String, PageMap.State> states, Set<String> covered) {
        for (Slot s : slots) {
            try {
                List<Invalidation> more = s.mirror.invalidations();
                if (!more.isEmpty()) {
                    List<Invalidation> all = new ArrayList<>(s.events);
                    all.addAll(more);
                    s.events = all;
                }
            } catch (HmmException e) {
                // a closed mirror: nothing more to mark
            }
        }
        for (Region r : regions) {
            if (r == null) {
                continue;
            }
            PageMap.State[] best = new PageMap.State[r.size()];
            java.util.Arrays.fill(best, PageMap.State.NOT_MAPPED);
            for (Slot s : slots) {
                Snapshot snap;
                try {
                    snap = s.mirror.snapshot(r.memory.address(), r.size());
                } catch (HmmException e) {
                    continue;
                }
                for (int p = 0; p < r.size(); p++) {
                    Set<PageState> st = snap.page(p);
                    PageMap.State x = st.contains(PageState.EXCLUSIVE) ? PageMap.State.EXCLUSIVE
                            : st.contains(PageState.DEVICE_PRIVATE) || st.contains(PageState.DEVICE_PRIVATE_REMOTE)
                            ? PageMap.State.DEVICE_PRIVATE
                            : st.contains(PageState.DEVICE_WRITE) ? PageMap.State.DEVICE_WRITE
                            : st.contains(PageState.DEVICE_READ) ? PageMap.State.DEVICE_READ
                            : st.contains(PageState.CPU_READ) ? PageMap.State.CPU_ONLY : PageMap.State.NOT_MAPPED;
                    if (x.ordinal() > best[p].ordinal()) {
                        best[p] = x;
                    }
                }
            }
            for (int p = 0; p < r.size(); p++) {
                String key = "region " + r.slot + " page " + p;
                states.put(key, best[p]);
                long a = r.address(p);
                for (Slot s : slots) {
                    if (s.events.stream().anyMatch(e -> e.overlaps(a, a + PAGE))) {
                        covered.add(key);
                    }
                }
            }
        }
    }

    /** Whether region {@code slot} is a huge one (its map rows show only pages a device touched). */
    public boolean hugeRegion(int slot) {
        return regions[slot] != null && regions[slot].size() > MAX_PAGES;
    }

    // ---- checks --------------------------------------------------------------------------------

    /** Checks every invariant now (also run after every action). */
    public void check() throws HmmException {
        drain();
        states();
    }

    private boolean after(String operation, List<long[]> required, Set<Invalidation.Reason> reasons)
            throws HmmException {
        drain();
        if (operation != null) {
            cover(operation, required, reasons);
        }
        states();
        return true;
    }

    /** Reads every mirror's new events; sequence numbers must follow on without gaps. */
    private void drain() throws HmmException {
        for (int i = 0; i < MIRRORS; i++) {
            Slot s = slots[i];
            s.events = s.mirror.invalidations();
            stats.calls++;
            s.overflowed = false;
            for (Invalidation e : s.events) {
                if (e.afterOverflow()) {
                    s.overflowed = true;
                } else if (s.nextSeq >= 0 && e.seq() != s.nextSeq) {
                    throw new Violation("event-sequence", "mirror " + i + " (device " + s.device + "): event seq "
                            + e.seq() + " follows " + (s.nextSeq - 1) + " without an overflow flag: " + e);
                }
                s.nextSeq = e.seq() + 1;
            }
            stats.checks++;
        }
    }

    /** Every page a device held (per mirror, its address runs) is covered by an event of a fitting reason. */
    private void cover(String operation, List<long[]> required, Set<Invalidation.Reason> reasons) {
        for (long[] need : required) {
            Slot s = slots[(int) need[0]];
            if (s.overflowed) {
                continue; // events were lost to a full ring: nothing to judge
            }
            for (long a = need[1]; a < need[2]; a += PAGE) {
                long page = a;
                boolean covered = s.events.stream()
                        .anyMatch(e -> e.overlaps(page, page + PAGE) && reasons.contains(e.reason()));
                stats.checks++;
                if (!covered) {
                    throw new Violation("invalidation-reported", operation + ": mirror " + need[0] + " (device "
                            + s.device + ") had the page at 0x" + Long.toHexString(page)
                            + " mapped, but no invalidation event with a reason in " + reasons
                            + " covers it; events of this step: " + s.events);
                }
            }
        }
    }

    /** The device-page-table invariants of every mirror over every region, and the counters. */
    private void states() throws HmmException {
        for (int i = 0; i < MIRRORS; i++) {
            Slot s = slots[i];
            for (Region r : regions) {
                if (r != null) {
                    try {
                        regionStates(i, s, r);
                    } catch (Violation first) {
                        // the page frames and the snapshot are two calls: a page the kernel moves
                        // between them (another process's compaction migrating a device-exclusive
                        // page, found by the 7.2 debug campaign with several jobs) looks incoherent
                        // once; a wrong state stays, so it must be seen on a second read too
                        regionStates(i, s, r);
                        stats.secondReads++;
                    }
                }
            }
            Counters c = s.mirror.counters();
            stats.calls++;
            if (s.last != null) {
                monotonic(i, s.last, c);
            }
            s.last = c;
        }
    }

    private void regionStates(int slot, Slot s, Region r) throws HmmException {
        List<PageFrame> frames = s.mirror.pageFrames(r.memory.address(), r.size());
        Snapshot snap = busy(() -> s.mirror.snapshot(r.memory.address(), r.size()));
        stats.calls += 2;
        for (int p = 0; p < r.size(); p++) {
            PageModel m = r.pages[p];
            Set<PageState> st = snap.page(p);
            PageFrame f = frames.get(p);
            boolean exclusive = st.contains(PageState.EXCLUSIVE);
            String where = "page " + p + " of " + r + ", mirror " + slot + " (device " + s.device + ")";
            stats.checks++;
            if (exclusive && m.exclusiveSlot != slot) {
                throw new Violation("exclusive-state", where + ": the device holds a device-exclusive entry, but "
                        + (m.exclusiveSlot < 0 ? "nothing has the page exclusive (the CPU or another device took "
                        + "it back since)" : "mirror " + m.exclusiveSlot + " took it exclusive after") + "; snapshot "
                        + st);
            }
            if (f.deviceMapped() && !exclusive && !f.coherent()) {
                throw new Violation("device-maps-cpu-page", where + ": the device maps pfn 0x"
                        + Long.toHexString(f.devicePfn()) + " but the CPU maps " + pfn(f.cpuPfn())
                        + " (model: " + (m.mapped ? "mapped " + m.protection : "unmapped") + "); snapshot " + st);
            }
            if (st.contains(PageState.DEVICE_WRITE) && !exclusive
                    && (!st.contains(PageState.CPU_WRITE) || !m.writable())) {
                throw new Violation("device-write-permission", where + ": the device may write the page, but the "
                        + "CPU may not (model: " + (m.mapped ? m.protection : "unmapped") + "); snapshot " + st);
            }
            if (st.contains(PageState.DEVICE_PRIVATE) && m.privateDevice != s.device) {
                throw new Violation("device-private-state", where + ": the page is in this device's memory, but "
                        + (m.privateDevice < 0 ? "the model says it came back (CPU access, close, migration "
                        + "back or unmap since)" : "the model has it in device " + m.privateDevice + "'s memory")
                        + "; snapshot " + st);
            }
            if (st.contains(PageState.DEVICE_PRIVATE_REMOTE) && (m.privateDevice < 0 || m.privateDevice == s.device)) {
                throw new Violation("device-private-state", where + ": the page is in another device's memory, but "
                        + "the model has it " + (m.privateDevice < 0 ? "in system memory" : "in this device's memory")
                        + "; snapshot " + st);
            }
        }
    }

    private static void monotonic(int slot, Counters a, Counters b) {
        long[] x = values(a);
        long[] y = values(b);
        String[] names = {"faults", "pagesFaulted", "faultRetries", "invalidations", "pagesInvalidated",
            "eventsDropped", "deviceReads", "deviceWrites", "migratedToDevice", "migratedToSystem",
            "cpuFaultMigrations", "exclusiveGrants", "exclusiveRevocations", "deviceAtomics", "devicePrivateReads"};
        for (int i = 0; i < x.length; i++) {
            if (y[i] < x[i]) {
                throw new Violation("counters-monotonic", "mirror " + slot + ": counter " + names[i] + " went from "
                        + x[i] + " to " + y[i]);
            }
        }
    }

    private static long[] values(Counters c) {
        return new long[] {c.faults(), c.pagesFaulted(), c.faultRetries(), c.invalidations(), c.pagesInvalidated(),
            c.eventsDropped(), c.deviceReads(), c.deviceWrites(), c.migratedToDevice(), c.migratedToSystem(),
            c.cpuFaultMigrations(), c.exclusiveGrants(), c.exclusiveRevocations(), c.deviceAtomics(),
            c.devicePrivateReads()};
    }

    // ---- helpers ----------------------------------------------------------------------------------

    /** What each mirror's device maps (and maps writable) of pages [first, end), as address runs per mirror. */
    private Held held(Region r, int first, int end) throws HmmException {
        List<long[]> mapped = new ArrayList<>();
        List<long[]> writable = new ArrayList<>();
        for (int i = 0; i < MIRRORS; i++) {
            Slot s = slots[i];
            List<PageFrame> frames = s.mirror.pageFrames(r.address(first), end - first);
            Snapshot snap = busy(() -> s.mirror.snapshot(r.address(first), end - first));
            stats.calls += 2;
            for (int p = first; p < end; p++) {
                long a = r.address(p);
                if (frames.get(p - first).deviceMapped()) {
                    mapped.add(new long[] {i, a, a + PAGE});
                    if (snap.page(p - first).contains(PageState.DEVICE_WRITE)) {
                        writable.add(new long[] {i, a, a + PAGE});
                    }
                }
            }
        }
        return new Held(mapped, writable);
    }

    /** What a device access of pages [first, end) does to the model's special states. */
    private void deviceAccessed(int slot, Region r, int first, int end, boolean faulted) {
        int device = slots[slot].device;
        for (int p = first; p < end; p++) {
            PageModel m = r.pages[p];
            // a fault revokes any device-exclusive entry, this mirror's too; a read or write through
            // this mirror's own exclusive entry does not fault, anyone else's access does
            if (faulted || m.exclusiveSlot != slot) {
                m.exclusiveSlot = -1;
            }
            if (m.privateDevice >= 0 && m.privateDevice != device && !features.sharedOwner()) {
                m.privateDevice = -1; // another owner's memory: migrated back first
                m.privateSlot = -1;
            }
        }
    }

    /**
     * After an action that may have brought pages of [first, end) back from device memory without
     * the model being able to tell which (see {@link #fault}, {@link #forkChildWrite}): asks a mirror
     * of each page's device and forgets the device-private state of the pages that came back. It can
     * only clear: nothing but a migration puts a page into device memory.
     */
    private void relearnBack(Region r, int first, int end) throws HmmException {
        if (r.kind == Kind.THP) {
            // a page of a THP region may be part of a large device folio, which comes back whole
            // (found by the 7.2 debug campaign of December 2026: a child's write to one page brought
            // all 512 back): ask about the whole region
            first = 0;
            end = r.size();
        }
        int from = first;
        int to = end;
        Snapshot[] byDevice = new Snapshot[2];
        for (int p = first; p < end; p++) {
            PageModel m = r.pages[p];
            if (m.privateDevice < 0) {
                continue;
            }
            int device = m.privateDevice;
            if (byDevice[device] == null) {
                // one snapshot of the range through a mirror of the page's device
                int owner = 0;
                while (slots[owner].device != device) {
                    owner++;
                }
                Slot o = slots[owner];
                byDevice[device] = busy(() -> o.mirror.snapshot(r.address(from), to - from));
                stats.calls++;
            }
            // an inaccessible page (PROT_NONE) shows nothing of itself: it stays as the model had it
            Set<PageState> st = byDevice[device].page(p - from);
            if (!st.contains(PageState.INACCESSIBLE) && !st.contains(PageState.DEVICE_PRIVATE)) {
                m.privateDevice = -1;
                m.privateSlot = -1;
            }
        }
    }

    /** After a migration to the device: which pages of the range the device's memory now holds. */
    private void learnPrivate(int slot, Region r, int[] range) throws HmmException {
        Snapshot snap = busy(() -> slots[slot].mirror.snapshot(r.address(range[0]), range[1] - range[0]));
        stats.calls++;
        for (int p = range[0]; p < range[1]; p++) {
            // a page already in this device's memory stays the mirror's that moved it (it is skipped)
            if (snap.page(p - range[0]).contains(PageState.DEVICE_PRIVATE) && r.pages[p].privateDevice < 0) {
                r.pages[p].privateDevice = slots[slot].device;
                r.pages[p].privateSlot = slot;
                r.pages[p].exclusiveSlot = -1;
            }
        }
    }

    /**
     * The page where a device fault of [first, end) stops, or -1. The module faults chunks of
     * {@link #FAULT_CHUNK} pages with hmm_range_fault(), which stops at the first inaccessible
     * page, or, for a write, read-only page; but a read-only page in device memory this device
     * maps in place it reports as it is, without a fault, and the module refuses that one (EPERM)
     * only once the whole chunk came back (seen on 7.2: such a page before a PROT_NONE one gave
     * EFAULT).
     */
    private int faultStop(Region r, int first, int end, boolean write, int device) {
        for (int chunk = first; chunk < end; chunk += FAULT_CHUNK) {
            int deferred = -1;
            for (int p = chunk; p < Math.min(end, chunk + FAULT_CHUNK); p++) {
                PageModel m = r.pages[p];
                boolean inPlace = m.privateDevice >= 0 && (features.sharedOwner() || m.privateDevice == device);
                if (!m.readable()) {
                    return p;
                }
                if (write && !m.writable()) {
                    if (!inPlace) {
                        return p;
                    }
                    deferred = deferred < 0 ? p : deferred;
                }
            }
            if (deferred >= 0) {
                return deferred;
            }
        }
        return -1;
    }

    private static int firstBad(Region r, int first, int end, boolean write) {
        for (int p = first; p < end; p++) {
            if (write ? !r.pages[p].writable() : !r.pages[p].readable()) {
                return p;
            }
        }
        return -1;
    }

    private static Errno expectedErrno(Region r, int page, boolean write) {
        PageModel m = r.pages[page];
        return !m.readable() ? Errno.EFAULT : (write && !m.writable() ? Errno.EPERM : null);
    }

    private static void expectRefused(String what, Region r, int[] range, Errno expected, HmmException e) {
        Errno got = e.errnoConstant().orElse(null);
        if (expected == null) {
            throw new Violation("errno", what + " of pages " + range[0] + "-" + (range[1] - 1) + " of " + r
                    + " failed with " + e.errnoName() + ", the model expected success", e);
        }
        if (got != expected) {
            throw new Violation("errno", what + " of pages " + range[0] + "-" + (range[1] - 1) + " of " + r
                    + " failed with " + e.errnoName() + ", the model expected " + expected, e);
        }
    }

    private static void expectDone(String what, Region r, int[] range, Errno expected) {
        if (expected != null) {
            throw new Violation("errno", what + " of pages " + range[0] + "-" + (range[1] - 1) + " of " + r
                    + " succeeded, the model expected " + expected);
        }
    }

    private static void expectBytes(String invariant, Region r, int page, byte[] want, byte[] got, int offset) {
        int at = Arrays.mismatch(want, 0, PAGE, got, offset, offset + PAGE);
        if (at >= 0) {
            throw new Violation(invariant, "page " + page + " of " + r + ": byte " + at + " is 0x"
                    + Integer.toHexString(got[offset + at] & 0xff) + ", the model expects 0x"
                    + Integer.toHexString(want[at] & 0xff) + (isZero(got, offset) ? " (the page reads as all zero)" : ""));
        }
    }

    private static boolean isZero(byte[] b, int offset) {
        for (int i = offset; i < offset + PAGE; i++) {
            if (b[i] != 0) {
                return false;
            }
        }
        return true;
    }

    /**
     * The pages an mm operation on [first, first + count) of {@code r} acts on: clipped to the
     * region, all of a hugetlb region when {@code wholeHuge} (else none: advice is per base page),
     * or null when the region is gone or nothing in the range is mapped.
     */
    private static int[] target(Region r, int first, int count, boolean wholeHuge) {
        if (r == null || (!r.kind.pageGranular() && !wholeHuge)) {
            return null;
        }
        int[] range = r.kind.pageGranular() ? clip(r, first, count) : new int[] {0, r.size()};
        return range == null || mappedRuns(r, range[0], range[1]).isEmpty() ? null : range;
    }

    /**
     * After the region's pages left {@code base} (munmap, mremap): no device maps anything there
     * but, if something new was mapped there meanwhile, the very page the CPU maps.
     */
    private void nothingLeftAt(long base, Region r, String what) throws HmmException {
        for (Slot s : slots) {
            List<PageFrame> frames = s.mirror.pageFrames(base, r.size());
            stats.calls++;
            for (int p = 0; p < frames.size(); p++) {
                PageFrame f = frames.get(p);
                if (f.deviceMapped() && !f.coherent()) {
                    throw new Violation("device-maps-cpu-page", "after " + what + " " + r + ", device " + s.device
                            + " still maps old page " + p + " at 0x" + Long.toHexString(base + (long) p * PAGE)
                            + " (device pfn 0x" + Long.toHexString(f.devicePfn()) + ", CPU " + pfn(f.cpuPfn()) + ")");
                }
            }
        }
    }

    /** [first, end) within the region, or null when nothing is left of it. */
    private static int[] clip(Region r, int first, int count) {
        if (first >= r.size() || count <= 0) {
            return null;
        }
        return new int[] {first, Math.min(r.size(), first + count)};
    }

    private static List<int[]> mappedRuns(Region r, int first, int end) {
        List<int[]> runs = new ArrayList<>();
        for (int p = first; p < end; p++) {
            if (r.pages[p].mapped) {
                int q = p;
                while (q < end && r.pages[q].mapped) {
                    q++;
                }
                runs.add(new int[] {p, q});
                p = q;
            }
        }
        return runs;
    }

    private static String pfn(long pfn) {
        return pfn == PageFrame.NONE ? "nothing" : "pfn 0x" + Long.toHexString(pfn);
    }

    /** {@code pages} pages of bytes drawn from {@code seed}. */
    static byte[] pattern(long seed, int pages) {
        byte[] b = new byte[pages * PAGE];
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < b.length; i += 8) {
            long v = r.nextLong();
            for (int k = 0; k < 8; k++) {
                b[i + k] = (byte) (v >>> (8 * k));
            }
        }
        return b;
    }

    @Override
    public void close() {
        for (Slot s : slots) {
            if (s != null && s.mirror != null) {
                try {
                    s.mirror.close();
                } catch (HmmException e) {
                    // closing is best effort: the process exit releases the rest
                }
            }
        }
        for (int i = 0; i < REGIONS; i++) {
            if (regions[i] != null) {
                regions[i].memory.close();
                regions[i] = null;
            }
        }
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
