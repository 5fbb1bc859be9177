package dev.hmmmirror.programs;

import dev.hmmmirror.Access;
import dev.hmmmirror.Capability;
import dev.hmmmirror.Memory;
import dev.hmmmirror.Mirror;
import dev.hmmmirror.rdma.LoopbackConnection;
import dev.hmmmirror.rdma.MemoryRegion;
import dev.hmmmirror.rdma.OdpOperation;
import dev.hmmmirror.rdma.RdmaDevice;
import dev.hmmmirror.rdma.RdmaException;
import dev.hmmmirror.rdma.RdmaUnsupportedException;
import dev.hmmmirror.rdma.SoftRoce;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Two benchmarks of rxe's On-Demand Paging beside our device, side by side in one guest (run by
 * {@code hmm bench-rdma}). <b>First touch</b> by a device, three ways: for 1, 64, 512 and 16,384
 * pages of fresh anonymous memory that the CPU has written,
 * <ul>
 * <li><b>rxe ODP</b>: register an On-Demand Paging region ({@code ibv_reg_mr} with
 * {@code IBV_ACCESS_ON_DEMAND}: nothing mapped) and RDMA READ all of it (rxe faults the pages in
 * through {@code hmm_range_fault()});</li>
 * <li><b>rxe pinned</b>: register a pinned region ({@code pin_user_pages}: the cost moves to the
 * registration) and RDMA READ all of it;</li>
 * <li><b>ours</b>: {@code HMM_MIRROR_IOC_FAULT} ({@code hmm_range_fault()} into our device page
 * table) and {@code HMM_MIRROR_IOC_READ} of all of it.</li>
 * </ul>
 * Each repetition maps new memory for each way, in turn (ODP, pinned, ours), so that a change of
 * load falls on all three; the bytes read are checked. Printed: medians (min-max) of the setup
 * (registration or fault), the first read, their sum, and a second read of the mapped range; the
 * ratios of the sums to rxe ODP's. The RDMA goes through a loopback RC connection on
 * {@link SoftRoce#DEVICE}; its destination is a pinned buffer registered once.
 *
 * <p><b>Invalidation</b>: {@code munmap} of 16,384 pages and of 1 GiB the CPU has written, mapped
 * by no device, by our device, by an rxe ODP region (prefetched: every page mapped) or by both, by
 * turns; the time of the {@code munmap} call alone (its mmu notifiers invalidate each mirror, then
 * the pages are freed), medians with min-max and the ratios to no mirror.
 */
public final class RdmaBench {
    static final long[] SIZES = {1, 64, 512, 16_384};
    static final int MIN_REPETITIONS = 7;
    /** Pages from which a size runs its minimum of repetitions only: each takes seconds under TCG. */
    static final long LARGE = 4096;
    static final int LARGE_REPETITIONS = 3;
    /** The invalidation benchmark's sizes: 64 MiB and 1 GiB with 4 KiB pages (our ioctl's maximum). */
    static final long[] UNMAP_SIZES = {16_384, 262_144};
    /** Rounds of the invalidation benchmark: 9 for 64 MiB, 3 for 1 GiB (seconds a round under TCG). */
    static int unmapRepetitions(long pages) {
        return pages >= 262_144 ? 3 : 9;
    }
    static final long SECONDS_PER_SIZE = 4;
    /** How long an RDMA READ may take before it counts as lost: 10 s, or 4 ms a page for large READs. */
    static Duration opTimeout(int pages) {
        return Duration.ofMillis(Math.max(10_000, 4L * pages));
    }
    private static final int ETIMEDOUT = 110;

    private RdmaBench() {}

    private enum Way {
        ODP("rxe ODP"), PINNED("rxe pinned"), OURS("ours: fault + read");

        final String label;

        Way(String label) {
            this.label = label;
        }
    }

    public static void main(String[] args) throws Exception {
        int pageSize = (int) Memory.pageSize();
        System.out.println("rdma bench: setting up " + SoftRoce.DEVICE + " (soft-RoCE on a dummy netdev)");
        try (RdmaDevice rxe = SoftRoce.open(); Mirror mirror = Mirror.open(0)) {
            rxe.requireOdp(OdpOperation.READ);
            System.out.printf(Locale.ROOT, "first touch: a device reads N fresh pages the CPU wrote; kernel %s,"
                    + " %s (loopback RC, MTU 4096), /dev/hmm_mirror0 (ABI %d%s)%n", System.getProperty("os.version"),
                    rxe.name(), mirror.version().abiVersion(),
                    mirror.version().has(Capability.MIGRATE) ? ", device memory" : "");
            System.out.printf(Locale.ROOT, "%-6s %-20s %5s %22s %22s %22s %22s %8s%n", "pages", "way", "reps",
                    "setup us", "first read us", "setup+read us", "second read us", "vs ODP");
            for (long pages : SIZES) {
                run(rxe, mirror, (int) pages, pageSize);
            }
            System.out.println("setup: ibv_reg_mr (ODP: no pages mapped; pinned: pin_user_pages) or our "
                    + "HMM_MIRROR_IOC_FAULT; vs ODP: ratio of the setup+read medians");
            invalidation(rxe, mirror);
        } catch (RdmaUnsupportedException e) {
            System.out.println("rdma bench: cannot run here: " + e.getMessage());
        }
    }

    private static void run(RdmaDevice rxe, Mirror mirror, int pages, int pageSize) throws Exception {
        int ways = Way.values().length;
        List<List<long[]>> acc = new ArrayList<>();
        int[] timeouts = new int[ways];
        for (int w = 0; w < ways; w++) {
            acc.add(new ArrayList<>());
        }
        try (Memory buffer = Memory.anonymous(pages); Memory dst = Memory.anonymous(pages)) {
            MemoryRegion local = rxe.registerPinned(buffer);
            LoopbackConnection[] qp = {rxe.connectLoopback().timeout(opTimeout(pages))};
            // warm up every path (JIT, rxe's first packets) on a range of this size
            for (Way w : Way.values()) {
                once(w, rxe, mirror, qp, local, buffer, dst, pages, 0, new long[4]);
            }
            int reps = 0;
            long deadline = System.nanoTime() + SECONDS_PER_SIZE * 1_000_000_000L;
            int minimum = pages >= LARGE ? LARGE_REPETITIONS : MIN_REPETITIONS;
            while ((pages < LARGE && System.nanoTime() < deadline || reps < minimum) && reps < 1024) {
                for (Way w : Way.values()) {
                    long[] r = new long[4];
                    if (once(w, rxe, mirror, qp, local, buffer, dst, pages, reps + 1, r)) {
                        acc.get(w.ordinal()).add(r);
                    } else {
                        timeouts[w.ordinal()]++;
                    }
                }
                reps++;
            }
            long[][][] t = new long[ways][4][];
            for (int w = 0; w < ways; w++) {
                for (int k = 0; k < 4; k++) {
                    int kk = k;
                    t[w][k] = acc.get(w).stream().mapToLong(r -> r[kk]).sorted().toArray();
                }
            }
            long[] odpSums = t[Way.ODP.ordinal()][2];
            for (Way w : Way.values()) {
                long[][] x = t[w.ordinal()];
                String ratio = x[2].length == 0 || odpSums.length == 0 ? "-" : String.format(Locale.ROOT, "%.2f",
                        (double) x[2][x[2].length / 2] / odpSums[odpSums.length / 2]);
                System.out.printf(Locale.ROOT, "%-6d %-20s %5d %22s %22s %22s %22s %8s%s%n", pages, w.label,
                        x[0].length, cell(x[0]), cell(x[1]), cell(x[2]), cell(x[3]), ratio, timeouts[w.ordinal()] == 0
                                ? "" : "  (" + timeouts[w.ordinal()] + " READs timed out)");
            }
            local.close();
            qp[0].close();
        }
    }

    /**
     * One repetition of one way on new memory: r = {setup, first read, setup + first read, second
     * read} in ns. An RDMA READ without a completion in {@link #opTimeout} (seen under heavy host
     * load) leaves the queue pair in error: a new connection replaces it and the repetition counts
     * as timed out.
     *
     * @return false when a READ timed out
     */
    private static boolean once(Way w, RdmaDevice rxe, Mirror mirror, LoopbackConnection[] qp, MemoryRegion local,
            Memory buffer, Memory dst, int pages, int seed, long[] r) throws Exception {
        int pageSize = (int) Memory.pageSize();
        int bytes = pages * pageSize;
        try (Memory src = Memory.anonymous(pages)) {
            byte mark = (byte) (seed * 7 + w.ordinal() + 1);
            src.fill(mark); // the CPU writes every page: no device has seen them
            long t0;
            long t1;
            long t2;
            long t3;
            if (w == Way.OURS) {
                t0 = System.nanoTime();
                mirror.fault(src, Access.READ);
                t1 = System.nanoTime();
                mirror.read(src.address(), dst);
                t2 = System.nanoTime();
                check(dst, pages, mark, w);
                mirror.read(src.address(), dst);
                t3 = System.nanoTime();
            } else {
                t0 = System.nanoTime();
                try (MemoryRegion mr = w == Way.ODP ? rxe.registerOnDemand(src) : rxe.registerPinned(src)) {
                    t1 = System.nanoTime();
                    try {
                        qp[0].read(local, 0, mr, 0, bytes);
                        t2 = System.nanoTime();
                        check(buffer, pages, mark, w);
                        qp[0].read(local, 0, mr, 0, bytes);
                        t3 = System.nanoTime();
                    } catch (RdmaException e) {
                        if (e.errno() != ETIMEDOUT) {
                            throw e;
                        }
                        System.out.println("rdma bench: " + w.label + ", " + pages + " pages: " + e.getMessage());
                        qp[0].close();
                        qp[0] = rxe.connectLoopback().timeout(opTimeout(pages));
                        return false;
                    }
                }
            }
            r[0] = t1 - t0;
            r[1] = t2 - t1;
            r[2] = t2 - t0;
            r[3] = t3 - t2;
            return true;
        }
    }

    private enum Mirrors {
        NONE("no mirror"), OURS("ours"), RXE("rxe ODP"), BOTH("ours + rxe ODP");

        final String label;

        Mirrors(String label) {
            this.label = label;
        }
    }

    /**
     * The invalidation benchmark: for each size, {@link #unmapRepetitions} rounds (after one
     * warm-up round), each round the four ways in turn on new memory the CPU wrote.
     */
    private static void invalidation(RdmaDevice rxe, Mirror mirror) throws Exception {
        System.out.printf(Locale.ROOT, "invalidation: munmap of N pages the CPU wrote, mapped by 0, 1 or 2 mirrors "
                + "(our device faulted them, an rxe ODP region prefetched them)%n");
        System.out.printf(Locale.ROOT, "%-7s %-16s %5s %26s %12s%n", "pages", "mirrors", "reps", "munmap us",
                "vs none");
        for (long size : UNMAP_SIZES) {
            int pages = (int) size;
            Mirrors[] ways = Mirrors.values();
            int rounds = unmapRepetitions(pages);
            long[][] t = new long[ways.length][rounds];
            for (int rep = -1; rep < rounds; rep++) {
                System.out.printf(Locale.ROOT, "rdma bench: munmap of %d pages, %s%n", pages,
                        rep < 0 ? "warm-up" : "round " + (rep + 1) + " of " + rounds);
                for (Mirrors w : ways) {
                    long ns = unmapOnce(w, rxe, mirror, pages);
                    if (rep >= 0) {
                        t[w.ordinal()][rep] = ns;
                    }
                }
            }
            for (long[] x : t) {
                java.util.Arrays.sort(x);
            }
            long none = t[Mirrors.NONE.ordinal()][rounds / 2];
            for (Mirrors w : ways) {
                long[] x = t[w.ordinal()];
                System.out.printf(Locale.ROOT, "%-7d %-16s %5d %26s %12.2f%n", pages, w.label, x.length, cell(x),
                        (double) x[x.length / 2] / none);
            }
        }
    }

    /** One {@code munmap} of {@code pages} new pages the CPU wrote, mapped as {@code w} says; its time in ns. */
    private static long unmapOnce(Mirrors w, RdmaDevice rxe, Mirror mirror, int pages) throws Exception {
        try (Memory m = Memory.anonymous(pages)) {
            m.fill((byte) 1);
            MemoryRegion odp = null;
            try {
                if (w == Mirrors.OURS || w == Mirrors.BOTH) {
                    mirror.fault(m, Access.READ);
                }
                if (w == Mirrors.RXE || w == Mirrors.BOTH) {
                    odp = rxe.registerOnDemand(m);
                    odp.prefetch(0, (int) m.byteSize(), false);
                }
                long t0 = System.nanoTime();
                m.unmap(0, pages);
                return System.nanoTime() - t0;
            } finally {
                if (odp != null) {
                    odp.close();
                }
            }
        }
    }

    /** The first and last byte of every page read are what the CPU wrote (then cleared for the next round). */
    private static void check(Memory read, int pages, byte mark, Way w) {
        int pageSize = (int) Memory.pageSize();
        for (int p = 0; p < pages; p++) {
            long at = (long) p * pageSize;
            if (read.getByte(at) != mark || read.getByte(at + pageSize - 1) != mark) {
                throw new IllegalStateException(w.label + ": page " + p + " of " + pages + " read "
                        + read.getByte(at) + ", the CPU wrote " + mark);
            }
        }
        read.fill((byte) 0);
    }

    private static String cell(long[] sorted) {
        if (sorted.length == 0) {
            return "-";
        }
        return String.format(Locale.ROOT, "%.0f (%.0f-%.0f)", sorted[sorted.length / 2] / 1e3, sorted[0] / 1e3,
                sorted[sorted.length - 1] / 1e3);
    }
}
