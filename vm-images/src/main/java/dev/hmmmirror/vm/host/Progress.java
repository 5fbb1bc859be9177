package dev.hmmmirror.vm.host;

import java.io.PrintStream;
import java.time.Duration;
import java.util.Locale;

/**
 * Progress lines for anything that takes more than a moment: image builds, module builds,
 * boots. Printed to stderr with an {@code [hmm]} prefix so that they show in Maven's output.
 */
public final class Progress {
    private static final PrintStream OUT = System.err;

    private Progress() {}

    /** Prints one progress line. */
    public static void say(String format, Object... args) {
        synchronized (OUT) {
            OUT.println("[hmm] " + String.format(Locale.ROOT, format, args));
            OUT.flush();
        }
    }

    /** Seconds since {@code startNanos}, one decimal, e.g. {@code "12.3 s"}. */
    public static String since(long startNanos) {
        return seconds(System.nanoTime() - startNanos);
    }

    /** {@code nanos} as seconds with one decimal. */
    public static String seconds(long nanos) {
        return String.format(Locale.ROOT, "%.1f s", nanos / 1e9);
    }

    /** A duration as seconds with one decimal. */
    public static String seconds(Duration d) {
        return seconds(d.toNanos());
    }

    /**
     * Prints {@code status.get()} every {@code period} until closed: progress of a long build
     * (kernel compiles) that has no natural steps to report.
     */
    public static AutoCloseable every(Duration period, java.util.function.Supplier<String> status) {
        long t0 = System.nanoTime();
        Thread t = Thread.ofPlatform().daemon().name("hmm-progress").start(() -> {
            try {
                while (true) {
                    Thread.sleep(period.toMillis());
                    String s = status.get();
                    if (s != null) {
                        say("%s (%s)", s, since(t0));
                    }
                }
            } catch (InterruptedException done) {
                // closed
            }
        });
        return t::interrupt;
    }
}
