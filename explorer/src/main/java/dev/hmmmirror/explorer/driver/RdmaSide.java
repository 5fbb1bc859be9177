package dev.hmmmirror.explorer.driver;

import dev.hmmmirror.Errno;
import dev.hmmmirror.Memory;
import dev.hmmmirror.explorer.engine.Stats;
import dev.hmmmirror.rdma.LoopbackConnection;
import dev.hmmmirror.rdma.MemoryRegion;
import dev.hmmmirror.rdma.OdpOperation;
import dev.hmmmirror.rdma.RdmaDevice;
import dev.hmmmirror.rdma.RdmaException;
import dev.hmmmirror.rdma.SoftRoce;
import dev.hmmmirror.rdma.WorkCompletionException;
import java.time.Duration;
import java.util.Optional;

/**
 * The RDMA steps' second mirror: the guest's rxe device ({@link SoftRoce}), an On-Demand Paging
 * memory region over each program region it touches (registered on the first RDMA step on that
 * region, deregistered when the region goes or moves), and one loopback connection into a small
 * pinned buffer. The only class of the explorer that names hmm-rdma's types: it is loaded on the
 * first RDMA step (or by {@link #missing()} when a campaign asks for RDMA steps), so a campaign
 * without them needs no hmm-rdma on its classpath. A failed work completion comes back as its
 * status' name (the connection is made anew: the old one is in the error state).
 */
final class RdmaSide implements AutoCloseable {
    /** Pages one RDMA step moves at most (64 KiB with 4 KiB pages: the size the rxe tests use). */
    static final int MAX_PAGES = 16;
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final int PAGE = (int) Memory.pageSize();

    private final Stats stats;
    private final RdmaDevice device;
    private final MemoryRegion[] odp;
    private final Memory local;
    private final MemoryRegion buffer;
    private LoopbackConnection qp;

    private RdmaSide(Stats stats, RdmaDevice device, int regions, Memory local, MemoryRegion buffer,
            LoopbackConnection qp) {
        this.stats = stats;
        this.device = device;
        this.odp = new MemoryRegion[regions];
        this.local = local;
        this.buffer = buffer;
        this.qp = qp;
    }

    /** Why the guest cannot do the RDMA steps (makes rxe0 if it can), or empty. */
    static Optional<String> missing() {
        try {
            SoftRoce.ensure();
            try (RdmaDevice d = RdmaDevice.open(SoftRoce.DEVICE)) {
                d.requireOdp(OdpOperation.READ, OdpOperation.WRITE, OdpOperation.ATOMIC);
                if (!d.hasAtomics()) {
                    return Optional.of(SoftRoce.DEVICE + " has no atomics (atomic_cap IBV_ATOMIC_NONE)");
                }
            }
            return Optional.empty();
        } catch (RdmaException | RuntimeException | LinkageError e) {
            return Optional.of(e.getMessage());
        }
    }

    /** Opens rxe0 (making it first if needed), a pinned buffer and a loopback connection. */
    static RdmaSide open(Stats stats, int regions) throws Exception {
        SoftRoce.ensure();
        RdmaDevice device = RdmaDevice.open(SoftRoce.DEVICE);
        Memory local = null;
        try {
            local = Memory.anonymous(MAX_PAGES);
            MemoryRegion buffer = device.registerPinned(local);
            LoopbackConnection qp = device.connectLoopback().timeout(TIMEOUT);
            stats.calls += 3;
            return new RdmaSide(stats, device, regions, local, buffer, qp);
        } catch (Exception | Error e) {
            device.close();
            if (local != null) {
                local.close();
            }
            throw e;
        }
    }

    /** The ODP region over {@code memory} in {@code slot}, registered now if it is not yet. */
    private MemoryRegion region(int slot, Memory memory) throws RdmaException {
        if (odp[slot] == null) {
            odp[slot] = device.registerOnDemand(memory);
            stats.calls++;
        }
        return odp[slot];
    }

    /** Deregisters the ODP region of {@code slot} (its memory goes or moves). */
    void forget(int slot) throws RdmaException {
        if (odp[slot] != null) {
            MemoryRegion r = odp[slot];
            odp[slot] = null;
            r.close();
            stats.calls++;
        }
    }

    /** RDMA READ of {@code pages} pages from byte {@code offset} of region {@code slot}'s memory. */
    Driver.RdmaResult read(int slot, Memory memory, long offset, int pages) throws Exception {
        MemoryRegion r = region(slot, memory);
        int n = pages * PAGE;
        String status = complete(() -> qp.read(buffer, 0, r, offset, n));
        return new Driver.RdmaResult(status, status == null ? local.bytes(0, n) : null, 0);
    }

    /** RDMA WRITE of {@code data} (whole pages) at byte {@code offset} of region {@code slot}'s memory. */
    Driver.RdmaResult write(int slot, Memory memory, long offset, byte[] data) throws Exception {
        MemoryRegion r = region(slot, memory);
        local.write(0, data);
        return new Driver.RdmaResult(complete(() -> qp.write(buffer, 0, r, offset, data.length)), null, 0);
    }

    /** Atomic fetch-and-add of {@code add} on the word at byte {@code offset} of region {@code slot}'s memory. */
    Driver.RdmaResult fetchAndAdd(int slot, Memory memory, long offset, long add) throws Exception {
        MemoryRegion r = region(slot, memory);
        long[] old = new long[1];
        String status = complete(() -> old[0] = qp.fetchAndAdd(r, offset, add, buffer, 0));
        return new Driver.RdmaResult(status, null, old[0]);
    }

    private interface Op {
        void run() throws RdmaException;
    }

    /** Runs {@code op}: null when it completed, else its work-completion status (and a new connection). */
    private String complete(Op op) throws RdmaException {
        stats.calls++;
        try {
            op.run();
            return null;
        } catch (WorkCompletionException e) {
            qp.close();
            qp = device.connectLoopback().timeout(TIMEOUT);
            stats.calls++;
            return e.status().name();
        } catch (RdmaException e) {
            if (e.errno() == Errno.ETIMEDOUT.number()) {
                throw new IllegalStateException("rxe gave no completion in " + TIMEOUT.toSeconds() + " s: "
                        + e.getMessage(), e);
            }
            throw e;
        }
    }

    /** Deregisters every region, closes the connection, the buffer and the device. */
    @Override
    public void close() {
        for (int i = 0; i < odp.length; i++) {
            try {
                forget(i);
            } catch (RdmaException e) {
                // best effort: closing the device releases the rest
            }
        }
        try {
            device.close(); // its connections and regions with it
        } catch (RdmaException e) {
            // best effort
        }
        local.close();
    }
}
