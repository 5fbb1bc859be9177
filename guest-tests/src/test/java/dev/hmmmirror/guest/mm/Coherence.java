package dev.hmmmirror.guest.mm;

import dev.hmmmirror.Access;
import dev.hmmmirror.HmmException;
import dev.hmmmirror.Mirror;
import dev.hmmmirror.PageFrame;
import dev.hmmmirror.PageState;
import dev.hmmmirror.guest.Bytes;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Set;

/** The checks every mm-event test makes, in the words of the issue. */
public final class Coherence {
    public static final long PAGE = PageMap.PAGE;

    private Coherence() {}

    /** What the CPU sees at {@code [address, address + pages)}. */
    public static byte[] cpuBytes(long address, long pages) {
        return MemorySegment.ofAddress(address).reinterpret(pages * PAGE).toArray(ValueLayout.JAVA_BYTE);
    }

    /** Fills page {@code i} of the range with bytes {@code seed + i} (distinct pages, detectably). */
    public static void pattern(long address, int pages, int seed) {
        MemorySegment s = MemorySegment.ofAddress(address).reinterpret(pages * PAGE);
        for (int i = 0; i < pages; i++) {
            s.asSlice(i * PAGE, PAGE).fill((byte) (seed + i));
        }
    }

    public static byte[] expected(int pages, int seed) {
        return expected(0, pages, seed);
    }

    /** Pages {@code first .. first + pages - 1} of {@link #expected(int, int)}: what {@link #pattern} wrote there. */
    public static byte[] expected(int first, int pages, int seed) {
        byte[] b = new byte[Math.toIntExact(pages * PAGE)];
        for (int i = 0; i < pages; i++) {
            java.util.Arrays.fill(b, (int) (i * PAGE), (int) ((i + 1) * PAGE), (byte) (seed + first + i));
        }
        return b;
    }

    /** The device maps every page of the range (after a fault). */
    public static void assertDeviceMapsAll(Mirror m, long address, int pages) throws HmmException {
        long mapped = m.snapshot(address, pages).count(PageState.DEVICE_READ);
        if (mapped != pages) {
            throw new AssertionError("the device must map every page, maps " + mapped + " of " + pages);
        }
    }

    /** The device maps none of the given pages (their mappings were invalidated). */
    public static void assertDeviceDropped(Mirror m, long address, int pages, Set<Integer> which) throws HmmException {
        var snap = m.snapshot(address, pages);
        for (int i : which) {
            if (snap.page(i).contains(PageState.DEVICE_READ)) {
                throw new AssertionError("page " + i + " was moved or reclaimed by the kernel but the device still "
                        + "maps it: " + snap.page(i));
            }
        }
    }

    /**
     * The device's next access re-faults and reads exactly what the CPU sees, and then maps the
     * very page the CPU maps (the new one where a page moved).
     */
    public static void assertDeviceFollows(Mirror m, long address, int pages, byte[] expected) throws HmmException {
        Bytes.assertSame(expected, m.read(address, pages), "the device read other bytes than were written");
        Bytes.assertSame(cpuBytes(address, pages), m.read(address, pages), "the device and the CPU disagree");
        m.fault(address, pages, Access.READ);
        List<PageFrame> f = m.pageFrames(address, pages);
        for (int i = 0; i < pages; i++) {
            if (!f.get(i).coherent()) {
                throw new AssertionError("page " + i + ": the device maps another page than the CPU: " + f.get(i));
            }
        }
    }

    /**
     * {@link #assertDeviceFollows(Mirror, long, int, byte[])} of what {@link #pattern} wrote with {@code seed},
     * read and compared a slice of {@link Bytes#SLICE_BYTES} at a time: a huge page is 512 MiB with 64 KiB
     * pages, too large for the guest JVM's heap as arrays (on x86-64 a 2 MiB page is one slice, one read).
     */
    public static void assertDeviceFollows(Mirror m, long address, int pages, int seed) throws HmmException {
        int slice = (int) Math.max(1, Bytes.SLICE_BYTES / PAGE);
        for (int p = 0; p < pages; p += slice) {
            int n = Math.min(slice, pages - p);
            long at = address + p * PAGE;
            Bytes.assertSame(expected(p, n, seed), m.read(at, n), "the device read other bytes than were written "
                    + "(pages " + p + "-" + (p + n - 1) + ")");
        }
        for (int p = 0; p < pages; p += slice) {
            int n = Math.min(slice, pages - p);
            long at = address + p * PAGE;
            Bytes.assertSame(cpuBytes(at, n), m.read(at, n), "the device and the CPU disagree (pages " + p + "-"
                    + (p + n - 1) + ")");
        }
        m.fault(address, pages, Access.READ);
        List<PageFrame> f = m.pageFrames(address, pages);
        for (int i = 0; i < pages; i++) {
            if (!f.get(i).coherent()) {
                throw new AssertionError("page " + i + ": the device maps another page than the CPU: " + f.get(i));
            }
        }
    }

    /** The CPU page frame of each page (from the module's view; -1 where none). */
    public static long[] cpuPfns(Mirror m, long address, int pages) throws HmmException {
        return m.pageFrames(address, pages).stream().mapToLong(PageFrame::cpuPfn).toArray();
    }
}
