package dev.hmmmirror.explorer.model;

import java.util.List;
import java.util.Optional;

/**
 * What the booted kernel and the loaded module can do, detected once per exploration (by the
 * driver's {@code Probe}): the explorer draws only actions the kernel supports, and says which it
 * left out and why.
 *
 * @param devices     devices of the module
 * @param migrate     device-private memory (CONFIG_DEVICE_PRIVATE)
 * @param exclusive   device-exclusive access
 * @param sharedOwner devices map each other's device memory in place
 * @param thp         transparent huge pages can be had with MADV_HUGEPAGE
 * @param hugetlb     free hugetlbfs pages were reserved
 * @param swap        the guest has swap (MADV_PAGEOUT can write pages out)
 * @param compact     /proc/sys/vm/compact_memory exists
 * @param numa        the guest has two memory nodes or more (move_pages can move pages)
 * @param rdma        RDMA steps are drawn: asked for ({@code --rdma}) and the guest has rxe with On-Demand
 *                    Paging (READ, WRITE and ATOMIC); off, the kinds and so every seed's programs are as before
 * @param missing     what is left out, each with the reason
 * @param mapOrders   the map orders this kernel's mappings can have, empty when the module cannot report
 *                    them (no {@code MAP_ORDER} capability)
 */
public record Features(int devices, boolean migrate, boolean exclusive, boolean sharedOwner, boolean thp,
        boolean hugetlb, boolean swap, boolean compact, boolean numa, boolean rdma, List<String> missing,
        Optional<MapOrders> mapOrders) {
    /** These features with {@code shared} as the owner choice (the module reloaded with another). */
    public Features withSharedOwner(boolean shared) {
        return new Features(devices, migrate, exclusive, shared, thp, hugetlb, swap, compact, numa, rdma, missing,
                mapOrders);
    }
}
