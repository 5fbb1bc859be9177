package dev.hmmmirror.programs;

import dev.hmmmirror.Access;
import dev.hmmmirror.Memory;
import dev.hmmmirror.Mirror;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The Java/C benchmark, run in the guest: {@code HMM_MIRROR_IOC_FAULT} + {@code HMM_MIRROR_IOC_READ}
 * of the same range, from the static C program {@code /hmm/host/mirror_bench} and from Java through
 * {@link Mirror}, measured alike. Both sides are long-lived worker processes speaking one line
 * protocol; for each size both map the same kind of memory (anonymous, filled with the same byte,
 * a page-aligned anonymous buffer), warm up (C for 3 s; Java for at least 3 s and until its tiered
 * JIT, in the foreground with -Xbatch, compiled nothing for two seconds),
 * then run the same number of operations per repetition, repetitions interleaved C, Java, Java,
 * C, ... so that a change in the host's load falls on both. Printed: median ns/op with min and max
 * per side, the ratio of the medians, and the JIT compilation time that fell inside the measured
 * repetitions (0 ms: the JIT's state was settled). Also written as JSON to
 * {@code /hmm/out/mirror-bench.json} when that directory exists.
 */
public final class MirrorBench {
    /** Name of the C side in the guest ({@code /hmm/host/mirror_bench}); the harness builds it static. */
    public static final String C_PROGRAM = "mirror_bench";

    static final long[] SIZES = {1, 64, 512, 16384};
    static final int WARM_SECONDS = 3;
    static final int REPETITIONS = 7;
    /** Aimed duration of one repetition on the C side. */
    static final double REPETITION_NS = 300e6;

    private MirrorBench() {}

    /** The C side's source, built for the guest by the session. */
    public static byte[] cSource() {
        try (InputStream in = MirrorBench.class.getResourceAsStream("mirror_bench.c")) {
            if (in == null) {
                throw new IllegalStateException("missing resource mirror_bench.c");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** One side's process, driven by lines. */
    private static final class Side implements AutoCloseable {
        final String name;
        final Process process;
        final BufferedReader out;
        final PrintStream in;

        Side(String name, List<String> command) throws IOException {
            this.name = name;
            this.process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            this.out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
            this.in = new PrintStream(process.getOutputStream(), true, StandardCharsets.UTF_8);
        }

        String[] ask(String line) throws IOException {
            in.println(line);
            String answer = out.readLine();
            if (answer == null || answer.startsWith("error")) {
                throw new IllegalStateException(name + " side: '" + line + "' -> " + answer);
            }
            return answer.split(" ");
        }

        @Override
        public void close() throws InterruptedException {
            in.println("quit");
            in.close();
            process.waitFor();
        }
    }

    /** One side's figures at one size. */
    record Figures(double medianNs, double minNs, double maxNs, long jitMs) {
        static Figures of(double[] nsPerOp, long jitMs) {
            double[] s = nsPerOp.clone();
            Arrays.sort(s);
            return new Figures(s[s.length / 2], s[0], s[s.length - 1], jitMs);
        }
    }

    /** Entry point in the agent: runs both sides and prints the table. */
    public static void main(String[] args) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        // -Xbatch: the JIT compiles in the foreground, so compilations land in the warm-up rather
        // than on the guest's one vCPU in the middle of either side's measured repetitions
        List<String> worker = List.of(java, "--enable-native-access=ALL-UNNAMED", "-XX:+UseSerialGC", "-Xbatch",
                "-cp", System.getProperty("java.class.path"), Worker.class.getName());
        StringBuilder json = new StringBuilder("{\"kernel\": \"" + System.getProperty("os.version")
                + "\", \"warmSeconds\": " + WARM_SECONDS + ", \"repetitions\": " + REPETITIONS + ", \"sizes\": [");
        List<String> rows = new ArrayList<>();
        try (Side c = new Side("C", List.of("/hmm/host/" + C_PROGRAM)); Side j = new Side("Java", worker)) {
            for (long pages : SIZES) {
                c.ask("prepare " + pages);
                j.ask("prepare " + pages);
                double cWarm = Double.parseDouble(c.ask("warm " + WARM_SECONDS)[2]);
                long jWarmMs = Long.parseLong(j.ask("warm " + WARM_SECONDS)[3]);
                long ops = Math.max(1, Math.min(100_000, Math.round(REPETITION_NS / Math.max(1, cWarm))));
                double[] cNs = new double[REPETITIONS];
                double[] jNs = new double[REPETITIONS];
                long jit = 0;
                for (int r = 0; r < REPETITIONS; r++) {
                    boolean cFirst = r % 2 == 0;
                    for (Side s : cFirst ? List.of(c, j) : List.of(j, c)) {
                        String[] a = s.ask("run " + ops);
                        double perOp = Double.parseDouble(a[2]) / ops;
                        if (s == c) {
                            cNs[r] = perOp;
                        } else {
                            jNs[r] = perOp;
                            jit += Long.parseLong(a[3]);
                        }
                    }
                }
                c.ask("release");
                j.ask("release");
                Figures cf = Figures.of(cNs, 0);
                Figures jf = Figures.of(jNs, jit);
                rows.add(String.format(Locale.ROOT, "%8d %8d %10.1f [%.1f-%.1f] %10.1f [%.1f-%.1f] %8.2f %6d %7.1f",
                        pages, ops, cf.medianNs() / 1000, cf.minNs() / 1000, cf.maxNs() / 1000,
                        jf.medianNs() / 1000, jf.minNs() / 1000, jf.maxNs() / 1000,
                        jf.medianNs() / cf.medianNs(), jf.jitMs(), jWarmMs / 1000.0));
                json.append(pages == SIZES[0] ? "" : ", ").append(String.format(Locale.ROOT,
                        "{\"pages\": %d, \"opsPerRepetition\": %d, \"cMedianUs\": %.3f, \"cMinUs\": %.3f, "
                                + "\"cMaxUs\": %.3f, \"javaMedianUs\": %.3f, \"javaMinUs\": %.3f, \"javaMaxUs\": %.3f, "
                                + "\"javaOverC\": %.3f, \"javaJitMsWhileMeasured\": %d, \"javaWarmSeconds\": %.1f}",
                        pages, ops, cf.medianNs() / 1000, cf.minNs() / 1000, cf.maxNs() / 1000,
                        jf.medianNs() / 1000, jf.minNs() / 1000, jf.maxNs() / 1000,
                        jf.medianNs() / cf.medianNs(), jf.jitMs(), jWarmMs / 1000.0));
            }
        }
        json.append("]}\n");
        System.out.printf(Locale.ROOT, "fault + read through the device page table, /dev/hmm_mirror0, kernel %s%n"
                + "C warmed %d s per size, Java until its JIT settled (warm s); then %d interleaved repetitions;"
                + " us/op median [min-max]%n",
                System.getProperty("os.version"), WARM_SECONDS, REPETITIONS);
        System.out.printf(Locale.ROOT, "%8s %8s %24s %24s %8s %6s %7s%n", "pages", "ops/rep", "C us/op", "Java us/op",
                "Java/C", "JIT ms", "warm s");
        rows.forEach(System.out::println);
        Path out = Path.of("/hmm/out");
        if (Files.isDirectory(out)) {
            Files.writeString(out.resolve("mirror-bench.json"), json);
            System.out.println("JSON: " + out.resolve("mirror-bench.json") + " (the run folder's out/ on the host)");
        }
    }

    /** The Java side: the C side's protocol, through {@link Mirror}, in its own JVM with the JIT on. */
    public static final class Worker {
        private Worker() {}

        public static void main(String[] args) throws Exception {
            var jit = ManagementFactory.getCompilationMXBean();
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            PrintStream out = System.out;
            Memory mem = null;
            Memory buf = null;
            try (Mirror mirror = Mirror.open(0)) {
                String line;
                while ((line = in.readLine()) != null) {
                    String[] w = line.strip().split(" ");
                    switch (w[0]) {
                        case "prepare" -> {
                            long pages = Long.parseLong(w[1]);
                            mem = Memory.anonymous(pages);
                            buf = Memory.anonymous(pages);
                            mem.fill((byte) 0x5a);
                            buf.fill((byte) 0);
                            once(mirror, mem, buf);
                            out.println("ok");
                        }
                        case "warm" -> {
                            // at least the asked time, then on until the JIT has compiled nothing
                            // for a second (at most a minute): under TCG C2 takes many seconds
                            long t0 = System.nanoTime();
                            long minEnd = t0 + Long.parseLong(w[1]) * 1_000_000_000L;
                            long maxEnd = t0 + 60_000_000_000L;
                            long lastJit = jit.getTotalCompilationTime();
                            long lastChange = t0;
                            long ops = 0;
                            long t;
                            do {
                                loop(mirror, mem, buf, WARM_CHUNK); // the measured loop itself gets compiled
                                ops += WARM_CHUNK;
                                t = System.nanoTime();
                                long j = jit.getTotalCompilationTime();
                                if (j != lastJit) {
                                    lastJit = j;
                                    lastChange = t;
                                }
                            } while (t < maxEnd && (t < minEnd || t - lastChange < 2_000_000_000L));
                            out.println("warm " + ops + " " + (t - t0) / ops + " " + (t - t0) / 1_000_000);
                        }
                        case "run" -> {
                            long ops = Long.parseLong(w[1]);
                            long jit0 = jit.getTotalCompilationTime();
                            long t0 = System.nanoTime();
                            loop(mirror, mem, buf, ops);
                            long ns = System.nanoTime() - t0;
                            out.println("run " + ops + " " + ns + " " + (jit.getTotalCompilationTime() - jit0));
                        }
                        case "release" -> {
                            mem.close();
                            buf.close();
                            out.println("ok");
                        }
                        case "quit" -> {
                            return;
                        }
                        default -> out.println("error unknown command " + line);
                    }
                    out.flush();
                }
            }
        }

        /** Warm-up calls {@link #loop} in chunks this long, so that it is compiled as a method (not OSR). */
        private static final long WARM_CHUNK = 8;

        /** The measured work: {@code ops} fault + reads. */
        private static void loop(Mirror mirror, Memory mem, Memory buf, long ops) throws Exception {
            for (long i = 0; i < ops; i++) {
                once(mirror, mem, buf);
            }
        }

        private static void once(Mirror mirror, Memory mem, Memory buf) throws Exception {
            mirror.fault(mem, Access.READ);
            mirror.read(mem.address(), buf);
        }
    }
}
