package dev.hmmmirror.explorer.model;

import dev.hmmmirror.Errno;
import dev.hmmmirror.Memory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/**
 * The model of a program's world, pure state: up to {@link #REGIONS} mappings with the expected
 * bytes and special states of every page, and the device of each of the {@link #MIRRORS} mirrors.
 * It touches no system: its methods answer what the model expects of an action (which page a fault
 * stops at, which errno a refused command gives) and compute the next expected state after an
 * action ran; what only the system can tell (which pages came back from device memory) it is told.
 */
public final class Model {
    public static final int REGIONS = 4;
    public static final int MIRRORS = 3;
    public static final int MAX_PAGES = 8;
    /** Pages of one hmm_range_fault() call of the module (HMM_MIRROR_FAULT_CHUNK in kmod/mirror.c). */
    public static final int FAULT_CHUNK = 64;
    static final int PAGE = PageModel.SIZE;

    private final Features features;
    private final int[] devices;
    private final RegionModel[] regions = new RegionModel[REGIONS];

    /** A model of no regions and mirror {@code i} on device {@code devices[i]}. */
    public Model(Features features, int[] devices) {
        if (devices.length != MIRRORS) {
            throw new IllegalArgumentException(devices.length + " devices for " + MIRRORS + " mirrors");
        }
        this.features = features;
        this.devices = devices.clone();
    }

    /** The devices of the mirrors of a world on {@code features}: two on device 0, one on device 1 where there is one. */
    public static int[] devices(Features features) {
        return new int[] {0, 0, features.devices() > 1 ? 1 : 0};
    }

    public Features features() {
        return features;
    }

    /** The device of mirror {@code slot}. */
    public int device(int slot) {
        return devices[slot];
    }

    /** Region {@code i}, or null. */
    public RegionModel region(int i) {
        return regions[i];
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
        return regions[i] == null ? null : regions[i].kind();
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
        int[] used = IntStream.range(0, REGIONS).filter(this::hasRegion).toArray();
        return used.length == 0 ? -1 : used[r.nextInt(used.length)];
    }

    /** A random free region slot, or -1. */
    public int freeRegion(SplittableRandom r) {
        int[] free = IntStream.range(0, REGIONS).filter(i -> !hasRegion(i)).toArray();
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
        return Arrays.stream(regions).anyMatch(r -> r != null && r.kind() == kind);
    }

    /** Whether region {@code slot} is a huge one (a page map shows only pages a device touched). */
    public boolean hugeRegion(int slot) {
        return regions[slot] != null && regions[slot].size() > MAX_PAGES;
    }

    // ---- what the model expects of an action --------------------------------------------------

    /**
     * The pages an mm operation on [first, first + count) of region {@code i} acts on: clipped to
     * the region, all of a hugetlb region when {@code wholeHuge} (else none: advice is per base
     * page), or null when the region is gone or nothing in the range is mapped.
     */
    public int[] target(int i, int first, int count, boolean wholeHuge) {
        RegionModel r = regions[i];
        if (r == null || (!r.kind().pageGranular() && !wholeHuge)) {
            return null;
        }
        int[] range = r.kind().pageGranular() ? clip(i, first, count) : new int[] {0, r.size()};
        return range == null || mappedRuns(i, range[0], range[1]).isEmpty() ? null : range;
    }

    /** [first, end) within region {@code i}, or null when it is gone or nothing is left of the range. */
    public int[] clip(int i, int first, int count) {
        RegionModel r = regions[i];
        if (r == null || first >= r.size() || count <= 0) {
            return null;
        }
        return new int[] {first, Math.min(r.size(), first + count)};
    }

    /** The runs [from, to) of mapped pages in [first, end) of region {@code i}. */
    public List<int[]> mappedRuns(int i, int first, int end) {
        RegionModel r = regions[i];
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

    /** Whether region {@code i} is one mapping {@code mremap} can move (whole, one protection, not hugetlb). */
    public boolean remappable(int i, boolean keepOld) {
        RegionModel r = regions[i];
        return r != null && fullyMapped(i) && r.kind() != Kind.HUGETLB
                && (!keepOld || r.kind() == Kind.ANONYMOUS || r.kind() == Kind.THP)
                && Arrays.stream(r.pages).allMatch(p -> p.protection == r.pages[0].protection);
    }

    /**
     * The page where a device fault of [first, end) of region {@code i} through a mirror of
     * {@code device} stops, or -1. The module faults chunks of {@link #FAULT_CHUNK} pages with
     * hmm_range_fault(), which stops at the first inaccessible page, or, for a write, read-only
     * page; but a read-only page in device memory this device maps in place it reports as it is,
     * without a fault, and the module refuses that one (EPERM) only once the whole chunk came back
     * (seen on 7.2: such a page before a PROT_NONE one gave EFAULT).
     */
    public int faultStop(int i, int first, int end, boolean write, int device) {
        RegionModel r = regions[i];
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

    /** The first page of [first, end) of region {@code i} a device may not read (write), or -1. */
    public int firstBad(int i, int first, int end, boolean write) {
        RegionModel r = regions[i];
        for (int p = first; p < end; p++) {
            if (write ? !r.pages[p].writable() : !r.pages[p].readable()) {
                return p;
            }
        }
        return -1;
    }

    /** The errno of a device access that stops at {@code page} (-1: none, null). */
    public Errno expectedErrno(int i, int page, boolean write) {
        if (page < 0) {
            return null;
        }
        PageModel m = regions[i].pages[page];
        return !m.readable() ? Errno.EFAULT : (write && !m.writable() ? Errno.EPERM : null);
    }

    /** The errno of a migration of [first, end) of region {@code i}, either way, or null. */
    public Errno migrationErrno(int i, int first, int end) {
        RegionModel r = regions[i];
        if (!r.kind().migrates()) {
            return Errno.EINVAL; // shared and hugetlb mappings never move
        }
        for (int p = first; p < end; p++) {
            if (!r.pages[p].readable()) {
                return Errno.EINVAL; // PROT_NONE (or a guarded hole) refuses migration
            }
        }
        return null;
    }

    /** The pages of [first, end) of region {@code i} that may be in device memory, one at a time. */
    public List<Integer> inDeviceMemory(int i, int first, int end) {
        List<Integer> out = new ArrayList<>();
        for (int p = first; p < end; p++) {
            if (regions[i].pages[p].privateDevice >= 0) {
                out.add(p);
            }
        }
        return out;
    }

    /**
     * The pages a question about pages [first, end) of region {@code i} brought back from device
     * memory must cover: all of a THP region, whose pages may be one large device folio that comes
     * back whole (found by the 7.2 debug campaign of December 2026: a child's write to one page
     * brought all 512 of a 2 MiB THP back); else the range itself.
     */
    public int[] backRange(int i, int first, int end) {
        return regions[i].kind() == Kind.THP ? new int[] {0, regions[i].size()} : new int[] {first, end};
    }

    // ---- the next state after an action ------------------------------------------------------

    /** Region {@code slot} was mapped at {@code base}: {@code pages} base pages, all zero, read-write. */
    public void mapped(int slot, Kind kind, long base, int pages) {
        regions[slot] = new RegionModel(slot, kind, base, pages);
    }

    /** The CPU wrote {@code value} into word {@code word} of a page. */
    public void cpuWrote(int i, int page, int word, long value) {
        regions[i].pages[page].setWord(word, value);
        regions[i].pages[page].cpuTouched();
    }

    /** The CPU read a page: it is back in system memory, no device holds it exclusive. */
    public void cpuRead(int i, int page) {
        regions[i].pages[page].cpuTouched();
    }

    /** Pages [first, end) were unmapped; returns whether nothing is left of the region, which is then gone. */
    public boolean unmapped(int i, int first, int end) {
        RegionModel r = regions[i];
        for (int p = first; p < end; p++) {
            r.pages[p].mapped = false;
            r.pages[p].clear();
            r.pages[p].cpuTouched();
        }
        if (!r.anyMapped()) {
            regions[i] = null;
            return true;
        }
        return false;
    }

    /** The mapped pages of [first, end) were protected to {@code protection}. */
    public void protect(int i, int first, int end, Memory.Protection protection) {
        for (int p = first; p < end; p++) {
            if (regions[i].pages[p].mapped) {
                regions[i].pages[p].protection = protection;
            }
        }
    }

    /** {@code MADV_DONTNEED} of [first, end): private pages read as zero afterwards, shared ones keep their data. */
    public void dontNeed(int i, int first, int end) {
        RegionModel r = regions[i];
        for (int p = first; p < end; p++) {
            if (r.pages[p].mapped) {
                if (r.kind().privateAnonymous()) {
                    r.pages[p].clear();
                }
                r.pages[p].cpuTouched();
            }
        }
    }

    /** The region was moved to {@code base} ({@code mremap}). */
    public void moved(int i, long base) {
        regions[i].moveTo(base);
    }

    /**
     * A forked child wrote {@code value} into word {@code word} of a page and exited: a shared
     * region sees it; fork restored every device-exclusive entry of the private regions.
     */
    public void childWrote(int i, int page, int word, long value) {
        if (regions[i].kind().shared()) {
            regions[i].pages[page].setWord(word, value);
        }
        for (RegionModel x : regions) {
            if (x != null && !x.kind().shared()) {
                for (PageModel p : x.pages) {
                    p.exclusiveSlot = -1;
                }
            }
        }
    }

    /** What a device access of pages [first, end) through mirror {@code slot} does to the special states. */
    public void deviceAccessed(int slot, int i, int first, int end, boolean faulted) {
        int device = devices[slot];
        for (int p = first; p < end; p++) {
            PageModel m = regions[i].pages[p];
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

    /** A device wrote {@code data} (pages from {@code dataPage}) into pages [first, end). */
    public void deviceWrote(int i, int first, int end, byte[] data, int dataPage) {
        for (int p = first; p < end; p++) {
            regions[i].pages[p].setBytes(Arrays.copyOfRange(data, (p - dataPage) * PAGE, (p - dataPage + 1) * PAGE));
        }
    }

    /**
     * rxe (the RDMA steps' second mirror) faulted pages [first, end) through its On-Demand Paging
     * region, as a CPU access does: hmm_range_fault() brings a page in device memory back and
     * revokes a device-exclusive entry.
     */
    public void nicTouched(int i, int first, int end) {
        for (int p = first; p < end; p++) {
            regions[i].pages[p].cpuTouched();
        }
    }

    /**
     * rxe wrote {@code data} (pages from {@code dataPage}) into pages [first, end): a write fault
     * first (as a CPU write: copy-on-write broken, device-exclusive entries revoked), then the bytes.
     */
    public void nicWrote(int i, int first, int end, byte[] data, int dataPage) {
        deviceWrote(i, first, end, data, dataPage);
        nicTouched(i, first, end);
    }

    /** The system says page {@code page} is back in system memory. */
    public void backInSystemMemory(int i, int page) {
        regions[i].pages[page].privateDevice = -1;
        regions[i].pages[page].privateSlot = -1;
    }

    /**
     * The system says page {@code page} is in the device memory of mirror {@code slot} after its
     * migration: it is that mirror's unless it was in device memory already (a page there stays the
     * mirror's that moved it: it is skipped).
     */
    public void migratedToDevice(int slot, int i, int page) {
        PageModel m = regions[i].pages[page];
        if (m.privateDevice < 0) {
            m.privateDevice = devices[slot];
            m.privateSlot = slot;
            m.exclusiveSlot = -1;
        }
    }

    /** Mirror {@code slot} migrated [first, end) back: its device's pages are in system memory. */
    public void migratedToSystem(int slot, int i, int first, int end) {
        for (int p = first; p < end; p++) {
            if (regions[i].pages[p].privateDevice == devices[slot]) {
                backInSystemMemory(i, p);
            }
        }
    }

    /** Mirror {@code slot} holds [first, end) exclusive (in system memory). */
    public void exclusive(int slot, int i, int first, int end) {
        for (int p = first; p < end; p++) {
            regions[i].pages[p].cpuTouched();
            regions[i].pages[p].exclusiveSlot = slot;
        }
    }

    /** Mirror {@code slot} added to word {@code word} of a page, which now holds {@code value}, exclusive. */
    public void atomicAdded(int slot, int i, int page, int word, long value) {
        PageModel p = regions[i].pages[page];
        p.setWord(word, value);
        p.cpuTouched();
        p.exclusiveSlot = slot;
    }

    /** Mirror {@code slot} was closed (bringing back what it moved) and opened again. */
    public void reopened(int slot) {
        for (RegionModel r : regions) {
            if (r != null) {
                for (PageModel p : r.pages) {
                    if (p.privateSlot == slot) {
                        p.privateDevice = -1;
                        p.privateSlot = -1;
                    }
                    if (p.exclusiveSlot == slot) {
                        p.exclusiveSlot = -1;
                    }
                }
            }
        }
    }

    /** {@code pages} pages of bytes drawn from {@code seed}. */
    public static byte[] pattern(long seed, int pages) {
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
}
