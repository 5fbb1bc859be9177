package dev.hmmmirror.guest;

import static org.junit.jupiter.api.Assertions.fail;

import dev.hmmmirror.Memory;
import java.util.Arrays;

/**
 * Page-sized test data made and compared quickly in the guest's interpreted JVM: one page is
 * computed, the others are copies (System.arraycopy) stamped with their page number, and
 * comparisons use Arrays.mismatch (8 bytes at a time) rather than a byte loop.
 */
public final class Bytes {
    private static final int PAGE = (int) Memory.pageSize();

    private Bytes() {}

    /** {@code pages} pages of data that differ per {@code seed} and per page. */
    public static byte[] pattern(int pages, int seed) {
        byte[] page = new byte[PAGE];
        for (int i = 0; i < PAGE; i++) {
            page[i] = (byte) (i * 7 + seed);
        }
        byte[] b = new byte[pages * PAGE];
        for (int p = 0; p < pages; p++) {
            System.arraycopy(page, 0, b, p * PAGE, PAGE);
            b[p * PAGE] = (byte) p;
            b[p * PAGE + 1] = (byte) (p >> 8);
        }
        return b;
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
