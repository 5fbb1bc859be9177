package dev.hmmmirror.guest.mm;

import dev.hmmmirror.explorer.sys.Kernel;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * What the kernel itself says about this process's pages, independent of the module:
 * {@code /proc/self/pagemap} (present, swapped, page frame; root sees frames),
 * {@code /proc/kpagecount} and the node a page is on ({@code move_pages} without target nodes).
 */
public final class PageMap {
    public static final long PAGE = dev.hmmmirror.Memory.pageSize(); // 4 KiB, or 16/64 KiB on arm64 kernels
    private static final long PRESENT = 1L << 63, SWAPPED = 1L << 62, PFN_MASK = (1L << 55) - 1;

    private PageMap() {}

    /** One pagemap entry. */
    public record Entry(boolean present, boolean swapped, long pfn) {}

    public static Entry[] entries(long address, int pages) {
        try (RandomAccessFile f = new RandomAccessFile("/proc/self/pagemap", "r")) {
            byte[] raw = new byte[pages * 8];
            f.seek(address / PAGE * 8);
            f.readFully(raw);
            MemorySegment s = MemorySegment.ofArray(raw);
            Entry[] e = new Entry[pages];
            for (int i = 0; i < pages; i++) {
                long v = s.get(ValueLayout.JAVA_LONG_UNALIGNED, i * 8L);
                e[i] = new Entry((v & PRESENT) != 0, (v & SWAPPED) != 0, (v & PRESENT) != 0 ? v & PFN_MASK : -1);
            }
            return e;
        } catch (IOException ex) {
            throw new AssertionError("reading /proc/self/pagemap", ex);
        }
    }

    public static int swapped(long address, int pages) {
        int n = 0;
        for (Entry e : entries(address, pages)) {
            n += e.swapped() ? 1 : 0;
        }
        return n;
    }

    public static int present(long address, int pages) {
        int n = 0;
        for (Entry e : entries(address, pages)) {
            n += e.present() ? 1 : 0;
        }
        return n;
    }

    /** {@code /proc/kpagecount} of a page frame: how many times it is mapped. */
    public static long kpagecount(long pfn) {
        return pfnWord("/proc/kpagecount", pfn);
    }

    /** The 64-bit word of page frame {@code pfn} in {@code /proc/kpagecount} or {@code /proc/kpageflags}. */
    private static long pfnWord(String file, long pfn) {
        try (RandomAccessFile f = new RandomAccessFile(file, "r")) {
            f.seek(pfn * 8);
            byte[] raw = new byte[8];
            f.readFully(raw);
            return MemorySegment.ofArray(raw).get(ValueLayout.JAVA_LONG_UNALIGNED, 0);
        } catch (IOException ex) {
            throw new AssertionError("reading " + file, ex);
        }
    }

    /** {@code KPF_DIRTY} of {@code /proc/kpageflags}: the folio is dirty (the PTE's own dirty bit is not in it). */
    public static final int KPF_DIRTY = 4;
    /** {@code KPF_SWAPCACHE}: the page is in the swap cache. */
    public static final int KPF_SWAPCACHE = 13;

    /** {@code /proc/kpageflags} of a page frame ({@code KPF_*} bits, Documentation/admin-guide/mm/pagemap.rst). */
    public static long kpageflags(long pfn) {
        return pfnWord("/proc/kpageflags", pfn);
    }

    /** How many of the pages have flag {@code bit} in {@code /proc/kpageflags} (unmapped pages count as not). */
    public static int withFlag(long address, int pages, int bit) {
        int n = 0;
        for (Entry e : entries(address, pages)) {
            n += e.present() && (kpageflags(e.pfn()) & (1L << bit)) != 0 ? 1 : 0;
        }
        return n;
    }

    /** The node of each page ({@code move_pages} with no target: status is the node or -errno). */
    public static int[] nodes(long address, int pages) {
        return movePages(address, pages, null);
    }

    /**
     * {@code move_pages(0, pages, ..., nodes, status, MPOL_MF_MOVE)}: moves each page to
     * {@code node} (all to the same one), or only queries with {@code node == null}.
     * Returns the status array (node, or -errno per page).
     */
    public static int[] movePages(long address, int pages, Integer node) {
        long[] addresses = new long[pages];
        for (int i = 0; i < pages; i++) {
            addresses[i] = address + i * PAGE;
        }
        return Kernel.movePages(addresses, node == null ? -1 : node);
    }

    /** {@code mbind(MPOL_BIND to node, MPOL_MF_MOVE)}: binds the range to {@code node} and moves it there. */
    public static void mbind(long address, long len, int node) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment mask = arena.allocate(ValueLayout.JAVA_LONG);
            mask.set(ValueLayout.JAVA_LONG, 0, 1L << node);
            Sys.call("mbind", Sys.MBIND, address, len, Sys.MPOL_BIND, mask.address(), 64, Sys.MPOL_MF_MOVE);
        }
    }

    /** {@code migrate_pages(self, from, to)}: moves every page of this process on {@code from} to {@code to}. */
    public static long migrateProcess(int from, int to) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment oldMask = arena.allocate(ValueLayout.JAVA_LONG);
            MemorySegment newMask = arena.allocate(ValueLayout.JAVA_LONG);
            oldMask.set(ValueLayout.JAVA_LONG, 0, 1L << from);
            newMask.set(ValueLayout.JAVA_LONG, 0, 1L << to);
            return Sys.call("migrate_pages", Sys.MIGRATE_PAGES, 0, 64, oldMask.address(), newMask.address());
        }
    }
}
