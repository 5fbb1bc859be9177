package dev.hmmmirror.explorer.sys;

import dev.hmmmirror.Errno;
import dev.hmmmirror.raw.Mm;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

/**
 * What the explorer, the fuzzer and the race need of the guest beyond the bindings' API: guard
 * mappings over the holes a partial unmap leaves, writes into a child's memory, where the file
 * regions go, swap, hugetlb pages, NUMA nodes, khugepaged and compaction. The system calls
 * themselves are the bindings' ({@link Mm}): none is declared here.
 */
public final class Kernel {
    private Kernel() {}

    /**
     * Maps an inaccessible page run at exactly {@code address} (a guard over a hole, so that nothing
     * else is mapped there while the model calls it a hole); 0 or a negative errno.
     */
    public static int guard(long address, long length) {
        long r = Mm.mmap(address, length, Mm.PROT_NONE, Mm.MAP_PRIVATE | Mm.MAP_ANONYMOUS | Mm.MAP_FIXED_NOREPLACE,
                -1, 0);
        if (r < 0) {
            return (int) r;
        }
        if (r != address) {
            Mm.munmap(r, length);
            return -Errno.EEXIST.number();
        }
        return 0;
    }

    /** Writes a 64-bit word into process {@code pid}'s memory, as that process would. */
    public static void writeWord(int pid, long address, long value) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.nativeOrder()).putLong(0, value);
        try (FileChannel mem = FileChannel.open(Path.of("/proc/" + pid + "/mem"), StandardOpenOption.WRITE)) {
            if (mem.write(b, address) != 8) {
                throw new IOException("short write to /proc/" + pid + "/mem at 0x" + Long.toHexString(address));
            }
        }
    }

    /**
     * A tmpfs for the file regions: the first of /dev/shm, /tmp, /run that /proc/self/mounts lists
     * as tmpfs (under {@code hmm explore}, /tmp may be the host's directory over 9p, where a shared
     * mapping fails with EINVAL), else the JVM's temporary directory.
     */
    public static Path tmpfs() {
        try {
            List<String> mounts = Files.readAllLines(Path.of("/proc/self/mounts"));
            for (String dir : List.of("/dev/shm", "/tmp", "/run")) {
                for (String m : mounts) {
                    String[] f = m.split(" ");
                    if (f.length > 2 && f[1].equals(dir) && f[2].equals("tmpfs") && Files.isWritable(Path.of(dir))) {
                        return Path.of(dir);
                    }
                }
            }
        } catch (IOException e) {
            // no /proc: fall back
        }
        return Path.of(System.getProperty("java.io.tmpdir"));
    }

    /** Whether the guest has swap space (a write of {@code MADV_PAGEOUT} may reach it). */
    public static boolean hasSwap() {
        try {
            return Files.readAllLines(Path.of("/proc/swaps")).size() > 1;
        } catch (IOException e) {
            return false;
        }
    }

    /** Free hugetlb pages of the default size, after asking for {@code wanted} in all. */
    public static long reserveHugetlb(int wanted) {
        Path nr = Path.of("/proc/sys/vm/nr_hugepages");
        try {
            if (Long.parseLong(Files.readString(nr).strip()) < wanted) {
                Files.writeString(nr, Integer.toString(wanted));
            }
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("HugePages_Free:")) {
                    return Long.parseLong(line.substring(15).strip());
                }
            }
        } catch (IOException | RuntimeException e) {
            return 0;
        }
        return 0;
    }

    /** The guest's NUMA nodes with memory ({@code /sys/devices/system/node/has_memory}, e.g. "0-1"): their count. */
    public static int memoryNodes() {
        try {
            int n = 0;
            for (String part : Files.readString(Path.of("/sys/devices/system/node/has_memory")).strip().split(",")) {
                String[] ends = part.split("-");
                n += ends.length == 1 ? 1 : Integer.parseInt(ends[1]) - Integer.parseInt(ends[0]) + 1;
            }
            return n;
        } catch (IOException | RuntimeException e) {
            return 1;
        }
    }

    /**
     * {@code move_pages(2)} of this process's pages at {@code addresses}: to {@code node} with
     * {@code MPOL_MF_MOVE}, or (node {@code < 0}) only asks where each page is. Returns each page's
     * status (its node, or {@code -errno}: {@code -ENOENT} for a page not present or not movable);
     * throws when the call itself fails.
     *
     * <p>The query answers the same on every kernel: 6.1's reports {@code -ENOENT} for a present
     * page whose PTE is {@code PROT_NONE} (an inaccessible mapping, or a NUMA-balancing hinting
     * PTE; its {@code follow_page()} refuses such PTEs since 474098edac26, fixed in 6.5 by
     * d74943a2f3cd, not in 6.1.y), where later kernels give the node. Such a page, present in
     * {@code /proc/self/pagemap}, is reported on the node of its page frame instead ({@link
     * #frameNode}; the frames need root). A move ({@code node >= 0}) is not changed: 6.1 leaves such
     * pages where they are with {@code -ENOENT}.
     */
    public static int[] movePages(long[] addresses, int node) {
        int[] out = Mm.movePages(addresses, node);
        for (int i = 0; node < 0 && i < out.length; i++) {
            if (out[i] == -Errno.ENOENT.number()) {
                out[i] = frameNode(addresses[i]).orElse(out[i]);
            }
        }
        return out;
    }

    private static final long PAGEMAP_PRESENT = 1L << 63;
    private static final long PAGEMAP_PFN = (1L << 55) - 1;

    /**
     * The NUMA node of the page frame that this process maps at {@code address}, from
     * {@code /proc/self/pagemap} (present bit and frame number; the frame number reads as 0 without
     * root) and the memory blocks each node lists in sysfs; empty where the page is not present
     * (never touched, swapped, in device memory) or the frame cannot be read. The PTE's protection
     * does not matter, unlike for {@code move_pages(2)}'s query on 6.1.
     */
    public static OptionalInt frameNode(long address) {
        long entry;
        try (FileChannel pm = FileChannel.open(Path.of("/proc/self/pagemap"), StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.nativeOrder());
            if (pm.read(b, address / dev.hmmmirror.Memory.pageSize() * 8) != 8) {
                return OptionalInt.empty();
            }
            entry = b.getLong(0);
        } catch (IOException e) {
            return OptionalInt.empty();
        }
        long pfn = entry & PAGEMAP_PFN;
        if ((entry & PAGEMAP_PRESENT) == 0 || pfn == 0) {
            return OptionalInt.empty();
        }
        Integer n = MemoryBlocks.NODES.get(pfn * dev.hmmmirror.Memory.pageSize() / MemoryBlocks.SIZE);
        return n == null ? OptionalInt.empty() : OptionalInt.of(n);
    }

    /** Which node each memory block of {@code /sys/devices/system/memory} belongs to (read once). */
    private static final class MemoryBlocks {
        static final long SIZE;
        static final Map<Long, Integer> NODES = new HashMap<>();

        static {
            long size = 128L << 20;
            try {
                size = Long.parseLong(Files.readString(Path.of("/sys/devices/system/memory/block_size_bytes")).strip(), 16);
                try (DirectoryStream<Path> nodes = Files.newDirectoryStream(Path.of("/sys/devices/system/node"), "node[0-9]*")) {
                    for (Path dir : nodes) {
                        int node = Integer.parseInt(dir.getFileName().toString().substring(4));
                        try (DirectoryStream<Path> blocks = Files.newDirectoryStream(dir, "memory[0-9]*")) {
                            for (Path b : blocks) {
                                NODES.put(Long.parseLong(b.getFileName().toString().substring(6)), node);
                            }
                        }
                    }
                }
            } catch (IOException | RuntimeException e) {
                NODES.clear(); // no sysfs memory blocks: no frame's node is known
            }
            SIZE = size;
        }
    }

    /**
     * Keeps automatic NUMA balancing off while open ({@code /proc/sys/kernel/numa_balancing} 0, the
     * old value back on close; nothing to do where it is off or absent). Its scanner makes the PTEs
     * of a whole range {@code PROT_NONE} at moments of its own (hinting faults, then maybe a
     * migration to the faulting CPU's node): a snapshot then sees no page there, and 6.1's
     * {@code move_pages(2)} neither moves such pages nor reports their node ({@code -ENOENT}): the
     * cause of {@code NumaMigrationIT}'s failures on bookworm in December 2026, then blamed on the
     * guest JVM's JIT (a fast scanner reproduces them with and without it). Guests boot with
     * {@code numa_balancing=disable}; a test that places pages on nodes holds it off itself,
     * whatever the command line.
     */
    public static NumaBalancingHold keepNumaBalancingOff() {
        try {
            String old = Files.readString(NUMA_BALANCING).strip();
            if (old.equals("0")) {
                return new NumaBalancingHold(null);
            }
            Files.writeString(NUMA_BALANCING, "0");
            return new NumaBalancingHold(old);
        } catch (IOException | SecurityException e) {
            return new NumaBalancingHold(null);
        }
    }

    private static final Path NUMA_BALANCING = Path.of("/proc/sys/kernel/numa_balancing");

    /**
     * What {@link #keepNumaBalancingOff()} changed.
     *
     * @param old {@code numa_balancing} before, or null when nothing was changed
     */
    public record NumaBalancingHold(String old) implements AutoCloseable {
        /** Whether this hold turned NUMA balancing off. */
        public boolean held() {
            return old != null;
        }

        @Override
        public void close() throws IOException {
            if (old != null) {
                Files.writeString(NUMA_BALANCING, old);
            }
        }
    }

    /** khugepaged's limit of non-present PTEs (swap, device-private, migration) in a range it collapses. */
    private static final Path MAX_PTES_SWAP = Path.of("/sys/kernel/mm/transparent_hugepage/khugepaged/max_ptes_swap");

    /**
     * Keeps khugepaged away from ranges with pages in device memory while open: sets its
     * {@code max_ptes_swap} to 0 and restores the old value on close (nothing to do without THP).
     * khugepaged counts a device-private entry as a swap entry and "swaps it in" to collapse the
     * range, i.e. migrates the page back from device memory, at a moment of its own (found by the
     * 7.2 debug campaign of December 2026; {@code ThpMigrationIT} shows it with
     * {@code MADV_COLLAPSE}), which a model that checks every step cannot predict.
     */
    public static KhugepagedHold keepKhugepagedOffDeviceMemory() {
        try {
            String old = Files.readString(MAX_PTES_SWAP).strip();
            Files.writeString(MAX_PTES_SWAP, "0");
            return new KhugepagedHold(old);
        } catch (IOException | SecurityException e) {
            return new KhugepagedHold(null);
        }
    }

    /**
     * What {@link #keepKhugepagedOffDeviceMemory()} changed.
     *
     * @param old khugepaged's {@code max_ptes_swap} before, or null when nothing was changed
     */
    public record KhugepagedHold(String old) implements AutoCloseable {
        /** Whether khugepaged is kept off device memory by this hold. */
        public boolean held() {
            return old != null;
        }

        @Override
        public void close() throws IOException {
            if (old != null) {
                Files.writeString(MAX_PTES_SWAP, old);
            }
        }
    }

    /** Compacts all zones ({@code /proc/sys/vm/compact_memory}); false where the kernel cannot. */
    public static boolean compact() {
        try {
            Files.writeString(Path.of("/proc/sys/vm/compact_memory"), "1");
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * A line about the guest's memory: MemFree, MemAvailable, Committed_AS and CommitLimit of
     * /proc/meminfo, this process's VmSize and VmRSS, and how many page blocks of order 3 and up
     * are free (a fork under KASAN needs an order-3 kernel stack).
     */
    public static String memorySummary() {
        StringBuilder b = new StringBuilder();
        try {
            for (String l : Files.readAllLines(Path.of("/proc/meminfo"))) {
                for (String k : List.of("MemFree:", "MemAvailable:", "Committed_AS:", "CommitLimit:")) {
                    if (l.startsWith(k)) {
                        b.append(k).append(' ').append(l.substring(k.length()).strip()).append(", ");
                    }
                }
            }
            for (String l : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (l.startsWith("VmSize:") || l.startsWith("VmRSS:")) {
                    b.append(l.replaceAll("\\s+", " ")).append(", ");
                }
            }
            long high = 0;
            for (String l : Files.readAllLines(Path.of("/proc/buddyinfo"))) {
                String[] f = l.trim().split("\\s+");
                for (int i = 4 + 3; i < f.length; i++) { // "Node N, zone NAME" then orders 0..10
                    high += Long.parseLong(f[i]);
                }
            }
            b.append("free blocks of order >= 3: ").append(high);
        } catch (IOException | RuntimeException e) {
            b.append("(unreadable: ").append(e.getMessage()).append(')');
        }
        return b.toString();
    }

    public static boolean canCompact() {
        return Files.isWritable(Path.of("/proc/sys/vm/compact_memory"));
    }

    /** The hugetlb page sizes this kernel has, in bytes (from /sys/kernel/mm/hugepages/hugepages-NkB). */
    public static java.util.Set<Long> hugetlbSizes() {
        java.util.Set<Long> sizes = new java.util.TreeSet<>();
        try (DirectoryStream<Path> dir = Files.newDirectoryStream(Path.of("/sys/kernel/mm/hugepages"), "hugepages-*kB")) {
            for (Path p : dir) {
                String n = p.getFileName().toString();
                sizes.add(Long.parseLong(n.substring("hugepages-".length(), n.length() - 2)) * 1024);
            }
        } catch (IOException | NumberFormatException e) {
            // no hugetlbfs: no hugetlb mappings either
        }
        return sizes;
    }
}
