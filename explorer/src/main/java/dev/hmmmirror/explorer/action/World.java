package dev.hmmmirror.explorer.action;

import dev.hmmmirror.Access;
import dev.hmmmirror.Errno;
import dev.hmmmirror.HmmException;
import dev.hmmmirror.Memory;
import dev.hmmmirror.Migration;
import dev.hmmmirror.PageState;
import dev.hmmmirror.Snapshot;
import dev.hmmmirror.explorer.check.CountersMonotonic;
import dev.hmmmirror.explorer.check.EventSequence;
import dev.hmmmirror.explorer.check.Expect;
import dev.hmmmirror.explorer.check.InvalidationsReported;
import dev.hmmmirror.explorer.check.Observed;
import dev.hmmmirror.explorer.check.MapOrderCheck;
import dev.hmmmirror.explorer.check.PageStates;
import dev.hmmmirror.explorer.check.Subject;
import dev.hmmmirror.explorer.driver.Driver;
import dev.hmmmirror.explorer.driver.Probe;
import dev.hmmmirror.explorer.engine.Invariant;
import dev.hmmmirror.explorer.engine.Programs;
import dev.hmmmirror.explorer.engine.Stats;
import dev.hmmmirror.explorer.engine.Violation;
import dev.hmmmirror.explorer.model.Features;
import dev.hmmmirror.explorer.model.Kind;
import dev.hmmmirror.explorer.model.Model;
import dev.hmmmirror.explorer.model.PageModel;
import dev.hmmmirror.explorer.model.RegionModel;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * A program's world: the system under test (its {@link Driver}) and its {@link Model} side by side,
 * up to {@link Model#REGIONS} mappings of this process and {@link Model#MIRRORS} mirrors (two on
 * device 0, one on device 1 where the module has two devices).
 *
 * <p>Each public action method is one step of a program (and one statement of a reproducer), in
 * four parts: its precondition on the model (false, doing nothing, when its target does not
 * exist: a step kept from a longer program while shrinking), the run through the driver, its
 * postcondition (what the call returned against what the model expected: bytes read, the errno
 * of a refused command, counts; for mm operations, the pages whose invalidation the
 * {@link InvalidationsReported} check must see) and the model's next state. The {@link #INVARIANTS}
 * are checked after every step that did something: by the engine for the worlds it drives
 * ({@link #driven}), by the world itself for those of reproducers and tests ({@link #open()}).
 */
public final class World implements Subject, AutoCloseable {
    /** What every step must leave true, in the order checked: the step's own postconditions on events first. */
    public static final List<Invariant<Subject>> INVARIANTS = List.of(new EventSequence(), new InvalidationsReported(),
            new PageStates(), new MapOrderCheck(), new CountersMonotonic());

    private static final int PAGE = PageModel.SIZE;
    /** Pages an RDMA step moves at most (64 KiB with 4 KiB pages). */
    public static final int RDMA_PAGES = 16;

    private final Model model;
    private final Driver driver;
    private final Observed observed = new Observed(Model.MIRRORS);
    private final boolean checksItself;

    private World(Model model, Driver driver, boolean checksItself) {
        this.model = model;
        this.driver = driver;
        this.checksItself = checksItself;
    }

    /** A fresh world (no regions, three new mirrors) that checks the invariants after each action. */
    public static World open(Features features, Stats stats) throws Exception {
        World w = create(features, stats, true);
        try {
            w.check();
            return w;
        } catch (Exception | Error e) {
            w.close();
            throw e;
        }
    }

    /** A fresh world on this guest's kernel, for reproducers: {@code try (World w = World.open()) ...}. */
    public static World open() throws Exception {
        return open(Probe.features(), new Stats());
    }

    /**
     * A fresh world whose actions leave the invariants to the engine that drives it: it checks
     * {@link #INVARIANTS} on the fresh world and after every step that did something.
     */
    public static World driven(Features features, Stats stats) throws Exception {
        return create(features, stats, false);
    }

    private static World create(Features features, Stats stats, boolean checksItself) throws Exception {
        int[] devices = Model.devices(features);
        return new World(new Model(features, devices), Driver.open(devices, Model.REGIONS, stats), checksItself);
    }

    public Features features() {
        return model.features();
    }

    @Override
    public Model model() {
        return model;
    }

    @Override
    public Driver driver() {
        return driver;
    }

    @Override
    public Observed observed() {
        return observed;
    }

    /** The address of page {@code p} of region {@code i} (which must hold a mapping). */
    public long address(int i, int p) {
        return model.region(i).address(p);
    }

    // ---- actions -----------------------------------------------------------------------------

    /** Maps a region of {@code kind} in slot {@code region}: {@code pages} base pages, or one huge page. */
    public boolean map(int region, Kind kind, int pages) throws Exception {
        if (model.hasRegion(region)) {
            return false;
        }
        long base = driver.map(region, kind, pages);
        model.mapped(region, kind, base, driver.pages(region));
        return done();
    }

    /** The CPU writes {@code value} into word {@code word} of a page. */
    public boolean cpuWrite(int region, int page, int word, long value) throws Exception {
        if (!model.writable(region, page)) {
            return false;
        }
        driver.setLong(region, (long) page * PAGE + word * 8L, value);
        model.cpuWrote(region, page, word, value);
        learnBack(region, page, page + 1); // a large device folio comes back whole
        return done();
    }

    /** The CPU reads a page: it must hold the model's bytes. */
    public boolean cpuRead(int region, int page) throws Exception {
        if (!model.readable(region, page)) {
            return false;
        }
        byte[] got = driver.bytes(region, (long) page * PAGE, PAGE);
        RegionModel r = model.region(region);
        Expect.bytes("cpu-read", r, page, r.page(page).bytes(), got, 0);
        model.cpuRead(region, page);
        learnBack(region, page, page + 1); // a large device folio comes back whole
        return done();
    }

    /** Unmaps {@code count} pages from {@code first} (all of a hugetlb region); guards the hole. */
    public boolean unmap(int region, int first, int count) throws Exception {
        int[] range = model.target(region, first, count, true);
        if (range == null) {
            return false;
        }
        InvalidationsReported.Held held = InvalidationsReported.held(this, region, range[0], range[1]);
        RegionModel r = model.region(region);
        long base = r.base();
        List<int[]> runs = model.mappedRuns(region, range[0], range[1]);
        for (int[] run : runs) {
            driver.unmap(region, run[0], run[1]);
        }
        if (model.unmapped(region, range[0], range[1])) {
            // nothing is left: every device must have let go of every page
            EventSequence.drain(this);
            InvalidationsReported.cover(this, "munmap", held.mapped(), InvalidationsReported.UNMAP);
            Expect.nothingLeftAt(this, base, r, "munmap of all of");
            driver.release(region);
            return done();
        }
        for (int[] run : runs) {
            int rc = driver.guard(region, run[0], run[1]);
            if (rc < 0) {
                throw new IllegalStateException("could not guard the hole at page " + run[0] + " of " + r
                        + ": " + Errno.name(-rc) + " (something else was mapped there at once)");
            }
        }
        InvalidationsReported.require(this, "munmap", held.mapped(), InvalidationsReported.UNMAP);
        return done();
    }

    /** {@code mprotect} of {@code count} pages from {@code first} (all of a hugetlb region). */
    public boolean protect(int region, int first, int count, Memory.Protection protection) throws Exception {
        int[] range = model.target(region, first, count, true);
        if (range == null) {
            return false;
        }
        InvalidationsReported.Held held = InvalidationsReported.held(this, region, range[0], range[1]);
        for (int[] run : model.mappedRuns(region, range[0], range[1])) {
            driver.protect(region, run[0], run[1], protection);
        }
        model.protect(region, range[0], range[1], protection);
        List<long[]> required = switch (protection) {
            case NONE -> held.mapped();
            case READ -> held.writable();
            case READ_WRITE -> List.of();
        };
        InvalidationsReported.require(this, "mprotect " + protection, required, InvalidationsReported.PROTECT);
        return done();
    }

    /** {@code MADV_DONTNEED}: private pages read as zero afterwards, shared ones keep their data. */
    public boolean dontNeed(int region, int first, int count) throws Exception {
        int[] range = model.target(region, first, count, false);
        if (range == null) {
            return false;
        }
        InvalidationsReported.Held held = InvalidationsReported.held(this, region, range[0], range[1]);
        for (int[] run : model.mappedRuns(region, range[0], range[1])) {
            driver.dontNeed(region, run[0], run[1]);
        }
        model.dontNeed(region, range[0], range[1]);
        InvalidationsReported.require(this, "madvise(MADV_DONTNEED)", held.mapped(), InvalidationsReported.UNMAP);
        return done();
    }

    /** {@code MADV_PAGEOUT}: the kernel may reclaim the pages (to swap where there is one); their data stays. */
    public boolean pageOut(int region, int first, int count) throws Exception {
        int[] range = model.target(region, first, count, false);
        if (range == null) {
            return false;
        }
        for (int[] run : model.mappedRuns(region, range[0], range[1])) {
            Expect.succeeded("madvise(MADV_PAGEOUT)", run[0], run[1], model.region(region),
                    driver.pageOut(region, run[0], run[1]));
        }
        return done();
    }

    /**
     * {@code mremap} of the whole region to a new address {@code offset} pages past a huge-page
     * boundary; {@code keepOld} ({@code MREMAP_DONTUNMAP}, private anonymous only) leaves the old
     * range mapped and empty, which is then unmapped.
     */
    public boolean remap(int region, int offset, boolean keepOld) throws Exception {
        if (!model.remappable(region, keepOld)) {
            return false; // one whole mapping (6.1 refuses a range over several with EFAULT)
        }
        InvalidationsReported.Held held = InvalidationsReported.held(this, region, 0, model.regionSize(region));
        long oldBase = model.region(region).base();
        model.moved(region, driver.remap(region, (long) offset * PAGE, keepOld));
        EventSequence.drain(this);
        InvalidationsReported.cover(this, "mremap" + (keepOld ? " MREMAP_DONTUNMAP" : ""), held.mapped(),
                InvalidationsReported.UNMAP);
        Expect.nothingLeftAt(this, oldBase, model.region(region), "mremap of");
        driver.releaseRetired();
        return done();
    }

    /** Forks; the child writes {@code value} into word {@code word} of a page, then exits. */
    public boolean forkChildWrite(int region, int page, int word, long value) throws Exception {
        if (!model.writable(region, page)) {
            return false;
        }
        List<long[]> required = new ArrayList<>();
        for (int i = 0; i < Model.REGIONS; i++) {
            RegionModel x = model.region(i);
            if (x != null && !x.kind().shared()) {
                required.addAll(InvalidationsReported.held(this, i, 0, x.size()).writable());
            }
        }
        driver.forkChildWrite(address(region, page) + word * 8L, value);
        model.childWrote(region, page, word, value);
        // the child's write brought the shared device page back for it; the migration walks the
        // rmap, so this process may now map a system page too (seen on 7.2): ask the device
        learnBack(region, page, page + 1);
        InvalidationsReported.require(this, "fork", required, InvalidationsReported.FORK);
        return done();
    }

    /** A device fault of {@code count} pages from {@code first}. */
    public boolean fault(int mirror, int region, int first, int count, Access access) throws Exception {
        int[] range = model.clip(region, first, count);
        if (range == null) {
            return false;
        }
        boolean write = access == Access.WRITE;
        int bad = model.faultStop(region, range[0], range[1], write, model.device(mirror));
        Errno expected = model.expectedErrno(region, bad, write);
        RegionModel r = model.region(region);
        long faulted;
        try {
            faulted = driver.fault(mirror, r.address(range[0]), range[1] - range[0], access);
        } catch (HmmException e) {
            Expect.refused("fault " + access, r, range, expected, e);
            model.deviceAccessed(mirror, region, range[0], bad, true);
            learnBack(region, range[0], range[1]);
            return done();
        }
        Expect.done("fault " + access, r, range, expected);
        if (faulted != range[1] - range[0]) {
            throw new Violation("counts", "fault " + access + " of pages " + range[0] + "-" + (range[1] - 1) + " of "
                    + r + " reported " + faulted + " pages faulted, expected " + (range[1] - range[0]));
        }
        model.deviceAccessed(mirror, region, range[0], range[1], true);
        // hmm_range_fault() faults every page from the first that needs a CPU fault to the end of
        // its walk, and a CPU fault of a page in device memory migrates it back, even one of the
        // mirror's own owner (seen on 7.2): which came back, the device says
        learnBack(region, range[0], range[1]);
        return done();
    }

    /** The device reads {@code count} pages from {@code first}: each must hold the model's bytes. */
    public boolean deviceRead(int mirror, int region, int first, int count) throws Exception {
        int[] range = model.clip(region, first, count);
        if (range == null) {
            return false;
        }
        int bad = model.firstBad(region, range[0], range[1], false);
        Errno expected = model.expectedErrno(region, bad, false);
        RegionModel r = model.region(region);
        byte[] got;
        try {
            got = driver.read(mirror, r.address(range[0]), range[1] - range[0]);
        } catch (HmmException e) {
            Expect.refused("device read", r, range, expected, e);
            model.deviceAccessed(mirror, region, range[0], bad, false);
            learnBack(region, range[0], range[1]);
            return done();
        }
        Expect.done("device read", r, range, expected);
        for (int p = range[0]; p < range[1]; p++) {
            Expect.bytes("device-read", r, p, r.page(p).bytes(), got, (p - range[0]) * PAGE);
        }
        model.deviceAccessed(mirror, region, range[0], range[1], false);
        // a read that misses faults the run of pages the device does not map at once, and
        // hmm_range_fault() CPU-faults from the first page that needs it to the end of its walk:
        // a page in (any) device memory after it comes back (see fault)
        learnBack(region, range[0], range[1]);
        return done();
    }

    /** The device writes {@code count} pages from {@code first} with a pattern drawn from {@code seed}. */
    public boolean deviceWrite(int mirror, int region, int first, int count, long seed) throws Exception {
        int[] range = model.clip(region, first, count);
        if (range == null) {
            return false;
        }
        byte[] data = Model.pattern(seed, range[1] - range[0]);
        int bad = model.firstBad(region, range[0], range[1], true);
        Errno expected = model.expectedErrno(region, bad, true);
        int end = bad < 0 ? range[1] : bad;
        RegionModel r = model.region(region);
        try {
            driver.write(mirror, r.address(range[0]), data);
            Expect.done("device write", r, range, expected);
        } catch (HmmException e) {
            Expect.refused("device write", r, range, expected, e);
        }
        model.deviceWrote(region, range[0], end, data, range[0]);
        model.deviceAccessed(mirror, region, range[0], end, false);
        learnBack(region, range[0], range[1]); // as after a read: the missing run is faulted at once
        return done();
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
        int[] range = model.features().migrate() ? model.clip(region, first, count) : null;
        if (range == null) {
            return false;
        }
        String what = toDevice ? "migrate to device" : "migrate to system";
        Errno expected = model.migrationErrno(region, range[0], range[1]);
        RegionModel r = model.region(region);
        Migration m;
        try {
            m = driver.migrate(mirror, r.address(range[0]), range[1] - range[0], toDevice);
        } catch (HmmException e) {
            Expect.refused(what, r, range, expected, e);
            if (toDevice) {
                learnInDevice(mirror, region, range);
            }
            return done();
        }
        Expect.done(what, r, range, expected);
        if (m.migrated() + m.skipped() != range[1] - range[0]) {
            throw new Violation("counts", what + " of pages " + range[0] + "-" + (range[1] - 1) + " of " + r
                    + ": " + m.migrated() + " migrated + " + m.skipped() + " skipped != " + (range[1] - range[0]));
        }
        if (toDevice) {
            learnInDevice(mirror, region, range);
        } else {
            model.migratedToSystem(mirror, region, range[0], range[1]);
        }
        return done();
    }

    /** Takes pages exclusive for the device (private anonymous base pages). */
    public boolean makeExclusive(int mirror, int region, int first, int count) throws Exception {
        int[] range = !model.features().exclusive() || model.regionKind(region) != Kind.ANONYMOUS ? null
                : model.clip(region, first, count);
        if (range == null) {
            return false;
        }
        int bad = model.firstBad(region, range[0], range[1], true);
        Errno expected = bad < 0 ? null : Errno.EPERM; // atomics write: read-only and inaccessible refuse
        RegionModel r = model.region(region);
        long granted;
        try {
            granted = driver.makeExclusive(mirror, r.address(range[0]), range[1] - range[0]);
        } catch (HmmException e) {
            Expect.refused("make exclusive", r, range, expected, e);
            model.exclusive(mirror, region, range[0], bad); // granted page by page, up to the refused one
            return done();
        }
        Expect.done("make exclusive", r, range, expected);
        if (granted != range[1] - range[0]) {
            throw new Violation("counts", "make exclusive of pages " + range[0] + "-" + (range[1] - 1) + " of " + r
                    + " granted " + granted + ", expected " + (range[1] - range[0]));
        }
        model.exclusive(mirror, region, range[0], range[1]);
        return done();
    }

    /** A device atomic add on word {@code word} of a page: returns the model's old value. */
    public boolean atomicAdd(int mirror, int region, int page, int word, long value) throws Exception {
        if (!model.features().exclusive() || model.regionKind(region) != Kind.ANONYMOUS
                || page >= model.regionSize(region)) {
            return false;
        }
        RegionModel r = model.region(region);
        PageModel p = r.page(page);
        Errno expected = p.writable() ? null : Errno.EPERM;
        int[] range = {page, page + 1};
        long old;
        try {
            old = driver.atomicAdd(mirror, r.address(page) + word * 8L, value);
        } catch (HmmException e) {
            Expect.refused("atomic add", r, range, expected, e);
            return done();
        }
        Expect.done("atomic add", r, range, expected);
        if (old != p.word(word)) {
            throw new Violation("device-atomic", "atomic add on word " + word + " of page " + page + " of " + r
                    + " returned old value 0x" + Long.toHexString(old) + ", the page held 0x"
                    + Long.toHexString(p.word(word)));
        }
        model.atomicAdded(mirror, region, page, word, old + value);
        return done();
    }

    /** Closes a mirror (it must bring back what it moved to device memory) and opens a new one. */
    public boolean reopen(int mirror) throws Exception {
        driver.reopen(mirror);
        model.reopened(mirror);
        observed.reopened(mirror);
        return done();
    }

    /** Sets the slow-device delay of a mirror. */
    public boolean delay(int mirror, int micros) throws Exception {
        driver.delay(mirror, micros);
        return done();
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
        int[] range = model.clip(region, first, count);
        if (range == null || !model.features().numa()) {
            return false;
        }
        RegionModel r = model.region(region);
        long[] addresses = new long[range[1] - range[0]];
        for (int p = range[0]; p < range[1]; p++) {
            addresses[p - range[0]] = r.address(p);
        }
        int[] before = driver.movePages(addresses, -1);
        int from = java.util.Arrays.stream(before).filter(n -> n >= 0).findFirst().orElse(-1);
        if (from < 0) {
            return false; // nothing present to move
        }
        int to = from == 0 ? 1 : 0;
        InvalidationsReported.Held held = InvalidationsReported.held(this, region, range[0], range[1]);
        int[] after = driver.movePages(addresses, to);
        List<long[]> required = new ArrayList<>();
        for (long[] need : held.mapped()) {
            int p = (int) ((need[1] - r.address(0)) / PAGE);
            int i = p - range[0];
            if (before[i] >= 0 && before[i] != to && after[i] == to) {
                required.add(need); // moved while a device mapped it
            }
        }
        InvalidationsReported.require(this, "move_pages(2) to node " + to, required, InvalidationsReported.MIGRATED);
        return done();
    }

    /** Compacts memory: pages may move; the device must follow. */
    public boolean compact() throws Exception {
        if (!model.features().compact()) {
            return false;
        }
        driver.compact();
        return done();
    }

    // ---- the second mirror: rxe On-Demand Paging (the RDMA steps, --rdma) -----------------------

    /**
     * Pages [first, first + count) of region {@code region}, at most {@link #RDMA_PAGES}, for an RDMA
     * step through the rxe On-Demand Paging region over it, or null when it is gone.
     */
    private int[] rdmaRange(int region, int first, int count) {
        return model.clip(region, first, Math.min(count, RDMA_PAGES));
    }

    /**
     * An RDMA step's completion: an access of a page the model says is inaccessible (read) or not
     * writable (write, atomic) must complete with {@code REM_ACCESS_ERR} (rxe NAKs a failed ODP fault),
     * any other must complete.
     */
    private void expectRdma(String what, RegionModel r, int[] range, int bad, Driver.RdmaResult res) {
        String expected = bad < 0 ? null : "REM_ACCESS_ERR";
        if (!java.util.Objects.equals(expected, res.status())) {
            throw new Violation("rdma-completion", what + " of pages " + range[0] + "-" + (range[1] - 1) + " of " + r
                    + (res.status() == null ? " completed" : " completed with " + res.status()) + ", expected "
                    + (expected == null ? "it to complete" : expected + " (page " + bad + " is "
                    + (r.page(bad).mapped() ? r.page(bad).protection() : "unmapped") + ")"));
        }
    }

    /**
     * rxe, a second mirror, reads {@code count} pages from {@code first} (at most {@link #RDMA_PAGES})
     * with an RDMA READ through an On-Demand Paging region over the region: the model's bytes, or
     * {@code REM_ACCESS_ERR} from the first inaccessible page (the pages before it were faulted).
     */
    public boolean rdmaRead(int region, int first, int count) throws Exception {
        int[] range = rdmaRange(region, first, count);
        if (range == null) {
            return false;
        }
        int bad = model.firstBad(region, range[0], range[1], false);
        RegionModel r = model.region(region);
        Driver.RdmaResult res = driver.rdmaRead(region, range[0], range[1] - range[0]);
        expectRdma("rdma read", r, range, bad, res);
        if (res.status() == null) {
            for (int p = range[0]; p < range[1]; p++) {
                Expect.bytes("rdma-read", r, p, r.page(p).bytes(), res.bytes(), (p - range[0]) * PAGE);
            }
        }
        model.nicTouched(region, range[0], bad < 0 ? range[1] : bad);
        learnBack(region, range[0], range[1]); // pages rxe faulted came back from device memory
        return done();
    }

    /**
     * rxe writes {@code count} pages from {@code first} (at most {@link #RDMA_PAGES}), a pattern drawn
     * from {@code seed}, with an RDMA WRITE through its On-Demand Paging region: as a CPU write of
     * whole pages (a write fault, then the bytes), up to the first page that is not writable, where
     * it completes with {@code REM_ACCESS_ERR}.
     */
    public boolean rdmaWrite(int region, int first, int count, long seed) throws Exception {
        int[] range = rdmaRange(region, first, count);
        if (range == null) {
            return false;
        }
        byte[] data = Model.pattern(seed, range[1] - range[0]);
        int bad = model.firstBad(region, range[0], range[1], true);
        RegionModel r = model.region(region);
        Driver.RdmaResult res = driver.rdmaWrite(region, range[0], data);
        expectRdma("rdma write", r, range, bad, res);
        model.nicWrote(region, range[0], bad < 0 ? range[1] : bad, data, range[0]);
        learnBack(region, range[0], range[1]);
        return done();
    }

    /**
     * rxe adds {@code value} to word {@code word} of a page with an RDMA atomic fetch-and-add
     * through its On-Demand Paging region: the old value is the model's, the page then holds the
     * sum (a write fault, as a CPU write); {@code REM_ACCESS_ERR} where the page is not writable.
     */
    public boolean rdmaFetchAndAdd(int region, int page, int word, long value) throws Exception {
        int[] range = rdmaRange(region, page, 1);
        if (range == null) {
            return false;
        }
        RegionModel r = model.region(region);
        PageModel p = r.page(page);
        int bad = p.writable() ? -1 : page;
        long expected = p.word(word);
        Driver.RdmaResult res = driver.rdmaFetchAndAdd(region, (long) page * PAGE + word * 8L, value);
        expectRdma("rdma fetch-and-add", r, range, bad, res);
        if (res.status() == null) {
            if (res.old() != expected) {
                throw new Violation("rdma-atomic", "rdma fetch-and-add on word " + word + " of page " + page + " of "
                        + r + " returned old value 0x" + Long.toHexString(res.old()) + ", the page held 0x"
                        + Long.toHexString(expected));
            }
            model.cpuWrote(region, page, word, expected + value);
        }
        learnBack(region, page, page + 1);
        return done();
    }

    // ---- what only the system can tell the model ----------------------------------------------

    /**
     * After an action that may have brought pages of [first, end) back from device memory without
     * the model being able to tell which (see {@link #fault}, {@link #forkChildWrite}): asks a mirror
     * of each page's device and forgets the device-private state of the pages that came back. It can
     * only clear: nothing but a migration puts a page into device memory.
     */
    private void learnBack(int region, int first, int end) throws HmmException {
        int[] range = model.backRange(region, first, end);
        RegionModel r = model.region(region);
        Snapshot[] byDevice = new Snapshot[2];
        for (int p : model.inDeviceMemory(region, range[0], range[1])) {
            int device = r.page(p).privateDevice();
            if (byDevice[device] == null) {
                // one snapshot of the range through a mirror of the page's device
                int owner = 0;
                while (model.device(owner) != device) {
                    owner++;
                }
                byDevice[device] = driver.snapshot(owner, r.address(range[0]), range[1] - range[0]);
            }
            // an inaccessible page (PROT_NONE) shows nothing of itself: it stays as the model had it
            Set<PageState> st = byDevice[device].page(p - range[0]);
            if (!st.contains(PageState.INACCESSIBLE) && !st.contains(PageState.DEVICE_PRIVATE)) {
                model.backInSystemMemory(region, p);
            }
        }
    }

    /** After a migration to the device: which pages of the range the device's memory now holds. */
    private void learnInDevice(int mirror, int region, int[] range) throws HmmException {
        Snapshot snap = driver.snapshot(mirror, model.region(region).address(range[0]), range[1] - range[0]);
        for (int p = range[0]; p < range[1]; p++) {
            if (snap.page(p - range[0]).contains(PageState.DEVICE_PRIVATE)) {
                model.migratedToDevice(mirror, region, p);
            }
        }
    }

    // ---- checks ----------------------------------------------------------------------------------

    /** The end of an action that did something: a world of a reproducer checks the invariants now. */
    private boolean done() throws Exception {
        if (checksItself) {
            Programs.check(this, INVARIANTS);
        }
        return true;
    }

    /** Checks every invariant now. */
    public void check() throws Exception {
        Programs.check(this, INVARIANTS);
    }

    @Override
    public void close() {
        driver.close();
    }
}
