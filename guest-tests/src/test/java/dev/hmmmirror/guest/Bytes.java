package dev.hmmmirror.guest;

import static org.junit.jupiter.api.Assertions.fail;

import dev.hmmmirror.HmmException;
import dev.hmmmirror.Memory;
import dev.hmmmirror.Mirror;
import java.util.Arrays;

/**
 * Page-sized test data made and compared quickly in the guest's interpreted JVM: one page is
 * computed, the others are copies (System.arraycopy) stamped with their page number, and
 * comparisons use Arrays.mismatch (8 bytes at a time) rather than a byte loop.
 *
 * <p>Whole huge pages are written and compared a slice at a time ({@link #SLICE_BYTES}): with 64 KiB
 * pages a THP or hugetlb page is 512 MiB, and arrays of its size ran the guest JVM out of heap (its
 * default heap is a quarter of the guest's memory). A slice holds a whole 2 MiB THP, so on x86-64
 * each of these helpers makes the same single read, write or copy as one whole array did.
 */
public final class Bytes {
    private static final int PAGE = (int) Memory.pageSize();

    /** The most bytes the slice helpers read, write or compare at a time: 4 MiB. */
    public static final int SLICE_BYTES = 4 << 20;

    private static final int SLICE_PAGES = Math.max(1, SLICE_BYTES / PAGE);

    private Bytes() {}

    /** {@code pages} pages of data that differ per {@code seed} and per page. */
    public static byte[] pattern(int pages, int seed) {
        return pattern(0, pages, seed);
    }

    /**
     * Pages {@code first} to {@code first + pages - 1} of {@link #pattern(int, int) pattern(N, seed)}
     * (for any N beyond them): the same bytes without the pages before.
     */
    public static byte[] pattern(int first, int pages, int seed) {
        byte[] page = new byte[PAGE];
        for (int i = 0; i < PAGE; i++) {
            page[i] = (byte) (i * 7 + seed);
        }
        byte[] b = new byte[Math.multiplyExact(pages, PAGE)];
        for (int i = 0; i < pages; i++) {
            int p = first + i;
            System.arraycopy(page, 0, b, i * PAGE, PAGE);
            b[i * PAGE] = (byte) p;
            b[i * PAGE + 1] = (byte) (p >> 8);
        }
        return b;
    }

    /** The contents a range should have, made a slice at a time: pages {@code first} to {@code first + pages - 1}. */
    @FunctionalInterface
    public interface Expected {
        /** The expected bytes of pages {@code first} to {@code first + pages - 1} of the range. */
        byte[] pages(int first, int pages);
    }

    /** {@link #pattern(int, int)} of {@code seed}, as a range's expected contents. */
    public static Expected pattern(int seed) {
        return (first, pages) -> pattern(first, pages, seed);
    }

    /** Zero-filled pages, as a range's expected contents. */
    public static Expected zeros() {
        return (first, pages) -> new byte[Math.multiplyExact(pages, PAGE)];
    }

    /** Writes {@link #pattern(int, int) pattern(pages, seed)} into {@code m} from its start through the CPU, a slice at a time. */
    public static void write(Memory m, int pages, int seed) {
        for (int first = 0; first < pages; first += SLICE_PAGES) {
            int n = Math.min(SLICE_PAGES, pages - first);
            m.write((long) first * PAGE, pattern(first, n, seed));
        }
    }

    /** Fails unless the CPU reads {@code expected} in pages {@code 0 .. pages - 1} of {@code m}, compared a slice at a time. */
    public static void assertCpuReads(Expected expected, Memory m, int pages, String what) {
        assertCpuReads(expected, m, 0, pages, what);
    }

    /** Fails unless the CPU reads {@code expected} in pages {@code first .. first + pages - 1} of {@code m}. */
    public static void assertCpuReads(Expected expected, Memory m, int first, int pages, String what) {
        for (int p = first; p < first + pages; p += SLICE_PAGES) {
            int n = Math.min(SLICE_PAGES, first + pages - p);
            assertSame(expected.pages(p, n), m.bytes((long) p * PAGE, n * PAGE), p, what);
        }
    }

    /**
     * Fails unless the device reads {@code expected} in the {@code pages} pages at {@code address}
     * ({@link Mirror#read(long, long)} a slice at a time).
     */
    public static void assertDeviceReads(Expected expected, Mirror mirror, long address, int pages, String what)
            throws HmmException {
        for (int p = 0; p < pages; p += SLICE_PAGES) {
            int n = Math.min(SLICE_PAGES, pages - p);
            assertSame(expected.pages(p, n), mirror.read(address + (long) p * PAGE, n), p, what);
        }
    }

    /** The device writes {@link #pattern(int, int) pattern(pages, seed)} at {@code address} ({@link Mirror#write}), a slice at a time. */
    public static void deviceWrite(Mirror mirror, long address, int pages, int seed) throws HmmException {
        for (int p = 0; p < pages; p += SLICE_PAGES) {
            int n = Math.min(SLICE_PAGES, pages - p);
            mirror.write(address + (long) p * PAGE, pattern(p, n, seed));
        }
    }

    /** {@link #assertSame(byte[], byte[], String)} of a slice that starts at page {@code firstPage} of the range. */
    private static void assertSame(byte[] expected, byte[] actual, int firstPage, String what) {
        int at = Arrays.mismatch(expected, actual);
        if (at >= 0) {
            fail(what + ": first difference at byte " + ((long) firstPage * PAGE + at) + " (page " + (firstPage + at / PAGE)
                    + "): expected " + (at < expected.length ? expected[at] : "end") + ", got "
                    + (at < actual.length ? actual[at] : "end"));
        }
    }

    /** Fails naming the first differing byte (and its page) when the two differ. */
    public static void assertSame(byte[] expected, byte[] actual, String what) {
        int at = Arrays.mismatch(expected, actual);
        if (at >= 0) {
            fail(what + ": first difference at byte " + at + " (page " + at / PAGE + "): expected "
                    + (at < expected.length ? expected[at] : "end") + ", got " + (at < actual.length ? actual[at] : "end")
                    + " (lengths " + expected.length + " / " + actual.length + ")");
        }
    }
}
