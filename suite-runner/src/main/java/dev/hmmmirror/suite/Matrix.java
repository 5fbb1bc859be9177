package dev.hmmmirror.suite;

import dev.hmmmirror.vm.config.Setting;
import dev.hmmmirror.vm.config.Settings;
import dev.hmmmirror.vm.host.Progress;
import dev.hmmmirror.vm.image.KernelProfile;
import dev.hmmmirror.vm.result.TestOutcome;
import dev.hmmmirror.vm.runner.DockerEngine;
import dev.hmmmirror.vm.runner.RunnerSelection;
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
    /** What a guest takes from the host beyond its own memory: QEMU itself and its share of the host JVM. */
    static final long OVERHEAD_PER_GUEST = 512L << 20;

    /** What a guest of the default profile memory (2 GiB) takes from the host: 2.5 GiB. */
    static final long BYTES_PER_GUEST = ((long) KernelProfile.DEFAULT_MEMORY_MIB << 20) + OVERHEAD_PER_GUEST;

    private Matrix() {}

    /**
     * How many guests run at once: {@code hmm.parallel} when it is a number, else (auto) one per
     * host core plus one, at most one per {@link #BYTES_PER_GUEST} of available memory; never more
     * than there are kernels, never less than one. The extra guest keeps every core busy while the
     * last kernels run (measured with bench-matrix on 2 cores, three stock kernels: 0.59 x serial
     * with two guests at once, 0.52 x with three).
     */
    public static int slots(Settings settings, int kernels) {
        int n = settings.parallel().orElseGet(() -> auto(Runtime.getRuntime().availableProcessors(), availableMemory()));
        return Math.max(1, Math.min(n, Math.max(1, kernels)));
    }

    /**
     * As {@link #slots(Settings, int)} for these kernels: auto counts each guest's own memory (its profile's,
     * {@code hmm.guest.memory} when set, plus {@link #OVERHEAD_PER_GUEST}), so a matrix with a 6 GiB
     * {@code built-7.2-arm64-64k} guest runs fewer at once than one of 2 GiB guests.
     */
    public static int slots(Settings settings, List<KernelProfile> profiles) {
        int n = settings.parallel().orElseGet(() -> auto(Runtime.getRuntime().availableProcessors(), availableMemory(),
                profiles.stream().map(p -> bytesPerGuest(settings, p)).toList()));
        return Math.max(1, Math.min(n, Math.max(1, profiles.size())));
    }

    /** The automatic choice for a host with {@code cores} and {@code availableBytes} of free memory. */
    static int auto(int cores, long availableBytes) {
        long byMemory = availableBytes / BYTES_PER_GUEST;
        return (int) Math.max(1, Math.min(cores + 1L, byMemory));
    }

    /**
     * The automatic choice for guests of {@code guestBytes} each (what {@link #bytesPerGuest} says of each
     * kernel): one per core plus one, at most as many as fit in {@code availableBytes} together, the smallest
     * first (the {@link MemoryBudget} then starts a kernel only when its own guest fits beside those running).
     */
    static int auto(int cores, long availableBytes, List<Long> guestBytes) {
        long used = 0;
        int fit = 0;
        for (long b : guestBytes.stream().sorted().toList()) {
            if (used + b > availableBytes) {
                break;
            }
            used += b;
            fit++;
        }
        return (int) Math.max(1, Math.min(cores + 1L, fit));
    }

    /** What a guest of {@code profile} takes from the host: its memory ({@link Settings#guestMemoryMiB}) and the overhead. */
    static long bytesPerGuest(Settings settings, KernelProfile profile) {
        int mib;
        try {
            mib = settings.guestMemoryMiB(profile);
        } catch (IllegalArgumentException e) {
            mib = profile.memoryMiB(); // the run itself says what is wrong with the setting
        }
        return ((long) mib << 20) + OVERHEAD_PER_GUEST;
    }

    /**
     * The host memory a matrix's local guests may take together: a kernel starts when its guest fits beside the
     * guests running, in the kernels' order (a kernel waiting for memory holds back those after it, so the
     * order given, longest first, is kept); a guest larger than the whole budget runs alone.
     */
    static final class MemoryBudget {
        private final long total;
        private long used;
        private int serving;

        /** A budget of {@code total} bytes. */
        MemoryBudget(long total) {
            this.total = total;
        }

        /**
         * Waits until it is kernel {@code order}'s turn (0, 1, 2...: each order exactly once) and {@code bytes}
         * fit, or nothing else runs; then takes them. {@code waiting} is said once if it has to wait for memory.
         */
        synchronized void acquire(int order, long bytes, Runnable waiting) throws InterruptedException {
            boolean said = false;
            while (order != serving || used > 0 && used + bytes > total) {
                if (order == serving && !said) {
                    waiting.run();
                    said = true;
                }
                wait();
            }
            serving++;
            used += bytes;
            notifyAll();
        }

        /** Gives back what {@link #acquire} took. */
        synchronized void release(long bytes) {
            used -= bytes;
            notifyAll();
        }

        /** Bytes taken by running guests. */
        synchronized long used() {
            return used;
        }

        /** The whole budget. */
        long total() {
            return total;
        }
    }

    private static String gib(long bytes) {
        return String.format(java.util.Locale.ROOT, "%.1f GiB", bytes / (double) (1L << 30));
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
     * Where a matrix's guests run: {@code slots} guests at once on this host, or on the Docker
     * engines of {@code hmm.docker.hosts} (each with its slots; {@code local} there is this host).
     *
     * @param where    {@code local} or the engine's address
     * @param settings the settings of a kernel run there (its runner)
     */
    record Slot(String where, Settings settings) {}

    /** The slots of {@code settings} for a matrix of {@code profiles}. */
    static List<Slot> slotsOf(Settings settings, List<KernelProfile> profiles) {
        List<Slot> slots = new ArrayList<>();
        var engines = settings.dockerHosts();
        if (engines.isEmpty()) {
            for (int i = 0; i < slots(settings, profiles); i++) {
                slots.add(new Slot("local", settings));
            }
            return slots;
        }
        for (var e : engines) {
            boolean local = e.getKey().equalsIgnoreCase("local");
            Settings s = local ? settings.with(Setting.RUNNER, "local")
                    : settings.with(Setting.RUNNER, RunnerSelection.ENGINE_PREFIX + e.getKey());
            for (int i = 0; i < e.getValue(); i++) {
                slots.add(new Slot(local ? "local" : e.getKey(), s));
            }
        }
        return slots;
    }

    /**
     * Runs {@code selectors} on every kernel of {@code profiles}: {@link #slots} guests at once on this
     * host (and only as many as their memory fits in the host's available memory: {@link MemoryBudget}),
     * or spread over the Docker engines of {@code hmm.docker.hosts}.
     */
    public static List<KernelRun> run(Settings settings, List<KernelProfile> profiles, List<DiscoverySelector> selectors) {
        return run(profiles, selectors, slotsOf(settings, profiles));
    }

    /**
     * Runs {@code selectors} on every kernel of {@code profiles}, {@code slots} guests at once on this
     * host, kernels started in the order given (put the longest first); returns one run per kernel,
     * in that order. A kernel whose run throws is reported as "could not build or boot".
     */
    public static List<KernelRun> run(Settings settings, List<KernelProfile> profiles,
            List<DiscoverySelector> selectors, int slots) {
        List<Slot> local = new ArrayList<>();
        for (int i = 0; i < Math.max(1, slots); i++) {
            local.add(new Slot("local", settings));
        }
        return run(profiles, selectors, local);
    }

    private static List<KernelRun> run(List<KernelProfile> profiles, List<DiscoverySelector> selectors, List<Slot> slots) {
        long t0 = System.nanoTime();
        Settings settings = slots.getFirst().settings();
        if (slots.size() == 1 || profiles.size() <= 1) {
            List<KernelRun> runs = new ArrayList<>();
            for (KernelProfile p : profiles) {
                runs.add(SuiteRunner.run(slots.getFirst().settings(), p, selectors));
            }
            Progress.say("matrix: %d kernel(s), one after another (runner %s), in %s", profiles.size(),
                    slots.getFirst().settings().runner(), Progress.since(t0));
            return runs;
        }
        boolean allLocal = slots.stream().allMatch(sl -> sl.where().equals("local"));
        MemoryBudget budget = allLocal ? new MemoryBudget(availableMemory()) : null;
        Progress.say("matrix: %d kernels, %d guests at once (%s)%s", profiles.size(), slots.size(),
                String.join(", ", slots.stream().map(Slot::where).distinct().map(w -> w + " x"
                        + slots.stream().filter(s -> s.where().equals(w)).count()).toList()),
                budget == null ? "" : ", as far as their memory fits in the " + gib(budget.total()) + " available");
        KernelRun[] results = new KernelRun[profiles.size()];
        java.util.concurrent.atomic.AtomicInteger next = new java.util.concurrent.atomic.AtomicInteger();
        AtomicInteger seq = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(slots.size(),
                r -> Thread.ofPlatform().name("hmm-matrix-" + seq.incrementAndGet()).unstarted(r));
        try {
            List<Future<?>> workers = new ArrayList<>();
            for (Slot slot : slots) {
                workers.add(pool.submit(() -> {
                    for (int i; (i = next.getAndIncrement()) < profiles.size();) {
                        KernelProfile p = profiles.get(i);
                        long bytes = bytesPerGuest(slot.settings(), p);
                        if (budget != null) {
                            try {
                                budget.acquire(i, bytes, () -> Progress.say("matrix: %s waits for host memory: its "
                                        + "guest takes %s, %s of %s are taken by the guests running", p.name(),
                                        gib(bytes), gib(budget.used()), gib(budget.total())));
                            } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                                return;
                            }
                        }
                        try (Progress.Labelled l = Progress.labelled(p.name())) {
                            results[i] = SuiteRunner.run(slot.settings(), p, selectors);
                        } catch (RuntimeException e) {
                            results[i] = failed(p, slot.settings(), e.getMessage() == null ? e.toString() : e.getMessage());
                        } finally {
                            if (budget != null) {
                                budget.release(bytes);
                            }
                        }
                        if (results[i].exitCode() == 125 && !slot.where().equals("local")
                                && DockerEngine.ping(slot.where(), 15).isEmpty()) {
                            Progress.say("matrix: the Docker engine %s is gone; its slot takes no more kernels",
                                    slot.where());
                            return;
                        }
                    }
                }));
            }
            for (Future<?> w : workers) {
                try {
                    w.get();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                } catch (ExecutionException e) {
                    Progress.say("matrix: a slot failed: %s", e.getCause());
                }
            }
            List<KernelRun> runs = new ArrayList<>();
            for (int i = 0; i < profiles.size(); i++) {
                runs.add(results[i] != null ? results[i] : failed(profiles.get(i), settings,
                        "no slot was left to run it (every Docker engine of hmm.docker.hosts went away)"));
            }
            Progress.say("matrix: %d kernels, %d guests at once, in %s", profiles.size(), slots.size(), Progress.since(t0));
            return runs;
        } finally {
            pool.shutdownNow();
        }
    }

    private static KernelRun failed(KernelProfile p, Settings settings, String why) {
        Progress.say("suite on %s: could not build or boot: %s", p.name(), why.lines().findFirst().orElse(""));
        return new KernelRun(p.name(), "", List.of(new TestOutcome("(setup)", "image and boot",
                TestOutcome.Status.BOOT_FAILED, why.replace("\n", " "), "")), settings.runDir().resolve(p.dirName()),
                List.of(), KernelRun.Timing.NONE, List.of(), KernelRun.Platform.of(p));
    }
}
