package dev.hmmmirror.rdma;

import dev.hmmmirror.rdma.internal.Ibv;
import dev.hmmmirror.rdma.internal.gen.Verbs;
import dev.hmmmirror.rdma.internal.gen.ibv_ah_attr;
import dev.hmmmirror.rdma.internal.gen.ibv_global_route;
import dev.hmmmirror.rdma.internal.gen.ibv_qp;
import dev.hmmmirror.rdma.internal.gen.ibv_qp_attr;
import dev.hmmmirror.rdma.internal.gen.ibv_qp_cap;
import dev.hmmmirror.rdma.internal.gen.ibv_qp_init_attr;
import dev.hmmmirror.rdma.internal.gen.ibv_send_wr;
import dev.hmmmirror.rdma.internal.gen.ibv_sge;
import dev.hmmmirror.rdma.internal.gen.ibv_wc;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;

/**
 * Two RC queue pairs of one device connected to each other (rxe loops traffic addressed to its
 * own GID back): the requester posts one work request at a time and waits for its completion;
 * the responder serves it from the target region. Both share one completion queue.
 *
 * <p>Each operation names a <em>local</em> region (the requester's buffer, by lkey) and a
 * <em>target</em> region (the responder's memory, by rkey); either may be On-Demand Paging or
 * pinned. An operation that completes with an error status throws
 * {@link WorkCompletionException} naming the status; the queue pair is then in the error state
 * and the connection refuses further operations (open a new one).
 *
 * <p>{@link #close()} destroys both queue pairs and the completion queue; it is idempotent.
 */
public final class LoopbackConnection implements AutoCloseable {
    private static final int DEPTH = 16;
    private static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);

    private final RdmaDevice device;
    private final MemorySegment cq;
    private final MemorySegment requester;
    private final MemorySegment responder;
    private final String target;
    private Duration timeout = DEFAULT_TIMEOUT;
    private long nextId = 1;
    private boolean failed;
    private boolean closed;

    private LoopbackConnection(RdmaDevice device, MemorySegment cq, MemorySegment requester, MemorySegment responder) {
        this.device = device;
        this.cq = cq;
        this.requester = requester;
        this.responder = responder;
        this.target = device.name() + " QP " + ibv_qp.qp_num(requester) + "->" + ibv_qp.qp_num(responder);
    }

    static LoopbackConnection open(RdmaDevice device) throws RdmaException {
        byte[] gid = new byte[16];
        int gidIndex = device.sourceGidIndex(gid);
        MemorySegment cq;
        try {
            cq = Ibv.createCq(device.context(), 2 * DEPTH);
        } catch (Ibv.NativeError e) {
            throw new RdmaException("ibv_create_cq", device.name(), e.errno, null);
        }
        MemorySegment a = null;
        MemorySegment b = null;
        try {
            a = createQp(device, cq);
            b = createQp(device, cq);
            int mtu = device.activeMtu();
            connect(device, a, ibv_qp.qp_num(b), gidIndex, gid, mtu);
            connect(device, b, ibv_qp.qp_num(a), gidIndex, gid, mtu);
            return new LoopbackConnection(device, cq, a, b);
        } catch (RdmaException e) {
            if (b != null) {
                Ibv.destroyQp(b);
            }
            if (a != null) {
                Ibv.destroyQp(a);
            }
            Ibv.destroyCq(cq);
            throw e;
        }
    }

    private static MemorySegment createQp(RdmaDevice device, MemorySegment cq) throws RdmaException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment init = a.allocate(ibv_qp_init_attr.layout());
            ibv_qp_init_attr.send_cq(init, cq);
            ibv_qp_init_attr.recv_cq(init, cq);
            ibv_qp_init_attr.qp_type(init, Verbs.IBV_QPT_RC());
            ibv_qp_init_attr.sq_sig_all(init, 0);
            MemorySegment cap = ibv_qp_init_attr.cap(init);
            ibv_qp_cap.max_send_wr(cap, DEPTH);
            ibv_qp_cap.max_recv_wr(cap, 1);
            ibv_qp_cap.max_send_sge(cap, 1);
            ibv_qp_cap.max_recv_sge(cap, 1);
            return Ibv.createQp(device.pd(), init);
        } catch (Ibv.NativeError e) {
            throw new RdmaException("ibv_create_qp (RC)", device.name(), e.errno, null);
        }
    }

    /** RESET -> INIT -> RTR -> RTS towards {@code remoteQpn} on this device's own GID. */
    private static void connect(RdmaDevice device, MemorySegment qp, int remoteQpn, int gidIndex, byte[] gid, int mtu)
            throws RdmaException {
        String what = device.name() + " QP " + ibv_qp.qp_num(qp);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment attr = a.allocate(ibv_qp_attr.layout());
            ibv_qp_attr.qp_state(attr, Verbs.IBV_QPS_INIT());
            ibv_qp_attr.pkey_index(attr, (short) 0);
            ibv_qp_attr.port_num(attr, (byte) RdmaDevice.PORT);
            ibv_qp_attr.qp_access_flags(attr, Verbs.IBV_ACCESS_LOCAL_WRITE() | Verbs.IBV_ACCESS_REMOTE_READ()
                    | Verbs.IBV_ACCESS_REMOTE_WRITE() | Verbs.IBV_ACCESS_REMOTE_ATOMIC());
            modify(qp, attr, Verbs.IBV_QP_STATE() | Verbs.IBV_QP_PKEY_INDEX() | Verbs.IBV_QP_PORT()
                    | Verbs.IBV_QP_ACCESS_FLAGS(), what + " to INIT");

            attr.fill((byte) 0);
            ibv_qp_attr.qp_state(attr, Verbs.IBV_QPS_RTR());
            ibv_qp_attr.path_mtu(attr, mtu);
            ibv_qp_attr.dest_qp_num(attr, remoteQpn);
            ibv_qp_attr.rq_psn(attr, 0);
            ibv_qp_attr.max_dest_rd_atomic(attr, (byte) 1);
            ibv_qp_attr.min_rnr_timer(attr, (byte) 12);
            MemorySegment ah = ibv_qp_attr.ah_attr(attr);
            ibv_ah_attr.is_global(ah, (byte) 1);
            ibv_ah_attr.port_num(ah, (byte) RdmaDevice.PORT);
            ibv_ah_attr.sl(ah, (byte) 0);
            MemorySegment grh = ibv_ah_attr.grh(ah);
            MemorySegment.copy(gid, 0, ibv_global_route.dgid(grh), ValueLayout.JAVA_BYTE, 0, 16);
            ibv_global_route.sgid_index(grh, (byte) gidIndex);
            ibv_global_route.hop_limit(grh, (byte) 1);
            modify(qp, attr, Verbs.IBV_QP_STATE() | Verbs.IBV_QP_AV() | Verbs.IBV_QP_PATH_MTU()
                    | Verbs.IBV_QP_DEST_QPN() | Verbs.IBV_QP_RQ_PSN() | Verbs.IBV_QP_MAX_DEST_RD_ATOMIC()
                    | Verbs.IBV_QP_MIN_RNR_TIMER(), what + " to RTR (GID " + RdmaDevice.gidText(gid) + ")");

            attr.fill((byte) 0);
            ibv_qp_attr.qp_state(attr, Verbs.IBV_QPS_RTS());
            ibv_qp_attr.timeout(attr, (byte) 14);
            ibv_qp_attr.retry_cnt(attr, (byte) 7);
            ibv_qp_attr.rnr_retry(attr, (byte) 7);
            ibv_qp_attr.sq_psn(attr, 0);
            ibv_qp_attr.max_rd_atomic(attr, (byte) 1);
            modify(qp, attr, Verbs.IBV_QP_STATE() | Verbs.IBV_QP_TIMEOUT() | Verbs.IBV_QP_RETRY_CNT()
                    | Verbs.IBV_QP_RNR_RETRY() | Verbs.IBV_QP_SQ_PSN() | Verbs.IBV_QP_MAX_QP_RD_ATOMIC(), what + " to RTS");
        }
    }

    private static void modify(MemorySegment qp, MemorySegment attr, int mask, String what) throws RdmaException {
        int rc = Ibv.modifyQp(qp, attr, mask);
        if (rc != 0) {
            throw new RdmaException("ibv_modify_qp", what, Math.abs(rc), null);
        }
    }

    /**
     * How long an operation waits for its completion before it throws (default 60 s: rxe under
     * QEMU TCG is slow, and an ODP fault may wait for reclaim or migration).
     *
     * @param timeout the wait per operation
     * @return this connection
     */
    public synchronized LoopbackConnection timeout(Duration timeout) {
        this.timeout = timeout;
        return this;
    }

    /**
     * RDMA READ: copies {@code bytes} from {@code from} at {@code fromOffset} (the target, by
     * rkey) into {@code into} at {@code intoOffset} (local, by lkey).
     *
     * @param into       the local region receiving the bytes
     * @param intoOffset byte offset in {@code into}
     * @param from       the target region read
     * @param fromOffset byte offset in {@code from}
     * @param bytes      how many bytes, 1 .. 2^31-1
     * @throws WorkCompletionException the completion's error status (e.g. {@code REM_ACCESS_ERR}
     *                                 when the target's pages cannot be faulted in)
     * @throws RdmaException           the errno of {@code ibv_post_send}; {@code ETIMEDOUT} without a
     *                                 completion in time
     */
    public void read(MemoryRegion into, long intoOffset, MemoryRegion from, long fromOffset, int bytes)
            throws RdmaException {
        post(Verbs.IBV_WR_RDMA_READ(), "RDMA READ", into, intoOffset, bytes, from, fromOffset, 0, 0);
    }

    /**
     * RDMA WRITE: copies {@code bytes} from {@code from} at {@code fromOffset} (local, by lkey)
     * into {@code to} at {@code toOffset} (the target, by rkey).
     *
     * @param from       the local region sent
     * @param fromOffset byte offset in {@code from}
     * @param to         the target region written
     * @param toOffset   byte offset in {@code to}
     * @param bytes      how many bytes, 1 .. 2^31-1
     * @throws WorkCompletionException the completion's error status
     * @throws RdmaException           the errno of {@code ibv_post_send}; {@code ETIMEDOUT} without a
     *                                 completion in time
     */
    public void write(MemoryRegion from, long fromOffset, MemoryRegion to, long toOffset, int bytes)
            throws RdmaException {
        post(Verbs.IBV_WR_RDMA_WRITE(), "RDMA WRITE", from, fromOffset, bytes, to, toOffset, 0, 0);
    }

    /**
     * Atomic fetch-and-add on the 8-byte word of {@code target} at {@code offset} (8-aligned);
     * the old value lands in {@code result} at {@code resultOffset} and is returned.
     *
     * @param target       the target region
     * @param offset       byte offset of the word, a multiple of 8
     * @param add          what to add
     * @param result       a local region for the old value
     * @param resultOffset byte offset in {@code result}
     * @return the word's value before the add
     * @throws RdmaUnsupportedException when the device has no atomics
     * @throws WorkCompletionException  the completion's error status
     * @throws RdmaException            the errno of {@code ibv_post_send}, or {@code ETIMEDOUT}
     */
    public long fetchAndAdd(MemoryRegion target, long offset, long add, MemoryRegion result, long resultOffset)
            throws RdmaException {
        requireAtomics(offset);
        post(Verbs.IBV_WR_ATOMIC_FETCH_AND_ADD(), "ATOMIC FETCH_AND_ADD", result, resultOffset, 8, target, offset, add,
                0);
        return MemorySegment.ofAddress(result.addressOf(resultOffset, 8)).reinterpret(8)
                .get(ValueLayout.JAVA_LONG_UNALIGNED, 0);
    }

    /**
     * Atomic compare-and-swap on the 8-byte word of {@code target} at {@code offset}
     * (8-aligned): when it equals {@code expected} it becomes {@code swap}; the old value lands in
     * {@code result} at {@code resultOffset} and is returned.
     *
     * @param target       the target region
     * @param offset       byte offset of the word, a multiple of 8
     * @param expected     the value compared
     * @param swap         the value stored when equal
     * @param result       a local region for the old value
     * @param resultOffset byte offset in {@code result}
     * @return the word's value before the operation (equal to {@code expected} when it swapped)
     * @throws RdmaUnsupportedException when the device has no atomics
     * @throws WorkCompletionException  the completion's error status
     * @throws RdmaException            the errno of {@code ibv_post_send}, or {@code ETIMEDOUT}
     */
    public long compareAndSwap(MemoryRegion target, long offset, long expected, long swap, MemoryRegion result,
            long resultOffset) throws RdmaException {
        requireAtomics(offset);
        post(Verbs.IBV_WR_ATOMIC_CMP_AND_SWP(), "ATOMIC CMP_AND_SWP", result, resultOffset, 8, target, offset,
                expected, swap);
        return MemorySegment.ofAddress(result.addressOf(resultOffset, 8)).reinterpret(8)
                .get(ValueLayout.JAVA_LONG_UNALIGNED, 0);
    }

    private void requireAtomics(long offset) throws RdmaUnsupportedException {
        if ((offset & 7) != 0) {
            throw new IllegalArgumentException("an atomic's word must be 8-byte aligned, offset " + offset);
        }
        if (!device.hasAtomics()) {
            throw new RdmaUnsupportedException("RDMA atomics", device.name(), 95,
                    device.name() + " reports atomic_cap IBV_ATOMIC_NONE");
        }
    }

    private synchronized void post(int opcode, String name, MemoryRegion local, long localOffset, int bytes,
            MemoryRegion remote, long remoteOffset, long compareAdd, long swap) throws RdmaException {
        if (closed) {
            throw new IllegalStateException("the connection is closed");
        }
        if (failed) {
            throw new IllegalStateException("the connection's queue pair is in the error state after a failed "
                    + "completion: open a new connection");
        }
        if (bytes <= 0) {
            throw new IllegalArgumentException("bytes must be positive, got " + bytes);
        }
        long localAddress = local.addressOf(localOffset, bytes);
        long remoteAddress = remote.addressOf(remoteOffset, opcode == Verbs.IBV_WR_RDMA_READ()
                || opcode == Verbs.IBV_WR_RDMA_WRITE() ? bytes : 8);
        String op = name + " " + bytes + " bytes, local 0x" + Long.toHexString(localAddress) + " (" + local
                + "), target 0x" + Long.toHexString(remoteAddress) + " (" + remote + ")";
        long id = nextId++;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment sge = a.allocate(ibv_sge.layout());
            ibv_sge.addr(sge, localAddress);
            ibv_sge.length(sge, bytes);
            ibv_sge.lkey(sge, local.lkey());
            MemorySegment wr = a.allocate(ibv_send_wr.layout());
            ibv_send_wr.wr_id(wr, id);
            ibv_send_wr.sg_list(wr, sge);
            ibv_send_wr.num_sge(wr, 1);
            ibv_send_wr.opcode(wr, opcode);
            ibv_send_wr.send_flags(wr, Verbs.IBV_SEND_SIGNALED());
            MemorySegment u = ibv_send_wr.wr(wr);
            if (opcode == Verbs.IBV_WR_RDMA_READ() || opcode == Verbs.IBV_WR_RDMA_WRITE()) {
                MemorySegment r = ibv_send_wr.wr.rdma(u);
                ibv_send_wr.wr.rdma.remote_addr(r, remoteAddress);
                ibv_send_wr.wr.rdma.rkey(r, remote.rkey());
            } else {
                MemorySegment at = ibv_send_wr.wr.atomic(u);
                ibv_send_wr.wr.atomic.remote_addr(at, remoteAddress);
                ibv_send_wr.wr.atomic.rkey(at, remote.rkey());
                ibv_send_wr.wr.atomic.compare_add(at, compareAdd);
                ibv_send_wr.wr.atomic.swap(at, swap);
            }
            MemorySegment bad = a.allocate(ValueLayout.ADDRESS);
            int rc = Ibv.postSend(requester, wr, bad);
            if (rc != 0) {
                throw new RdmaException("ibv_post_send " + op, target, Math.abs(rc), null);
            }
            MemorySegment wc = a.allocate(ibv_wc.layout());
            long deadline = System.nanoTime() + timeout.toNanos();
            int spins = 0;
            while (true) {
                int n = Ibv.pollCq(cq, 1, wc);
                if (n < 0) {
                    failed = true;
                    throw new RdmaException("ibv_poll_cq after " + op, target, 5 /* EIO */, null);
                }
                if (n == 1) {
                    int status = ibv_wc.status(wc);
                    if (status != Verbs.IBV_WC_SUCCESS()) {
                        failed = true;
                        throw new WorkCompletionException(op, target, WorkCompletionStatus.of(status),
                                Ibv.wcStatus(status), ibv_wc.vendor_err(wc));
                    }
                    if (ibv_wc.wr_id(wc) == id) {
                        return;
                    }
                    continue; // a completion of an earlier, timed-out request
                }
                if (System.nanoTime() > deadline) {
                    failed = true;
                    throw new RdmaException("ibv_poll_cq after " + op, target, 110 /* ETIMEDOUT */,
                            "no completion in " + timeout.toMillis() + " ms");
                }
                if (++spins > 100) {
                    Thread.sleep(0, 200_000);
                } else {
                    Thread.onSpinWait();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            failed = true;
            throw new RdmaException("ibv_poll_cq after " + op, target, 4 /* EINTR */, "interrupted");
        }
    }

    /**
     * Destroys both queue pairs and the completion queue. Idempotent.
     *
     * @throws RdmaException the errno of {@code ibv_destroy_qp} or {@code ibv_destroy_cq}
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
        int r1 = Ibv.destroyQp(requester);
        int r2 = Ibv.destroyQp(responder);
        int r3 = Ibv.destroyCq(cq);
        int rc = r1 != 0 ? r1 : r2 != 0 ? r2 : r3;
        if (rc != 0) {
            throw new RdmaException(r1 != 0 || r2 != 0 ? "ibv_destroy_qp" : "ibv_destroy_cq", target, Math.abs(rc),
                    null);
        }
    }

    @Override
    public String toString() {
        return "LoopbackConnection[" + target + "]";
    }
}
