package dev.hmmmirror.programs;

import dev.hmmmirror.Access;
import dev.hmmmirror.Memory;
import dev.hmmmirror.Mirror;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The Java/C benchmark, run in the guest: the same command (fault + read of 1, 64 and 16384
 * pages) timed from Java (a JVM with the JIT on, after warm-up) and from the static C program
 * {@code /hmm/host/mirror_bench}, side by side in one guest run, printed as a ratio per size.
 */
public final class MirrorBench {
    /** Name of the C side in the guest ({@code /hmm/host/mirror_bench}); the harness builds it static. */
    public static final String C_PROGRAM = "mirror_bench";

    /** The C side's source, built for the guest by the session. */
    public static byte[] cSource() {
        try (java.io.InputStream in = MirrorBench.class.getResourceAsStream("mirror_bench.c")) {
            if (in == null) {
                throw new IllegalStateException("missing resource mirror_bench.c");
            }
            return in.readAllBytes();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static final long[] SIZES = {1, 64, 16384};

    private MirrorBench() {}

    /** Entry point in the agent: runs both sides in child processes and prints the table. */
    public static void main(String[] args) throws Exception {
        List<String> sizes = new ArrayList<>();
        for (long s : SIZES) {
            sizes.add(String.valueOf(s));
        }
        List<String> c = new ArrayList<>(List.of("/hmm/host/mirror_bench"));
        c.addAll(sizes);
        Map<Long, double[]> cNs = parse(run(c));
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> j = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED", "-XX:+UseSerialGC",
                "-cp", System.getProperty("java.class.path"), Worker.class.getName()));
        j.addAll(sizes);
        Map<Long, double[]> jNs = parse(run(j));
        System.out.printf(Locale.ROOT, "fault + read through the device page table, %s, kernel %s%n",
                "/dev/hmm_mirror0", System.getProperty("os.version"));
        System.out.printf(Locale.ROOT, "%8s %14s %14s %10s%n", "pages", "C us/op", "Java us/op", "Java/C");
        for (long s : SIZES) {
            double cu = cNs.get(s)[1] / 1000, ju = jNs.get(s)[1] / 1000;
            System.out.printf(Locale.ROOT, "%8d %14.1f %14.1f %10.2f%n", s, cu, ju, ju / cu);
        }
    }

    private static Map<Long, double[]> parse(String out) {
        Map<Long, double[]> m = new LinkedHashMap<>();
        for (String line : out.split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (f.length == 3 && f[0].matches("\\d+")) {
                m.put(Long.parseLong(f[0]), new double[] {Double.parseDouble(f[1]), Double.parseDouble(f[2])});
            }
        }
        return m;
    }

    private static String run(List<String> cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IllegalStateException(String.join(" ", cmd) + " failed:\n" + out);
        }
        return out;
    }

    /** The Java side, in its own JVM with the JIT on. */
    public static final class Worker {
        private Worker() {}

        public static void main(String[] args) throws Exception {
            try (Mirror mirror = Mirror.open(0)) {
                for (String a : args) {
                    long pages = Long.parseLong(a);
                    try (Memory mem = Memory.anonymous(pages); Memory buf = Memory.anonymous(pages)) {
                        mem.fill((byte) 0x5a);
                        Memory dst = buf; // reused, like the C side's buffer
                        long deadline = System.nanoTime() + 3_000_000_000L; // warm-up: let the JIT settle
                        while (System.nanoTime() < deadline) {
                            mirror.fault(mem, Access.READ);
                            mirror.read(mem.address(), dst);
                        }
                        long iters = 0;
                        long t0 = System.nanoTime();
                        long t;
                        do {
                            mirror.fault(mem, Access.READ);
                            mirror.read(mem.address(), dst);
                            iters++;
                            t = System.nanoTime();
                        } while (t - t0 < 2_000_000_000L && iters < 100_000);
                        System.out.println(pages + " " + iters + " " + (t - t0) / iters);
                    }
                }
            }
        }
    }
}
