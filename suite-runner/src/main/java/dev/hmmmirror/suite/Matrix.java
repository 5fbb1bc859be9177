package dev.hmmmirror.suite;

import dev.hmmmirror.vm.config.Settings;
import dev.hmmmirror.vm.host.Progress;
import dev.hmmmirror.vm.image.KernelProfile;
import dev.hmmmirror.vm.result.TestOutcome;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.platform.engine.DiscoverySelector;

/**
 * The guest suite on several kernels, up to {@link #slots} guests at once on this host. Each
 * kernel keeps its own run folder, console, agent socket and JUnit launcher run (the suite
 * runner's, on a thread of its own whose progress lines name the kernel); the results come back
 * in the kernels' order, so the merged table, JSON and JUnit XML are those of a serial run.
 */
public final class Matrix {
    /** What one guest takes from the host: 2 GiB of guest memory, QEMU itself and its share of the host JVM. */
    static final long BYTES_PER_GUEST = 2560L << 20;

    private Matrix() {}

    /**
     * How many guests run at once: {@code hmm.parallel} when it is a number, else (auto) one per
     * host core, at most one per {@link #BYTES_PER_GUEST} of available memory; never more than
     * there are kernels, never less than one.
     */
    public static int slots(Settings settings, int kernels) {
        int n = settings.parallel().orElseGet(() -> auto(Runtime.getRuntime().availableProcessors(), availableMemory()));
        return Math.max(1, Math.min(n, Math.max(1, kernels)));
    }

    /** The automatic choice for a host with {@code cores} and {@code availableBytes} of free memory. */
    static int auto(int cores, long availableBytes) {
        long byMemory = availableBytes / BYTES_PER_GUEST;
        return (int) Math.max(1, Math.min(cores, byMemory));
    }

    /** MemAvailable from /proc/meminfo, else what the JVM reports as free. */
    static long availableMemory() {
        try {
            for (String l : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (l.startsWith("MemAvailable:")) {
                    return Long.parseLong(l.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            // below
        }
        var os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        return os.getFreeMemorySize();
    }

    /**
     * Runs {@code selectors} on every kernel of {@code profiles}, {@code slots} guests at once,
     * kernels started in the order given (put the longest first); returns one run per kernel, in
     * that order. A kernel whose run throws is reported as "could not build or boot".
     */
    public static List<KernelRun> run(Settings settings, List<KernelProfile> profiles,
            List<DiscoverySelector> selectors, int slots) {
        long t0 = System.nanoTime();
        if (slots <= 1 || profiles.size() <= 1) {
            List<KernelRun> runs = new ArrayList<>();
            for (KernelProfile p : profiles) {
                runs.add(SuiteRunner.run(settings, p, selectors));
            }
            Progress.say("matrix: %d kernel(s), one after another, in %s", profiles.size(), Progress.since(t0));
            return runs;
        }
        Progress.say("matrix: %d kernels, %d guests at once (%s)", profiles.size(), slots,
                settings.parallel().isPresent() ? "hmm.parallel" : "auto: " + Runtime.getRuntime().availableProcessors()
                        + " cores, " + (availableMemory() >> 20) + " MiB available");
        AtomicInteger seq = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(slots,
                r -> Thread.ofPlatform().name("hmm-matrix-" + seq.incrementAndGet()).unstarted(r));
        try {
            List<Future<KernelRun>> futures = new ArrayList<>();
            for (KernelProfile p : profiles) {
                futures.add(pool.submit(() -> {
                    try (Progress.Labelled l = Progress.labelled(p.name())) {
                        return SuiteRunner.run(settings, p, selectors);
                    }
                }));
            }
            List<KernelRun> runs = new ArrayList<>();
            for (int i = 0; i < profiles.size(); i++) {
                runs.add(result(futures.get(i), profiles.get(i), settings));
            }
            Progress.say("matrix: %d kernels, %d guests at once, in %s", profiles.size(), slots, Progress.since(t0));
            return runs;
        } finally {
            pool.shutdownNow();
        }
    }

    private static KernelRun result(Future<KernelRun> f, KernelProfile p, Settings settings) {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return failed(p, settings, "interrupted while the matrix ran");
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            return failed(p, settings, c.getMessage() == null ? c.toString() : c.getMessage());
        }
    }

    private static KernelRun failed(KernelProfile p, Settings settings, String why) {
        Progress.say("suite on %s: could not build or boot: %s", p.name(), why.lines().findFirst().orElse(""));
        return new KernelRun(p.name(), "", List.of(new TestOutcome("(setup)", "image and boot",
                TestOutcome.Status.BOOT_FAILED, why.replace("\n", " "), "")), settings.runDir().resolve(p.dirName()),
                List.of());
    }
}
