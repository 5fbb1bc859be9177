package dev.hmmmirror.vm.boot;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Recognises kernel reports on a console, line by line. Each report is collected from its first
 * line until its end marker (or a cap), so that the failure shows the whole trace.
 */
public final class SplatDetector {
    private static final int MAX_LINES = 80;
    private static final Pattern PREFIX = Pattern.compile("^(?:\\[\\s*\\d+\\.\\d+\\]\\s*)?(?:\\[\\s*[CT]\\d+\\]\\s*)?");
    private static final List<Kind> KINDS = List.of(
            new Kind("KASAN", Pattern.compile("^BUG: KASAN: ")),
            new Kind("KFENCE", Pattern.compile("^BUG: KFENCE: ")),
            new Kind("UBSAN", Pattern.compile("^UBSAN: ")),
            new Kind("lockdep", Pattern.compile("^(WARNING: possible (circular|recursive) locking dependency detected"
                    + "|WARNING: possible irq lock inversion|WARNING: inconsistent lock state|WARNING: suspicious RCU usage"
                    + "|BUG: sleeping function called from invalid context|BUG: scheduling while atomic"
                    + "|WARNING: bad unlock balance|WARNING: held lock freed|BUG: lock held when returning)")),
            new Kind("hung task", Pattern.compile("^INFO: task .* blocked for more than \\d+ seconds")),
            new Kind("soft lockup", Pattern.compile("^(watchdog: BUG: soft lockup|BUG: soft lockup)")),
            new Kind("RCU stall", Pattern.compile("^rcu: INFO: rcu_\\w+ (self-)?detected stall")),
            new Kind("BUG", Pattern.compile("^(kernel BUG at |BUG: )")),
            new Kind("Oops", Pattern.compile("^(Oops: |general protection fault|BUG: unable to handle)")),
            new Kind("WARNING", Pattern.compile("^WARNING: ")),
            new Kind("panic", Pattern.compile("^Kernel panic - not syncing")),
            new Kind("kmemleak", Pattern.compile("^kmemleak: \\d+ new suspected memory leaks")));
    private static final Pattern END = Pattern.compile("^(---\\[ end (trace|Kernel panic)|=====+$)");

    private record Kind(String name, Pattern pattern) {}

    private final List<KernelSplat> found = new ArrayList<>();
    private StringBuilder current;
    private String currentKind;
    private int currentLine;
    private double currentSeconds;
    private int currentCount;

    /** Feeds one console line (without line terminator). */
    public synchronized void accept(int lineNumber, double seconds, String line) {
        String text = strip(line);
        if (current != null) {
            current.append('\n').append(line);
            currentCount++;
            if (END.matcher(text).find() && currentCount > 1 || currentCount >= MAX_LINES) {
                finish();
            }
            return;
        }
        for (Kind k : KINDS) {
            if (k.pattern.matcher(text).find()) {
                current = new StringBuilder(line);
                currentKind = k.name;
                currentLine = lineNumber;
                currentSeconds = seconds;
                currentCount = 1;
                return;
            }
        }
    }

    /** The kernel-log prefix ({@code [  12.345678]}, optional caller id) removed. */
    static String strip(String line) {
        Matcher m = PREFIX.matcher(line);
        return m.find() ? line.substring(m.end()) : line;
    }

    private void finish() {
        found.add(new KernelSplat(currentKind, currentLine, currentSeconds, current.toString()));
        current = null;
    }

    /** The reports found so far, including one still being collected. */
    public synchronized List<KernelSplat> splats() {
        List<KernelSplat> all = new ArrayList<>(found);
        if (current != null) {
            all.add(new KernelSplat(currentKind, currentLine, currentSeconds, current.toString()));
        }
        return all;
    }
}
