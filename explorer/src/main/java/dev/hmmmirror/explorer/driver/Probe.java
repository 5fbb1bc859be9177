package dev.hmmmirror.explorer.driver;

import dev.hmmmirror.AbiVersion;
import dev.hmmmirror.Capability;
import dev.hmmmirror.HmmException;
import dev.hmmmirror.Mirror;
import dev.hmmmirror.Memory;
import dev.hmmmirror.explorer.model.Features;
import dev.hmmmirror.explorer.model.MapOrders;
import dev.hmmmirror.explorer.sys.Kernel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/** Asks the booted kernel and the loaded module what they can do. */
public final class Probe {
    private Probe() {}

    /** Detects the features through device 0 (reserving a few hugetlb pages when it can), without RDMA steps. */
    public static Features features() throws HmmException {
        return features(false);
    }

    /**
     * Detects the features through device 0 (reserving a few hugetlb pages when it can); with
     * {@code rdma}, also whether the guest has rxe with On-Demand Paging for the RDMA steps (making
     * {@code rxe0} if it can), else they stay off and nothing of hmm-rdma is loaded.
     */
    public static Features features(boolean rdma) throws HmmException {
        AbiVersion v;
        try (Mirror m = Mirror.open(0)) {
            v = m.version();
        }
        Set<Capability> caps = v.capabilities();
        List<String> missing = new ArrayList<>();
        boolean migrate = caps.contains(Capability.MIGRATE);
        boolean exclusive = caps.contains(Capability.EXCLUSIVE);
        if (!migrate) {
            missing.add("migration and device memory: kernel without CONFIG_DEVICE_PRIVATE");
        }
        if (!exclusive) {
            missing.add("exclusive access and atomics: kernel without CONFIG_DEVICE_PRIVATE");
        }
        boolean thp = caps.contains(Capability.THP) && !thpNever();
        if (!thp) {
            missing.add("THP regions: CONFIG_TRANSPARENT_HUGEPAGE off or transparent_hugepage=never");
        }
        boolean hugetlb = Kernel.reserveHugetlb(4) > 0;
        if (!hugetlb) {
            missing.add("hugetlb regions: no free huge pages (CONFIG_HUGETLBFS, vm.nr_hugepages)");
        }
        boolean swap = Kernel.hasSwap();
        if (!swap) {
            missing.add("swap: MADV_PAGEOUT reclaims no anonymous page in this guest");
        }
        boolean compact = Kernel.canCompact();
        if (!compact) {
            missing.add("compaction: no /proc/sys/vm/compact_memory (CONFIG_COMPACTION)");
        }
        boolean numa = Kernel.memoryNodes() >= 2;
        if (!numa) {
            missing.add("NUMA migration: the guest has one memory node (move_pages steps do nothing)");
        }
        if (v.deviceCount() < 2) {
            missing.add("a second device: the module has " + v.deviceCount());
        }
        boolean rdmaSteps = false;
        if (rdma) {
            Optional<String> why = Driver.rdmaMissing();
            rdmaSteps = why.isEmpty();
            why.ifPresent(w -> missing.add("RDMA steps (rxe On-Demand Paging): " + w));
        }
        Optional<MapOrders> orders = Optional.empty();
        if (caps.contains(Capability.MAP_ORDER)) {
            orders = Optional.of(MapOrders.of(Memory.pageSize(), Memory.hugePageSize(), Kernel.hugetlbSizes()));
        } else {
            missing.add("map-order checks: the module cannot report map orders (no MAP_ORDER capability)");
        }
        return new Features(v.deviceCount(), migrate, exclusive, caps.contains(Capability.SHARED_OWNER), thp, hugetlb,
                swap, compact, numa, rdmaSteps, List.copyOf(missing), orders);
    }

    private static boolean thpNever() {
        try {
            return Files.readString(Path.of("/sys/kernel/mm/transparent_hugepage/enabled")).contains("[never]");
        } catch (IOException e) {
            return true;
        }
    }
}
