package dev.hmmmirror.explorer.model;

import dev.hmmmirror.AbiVersion;
import dev.hmmmirror.Capability;
import dev.hmmmirror.HmmException;
import dev.hmmmirror.Mirror;
import dev.hmmmirror.explorer.sys.Kernel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * What the booted kernel and the loaded module can do, detected once per exploration: the
 * explorer draws only actions the kernel supports, and says which it left out and why.
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
 * @param missing     what is left out, each with the reason
 */
public record Features(int devices, boolean migrate, boolean exclusive, boolean sharedOwner, boolean thp,
        boolean hugetlb, boolean swap, boolean compact, boolean numa, List<String> missing) {

    /** Detects the features through device 0 (reserving a few hugetlb pages when it can). */
    public static Features detect() throws HmmException {
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
        return new Features(v.deviceCount(), migrate, exclusive, caps.contains(Capability.SHARED_OWNER), thp, hugetlb,
                swap, compact, numa, List.copyOf(missing));
    }

    private static boolean thpNever() {
        try {
            return Files.readString(Path.of("/sys/kernel/mm/transparent_hugepage/enabled")).contains("[never]");
        } catch (IOException e) {
            return true;
        }
    }
}
