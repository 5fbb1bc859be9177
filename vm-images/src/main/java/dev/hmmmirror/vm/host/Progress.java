package dev.hmmmirror.vm.host;

import java.io.PrintStream;
import java.time.Duration;
import java.util.Locale;

/**
 * Progress lines for anything that takes more than a moment: image builds, module builds,
 * boots. Printed to stderr with an {@code [hmm]} prefix so that they show in Maven's output.
 * Where several guests run at once (a matrix), each line also names its kernel
 * ({@code [hmm debian-sid]}): the label of the thread that prints it, inherited by the threads
 * it starts.
 */
public final class Progress {
    private static final PrintStream OUT = System.err;
    private static final InheritableThreadLocal<String> LABEL = new InheritableThreadLocal<>();

    private Progress() {}

    /** Prints one progress line, whole (lines of guests running at once never mix). */
    public static void say(String format, Object... args) {
        String text = String.format(Locale.ROOT, format, args);
        String prefix = prefix();
        synchronized (OUT) {
            text.lines().forEach(l -> OUT.println(prefix + l));
            OUT.flush();
        }
    }

    /** {@code [hmm] }, or {@code [hmm LABEL] } on a labelled thread. */
    public static String prefix() {
        String label = LABEL.get();
        return label == null ? "[hmm] " : "[hmm " + label + "] ";
    }

    /** The label of this thread's lines (a kernel profile), or null. */
    public static String label() {
        return LABEL.get();
    }

    /**
     * Labels this thread's progress lines (and those of threads it starts from now on) with
     * {@code label} until the returned handle is closed.
     */
    public static Labelled labelled(String label) {
        String before = LABEL.get();
        LABEL.set(label);
        return () -> LABEL.set(before);
    }

    /** A label in force; closing it restores the one before. */
    public interface Labelled extends AutoCloseable {
        @Override
        void close();
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
