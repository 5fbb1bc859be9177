package dev.hmmmirror.vm.boot;

/**
 * A kernel report found on the guest console: an Oops, BUG, WARNING, KASAN, UBSAN, lockdep or
 * hung-task report, or a panic.
 *
 * @param kind       the kind, e.g. {@code "WARNING"}
 * @param lineNumber the console line (1-based) where the report starts
 * @param seconds    host seconds since QEMU started when the report began
 * @param report     the report's lines (its first line up to the end marker, capped)
 */
public record KernelSplat(String kind, int lineNumber, double seconds, String report) {
    /** The first line of the report. */
    public String headline() {
        int nl = report.indexOf('\n');
        return nl < 0 ? report : report.substring(0, nl);
    }
}
