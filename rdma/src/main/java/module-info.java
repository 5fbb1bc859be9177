/**
 * RDMA verbs over hmm-mirror's {@code Memory}: an rxe (soft-RoCE) device, memory regions that are
 * On-Demand Paging (a second, real HMM mirror: {@code ib_umem_odp} with {@code hmm_range_fault()}
 * and an {@code mmu_interval_notifier}) or pinned, and a loopback RC connection for RDMA READ,
 * WRITE and atomics.
 *
 * <p>{@code dev.hmmmirror.rdma} is the API (no FFM types in it); the jextract output of libibverbs
 * ({@code dev.hmmmirror.rdma.internal.gen}) and the FFM calls ({@code dev.hmmmirror.rdma.internal})
 * are not exported. Needs {@code libibverbs.so.1} with the rxe provider (Debian: libibverbs1,
 * ibverbs-providers) and {@code --enable-native-access=dev.hmmmirror.rdma} (or ALL-UNNAMED on the
 * class path).
 */
module dev.hmmmirror.rdma {
    requires transitive dev.hmmmirror;

    exports dev.hmmmirror.rdma;
}
