package dev.hmmmirror.rdma;

/**
 * An operation a device can serve from On-Demand Paging memory regions on one transport
 * ({@code IBV_ODP_SUPPORT_*} of the per-transport caps; a host test checks the bits against the
 * generated bindings).
 */
public enum OdpOperation {
    /** SEND from an ODP MR. */
    SEND(1),
    /** RECV into an ODP MR. */
    RECV(1 << 1),
    /** RDMA WRITE into an ODP MR. */
    WRITE(1 << 2),
    /** RDMA READ from an ODP MR. */
    READ(1 << 3),
    /** Atomics (fetch-add, compare-swap) on an ODP MR. */
    ATOMIC(1 << 4),
    /** SRQ RECV into an ODP MR. */
    SRQ_RECV(1 << 5),
    /** FLUSH of an ODP MR. */
    FLUSH(1 << 6),
    /** ATOMIC WRITE to an ODP MR. */
    ATOMIC_WRITE(1 << 7);

    final int bit;

    OdpOperation(int bit) {
        this.bit = bit;
    }

    /**
     * The bit of {@code ibv_odp_caps.per_transport_caps} for this operation.
     *
     * @return the {@code IBV_ODP_SUPPORT_*} value
     */
    public int bit() {
        return bit;
    }

    static java.util.Set<OdpOperation> of(int bits) {
        java.util.EnumSet<OdpOperation> s = java.util.EnumSet.noneOf(OdpOperation.class);
        for (OdpOperation o : values()) {
            if ((bits & o.bit) != 0) {
                s.add(o);
            }
        }
        return java.util.Collections.unmodifiableSet(s);
    }
}
