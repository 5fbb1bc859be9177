package dev.hmmmirror.vm.boot;

import dev.hmmmirror.agent.protocol.Markers;
import dev.hmmmirror.vm.host.Progress;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * The guest's serial console: read from QEMU, written to a log file with host timestamps, scanned
 * for kernel reports and for the {@code @@HMM} markers of the guest scripts. The log is capped so
 * that a kernel that loops printing cannot fill the disk.
 */
public final class Console {
    private static final long MAX_LOG_BYTES = 64L << 20;
    private static final int TAIL = 400;

    private final Path log;
    private final long startNanos;
    private final SplatDetector splats = new SplatDetector();
    private final Deque<String> tail = new ArrayDeque<>();
    private final List<Marker> markers = new ArrayList<>();
    private final boolean echo;
    /** {@code [guest]}, or {@code [guest <kernel>]} when guests of several kernels echo at once. */
    private final String echoPrefix;
    private int lines;
    private long bytes;
    private boolean closed;
    private String kvmError;

    /** A {@code @@HMM} marker line: {@code seconds} since QEMU start, the text after the prefix. */
    public record Marker(double seconds, String text) {}

    Console(Path log, long startNanos, boolean echo) {
        this.log = log;
        this.startNanos = startNanos;
        this.echo = echo;
        String label = Progress.label();
        this.echoPrefix = label == null ? "[guest] " : "[guest " + label + "] ";
    }

    /** Reads {@code in} until end of stream; call on its own thread. */
    void pump(InputStream in) {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.ISO_8859_1));
                Writer w = Files.newBufferedWriter(log, StandardCharsets.ISO_8859_1)) {
            String line;
            while ((line = r.readLine()) != null) {
                line = line.replace("\r", "");
                double s = (System.nanoTime() - startNanos) / 1e9;
                String stamped = String.format(Locale.ROOT, "%8.3f| %s%n", s, line);
                if (bytes < MAX_LOG_BYTES) {
                    w.write(stamped);
                    bytes += stamped.length();
                    if (bytes >= MAX_LOG_BYTES) {
                        w.write("[hmm] console log capped at " + (MAX_LOG_BYTES >> 20) + " MiB; later lines dropped\n");
                    }
                    w.flush();
                }
                if (echo) {
                    System.err.print(echoPrefix + stamped);
                }
                synchronized (this) {
                    lines++;
                    splats.accept(lines, s, line);
                    tail.addLast(line);
                    if (tail.size() > TAIL) {
                        tail.removeFirst();
                    }
                    if (kvmError == null && Accelerator.isKvmError(line)) {
                        kvmError = line.strip();
                    }
                    int at = line.indexOf(Markers.PREFIX);
                    if (at >= 0) {
                        markers.add(new Marker(s, line.substring(at + Markers.PREFIX.length()).strip()));
                    }
                    notifyAll();
                }
            }
        } catch (IOException e) {
            // QEMU went away; what we have is kept
        } finally {
            synchronized (this) {
                closed = true;
                notifyAll();
            }
        }
    }

    /** Host seconds since QEMU started. */
    public double seconds() {
        return (System.nanoTime() - startNanos) / 1e9;
    }

    /** The console log file. */
    public Path log() {
        return log;
    }

    /** Kernel reports seen so far. */
    public List<KernelSplat> splats() {
        return splats.splats();
    }

    /** The number of console lines read so far. */
    public synchronized int lineCount() {
        return lines;
    }

    /** The last {@code n} console lines. */
    public synchronized String tail(int n) {
        List<String> l = new ArrayList<>(tail);
        return String.join("\n", l.subList(Math.max(0, l.size() - n), l.size()));
    }

    /** Markers seen so far. */
    public synchronized List<Marker> markers() {
        return List.copyOf(markers);
    }

    /** Waits until a marker matching {@code match} appears, the console closes or the deadline passes. */
    public synchronized Optional<Marker> await(Predicate<String> match, long deadlineNanos) throws InterruptedException {
        while (true) {
            for (Marker m : markers) {
                if (match.test(m.text())) {
                    return Optional.of(m);
                }
            }
            long left = deadlineNanos - System.nanoTime();
            if (closed || left <= 0) {
                return Optional.empty();
            }
            wait(Math.max(1, left / 1_000_000));
        }
    }

    /** QEMU's first line saying that KVM failed ({@link Accelerator#isKvmError}), if it printed one. */
    public synchronized String kvmError() {
        return kvmError;
    }

    /** Whether QEMU's output ended. */
    public synchronized boolean isClosed() {
        return closed;
    }
}
