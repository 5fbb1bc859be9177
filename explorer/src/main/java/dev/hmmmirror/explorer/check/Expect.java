package dev.hmmmirror.explorer.check;

import dev.hmmmirror.Errno;
import dev.hmmmirror.HmmException;
import dev.hmmmirror.PageFrame;
import dev.hmmmirror.explorer.engine.Violation;
import dev.hmmmirror.explorer.model.Model;
import dev.hmmmirror.explorer.model.PageModel;
import dev.hmmmirror.explorer.model.RegionModel;
import java.util.Arrays;
import java.util.List;

/** The postconditions of actions: what a call returned against what the model expected of it. */
public final class Expect {
    private static final int PAGE = PageModel.SIZE;

    private Expect() {}

    /** A call over pages {@code range} of {@code r} was refused with {@code e}: the model expected {@code expected}. */
    public static void refused(String what, RegionModel r, int[] range, Errno expected, HmmException e) {
        Errno got = e.errnoConstant().orElse(null);
        if (expected == null) {
            throw new Violation("errno", what + " of pages " + range[0] + "-" + (range[1] - 1) + " of " + r
                    + " failed with " + e.errnoName() + ", the model expected success", e);
        }
        if (got != expected) {
            throw new Violation("errno", what + " of pages " + range[0] + "-" + (range[1] - 1) + " of " + r
                    + " failed with " + e.errnoName() + ", the model expected " + expected, e);
        }
    }

    /** A call over pages {@code range} of {@code r} succeeded: the model expected {@code expected} (null: success). */
    public static void done(String what, RegionModel r, int[] range, Errno expected) {
        if (expected != null) {
            throw new Violation("errno", what + " of pages " + range[0] + "-" + (range[1] - 1) + " of " + r
                    + " succeeded, the model expected " + expected);
        }
    }

    /** A call that is never refused returned {@code rc} (0 or a negative errno). */
    public static void succeeded(String what, int first, int end, RegionModel r, int rc) {
        if (rc < 0) {
            throw new Violation("errno", what + " of pages " + first + "-" + (end - 1) + " of " + r
                    + " failed with " + Errno.name(-rc) + ", expected success");
        }
    }

    /** Page {@code page} of {@code r} read {@code got} (from {@code offset}): the model expects {@code want}. */
    public static void bytes(String invariant, RegionModel r, int page, byte[] want, byte[] got, int offset) {
        int at = Arrays.mismatch(want, 0, PAGE, got, offset, offset + PAGE);
        if (at >= 0) {
            throw new Violation(invariant, "page " + page + " of " + r + ": byte " + at + " is 0x"
                    + Integer.toHexString(got[offset + at] & 0xff) + ", the model expects 0x"
                    + Integer.toHexString(want[at] & 0xff) + (isZero(got, offset) ? " (the page reads as all zero)" : ""));
        }
    }

    private static boolean isZero(byte[] b, int offset) {
        for (int i = offset; i < offset + PAGE; i++) {
            if (b[i] != 0) {
                return false;
            }
        }
        return true;
    }

    /**
     * After the pages of {@code r} (as it was) left {@code base} (munmap, mremap): no device maps
     * anything there but, if something new was mapped there meanwhile, the very page the CPU maps.
     */
    public static void nothingLeftAt(Subject s, long base, RegionModel r, String what) throws HmmException {
        for (int i = 0; i < Model.MIRRORS; i++) {
            List<PageFrame> frames = s.driver().pageFrames(i, base, r.size());
            for (int p = 0; p < frames.size(); p++) {
                PageFrame f = frames.get(p);
                if (f.deviceMapped() && !f.coherent()) {
                    throw new Violation("device-maps-cpu-page", "after " + what + " " + r + ", device "
                            + s.driver().device(i) + " still maps old page " + p + " at 0x"
                            + Long.toHexString(base + (long) p * PAGE) + " (device pfn 0x"
                            + Long.toHexString(f.devicePfn()) + ", CPU " + PageStates.pfn(f.cpuPfn()) + ")");
                }
            }
        }
    }
}
