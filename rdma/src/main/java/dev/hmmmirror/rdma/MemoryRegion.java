package dev.hmmmirror.rdma;

import dev.hmmmirror.rdma.internal.Ibv;
import dev.hmmmirror.rdma.internal.gen.Verbs;
import dev.hmmmirror.rdma.internal.gen.ibv_mr;
import dev.hmmmirror.rdma.internal.gen.ibv_sge;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A registered memory region over a {@code Memory}: On-Demand Paging (nothing pinned; the
 * device mirrors the process's page table through HMM) or pinned. Offsets are bytes from the
 * start of the memory. {@link #close()} deregisters it ({@code ibv_dereg_mr}); it is idempotent.
 */
public final class MemoryRegion implements AutoCloseable {
    private final RdmaDevice device;
    private final MemorySegment mr;
    private final long address;
    private final long length;
    private final boolean onDemand;
    private boolean closed;

    MemoryRegion(RdmaDevice device, MemorySegment mr, long address, long length, boolean onDemand) {
        this.device = device;
        this.mr = mr;
        this.address = address;
        this.length = length;
        this.onDemand = onDemand;
    }

    /**
     * The start address of the region in this process.
     *
     * @return the registered address
     */
    public long address() {
        return address;
    }

    /**
     * The region's length.
     *
     * @return bytes registered
     */
    public long length() {
        return length;
    }

    /**
     * Whether this is an On-Demand Paging region.
     *
     * @return true for ODP, false for pinned
     */
    public boolean onDemand() {
        return onDemand;
    }

    /**
     * The local key (for this region as the local buffer of a work request).
     *
     * @return {@code ibv_mr.lkey}
     */
    public synchronized int lkey() {
        checkOpen();
        return ibv_mr.lkey(mr);
    }

    /**
     * The remote key (for this region as the target of RDMA READ, WRITE and atomics).
     *
     * @return {@code ibv_mr.rkey}
     */
    public synchronized int rkey() {
        checkOpen();
        return ibv_mr.rkey(mr);
    }

    long addressOf(long offset, long bytes) {
        if (offset < 0 || bytes < 0 || offset > length - bytes) {
            throw new IllegalArgumentException("bytes " + offset + ".." + (offset + bytes) + " are outside the region of "
                    + length + " bytes");
        }
        return address + offset;
    }

    /**
     * Asks the device to fault {@code bytes} at {@code offset} in now ({@code ibv_advise_mr}
     * with {@code IBV_ADVISE_MR_ADVICE_PREFETCH[_WRITE]} and {@code IBV_ADVISE_MR_FLAG_FLUSH}:
     * synchronous), so that a later access finds them mapped.
     *
     * @param offset byte offset in the region
     * @param bytes  how many bytes
     * @param write  prefetch for writing (the pages are faulted writable)
     * @throws RdmaUnsupportedException {@code EOPNOTSUPP} when the device or kernel has no prefetch
     * @throws RdmaException            the errno of {@code ibv_advise_mr}
     */
    public synchronized void prefetch(long offset, int bytes, boolean write) throws RdmaException {
        checkOpen();
        if (!onDemand) {
            throw new IllegalStateException("prefetch is for On-Demand Paging regions; this one is pinned");
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment sge = a.allocate(ibv_sge.layout());
            ibv_sge.addr(sge, addressOf(offset, bytes));
            ibv_sge.length(sge, bytes);
            ibv_sge.lkey(sge, ibv_mr.lkey(mr));
            int advice = write ? Verbs.IBV_ADVISE_MR_ADVICE_PREFETCH_WRITE() : Verbs.IBV_ADVISE_MR_ADVICE_PREFETCH();
            int rc = Ibv.adviseMr(device.context(), device.pd(), advice, Verbs.IBV_ADVISE_MR_FLAG_FLUSH(), sge, 1);
            if (rc == 95) {
                throw new RdmaUnsupportedException("ibv_advise_mr", device.name(), rc, "kernel "
                        + System.getProperty("os.version") + ": " + device.name() + " has no ODP prefetch");
            }
            if (rc != 0) {
                throw new RdmaException("ibv_advise_mr", device.name() + " at 0x" + Long.toHexString(address + offset),
                        rc, null);
            }
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("the memory region is closed");
        }
    }

    /**
     * Deregisters the region. Idempotent.
     *
     * @throws RdmaException the errno of {@code ibv_dereg_mr}
     */
    @Override
    public void close() throws RdmaException {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        device.forget(this);
        int rc = Ibv.deregMr(mr);
        if (rc != 0) {
            throw new RdmaException("ibv_dereg_mr", device.name(), rc, null);
        }
    }

    @Override
    public String toString() {
        return (onDemand ? "ODP" : "pinned") + " MR[0x" + Long.toHexString(address) + "+" + length + " on "
                + device.name() + "]";
    }
}
