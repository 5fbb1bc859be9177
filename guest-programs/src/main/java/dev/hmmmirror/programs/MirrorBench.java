package dev.hmmmirror.programs;

import dev.hmmmirror.Access;
import dev.hmmmirror.Memory;
import dev.hmmmirror.Mirror;
import dev.hmmmirror.raw.Command;
import dev.hmmmirror.raw.RawDevice;
import dev.hmmmirror.raw.RawStruct;
import dev.hmmmirror.raw.Struct;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
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

    /** Kinds of the per-call table: the C program's {@code calls} kinds. */
    static final String[] CALL_KINDS = {"abs", "version"};
    /** The Java side's ways of making a call; the first is the bindings' own path (ioctls only). */
    static final List<String> CALL_VARIANTS = List.of("bindings", "capture", "capture+critical", "plain", "critical");
    /** Aimed duration of one repetition of the per-call table on the C side. */
    static final double CALLS_NS = 200e6;

    private MirrorBench() {}

    private static String cell(Figures f) {
        return String.format(Locale.ROOT, "%.0f [%.0f-%.0f]", f.medianNs(), f.minNs(), f.maxNs());
    }

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
        json.append("]");
        List<String> callRows = new ArrayList<>();
        try (Side c = new Side("C", List.of("/hmm/host/" + C_PROGRAM)); Side j = new Side("Java", worker)) {
            json.append(", \"perCallNs\": [");
            for (String kind : CALL_KINDS) {
                double cWarm = 0;
                for (int w = 0; w < 3; w++) { // about a second: C needs no JIT
                    String[] a = c.ask("calls " + kind + " 100000");
                    cWarm = Double.parseDouble(a[2]) / 100000;
                }
                long n = Math.max(1000, Math.min(5_000_000, Math.round(CALLS_NS / Math.max(1, cWarm))));
                List<String> variants = kind.equals("abs") ? CALL_VARIANTS.subList(1, CALL_VARIANTS.size())
                        : CALL_VARIANTS;
                for (String v : variants) {
                    j.ask("warmcalls " + kind + " " + v + " " + WARM_SECONDS);
                }
                double[] cNs = new double[REPETITIONS];
                double[][] jNs = new double[variants.size()][REPETITIONS];
                long jit = 0;
                for (int r = 0; r < REPETITIONS; r++) {
                    List<Integer> order = new ArrayList<>();
                    for (int v = -1; v < variants.size(); v++) {
                        order.add(v);
                    }
                    if (r % 2 == 1) {
                        Collections.reverse(order);
                    }
                    for (int v : order) {
                        if (v < 0) {
                            cNs[r] = Double.parseDouble(c.ask("calls " + kind + " " + n)[2]) / n;
                        } else {
                            String[] a = j.ask("calls " + kind + " " + variants.get(v) + " " + n);
                            jNs[v][r] = Double.parseDouble(a[2]) / n;
                            jit += Long.parseLong(a[3]);
                        }
                    }
                }
                Figures cf = Figures.of(cNs, 0);
                StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "%-8s %9d %18s", kind, n, cell(cf)));
                json.append(kind.equals(CALL_KINDS[0]) ? "" : ", ").append(String.format(Locale.ROOT,
                        "{\"kind\": \"%s\", \"calls\": %d, \"c\": %.1f", kind, n, cf.medianNs()));
                for (String v : CALL_VARIANTS) {
                    int at = variants.indexOf(v);
                    if (at < 0) {
                        row.append(String.format(Locale.ROOT, " %18s", "-"));
                        continue;
                    }
                    Figures jf = Figures.of(jNs[at], 0);
                    row.append(String.format(Locale.ROOT, " %18s", cell(jf)));
                    json.append(String.format(Locale.ROOT, ", \"%s\": %.1f", v, jf.medianNs()));
                }
                json.append(String.format(Locale.ROOT, ", \"javaJitMsWhileMeasured\": %d}", jit));
                callRows.add(row + String.format(Locale.ROOT, " %6d", jit));
            }
            json.append("]");
        }
        json.append("}\n");
        System.out.printf(Locale.ROOT, "fault + read through the device page table, /dev/hmm_mirror0, kernel %s%n"
                + "C warmed %d s per size, Java until its JIT settled (warm s); then %d interleaved repetitions;"
                + " us/op median [min-max]%n",
                System.getProperty("os.version"), WARM_SECONDS, REPETITIONS);
        System.out.printf(Locale.ROOT, "%8s %8s %24s %24s %8s %6s %7s%n", "pages", "ops/rep", "C us/op", "Java us/op",
                "Java/C", "JIT ms", "warm s");
        rows.forEach(System.out::println);
        System.out.printf(Locale.ROOT, "%nthe cost of one call, ns: median [min-max] of %d interleaved repetitions (abs:"
                + " libc's abs, a call that does nothing; version: HMM_MIRROR_IOC_VERSION, the shortest ioctl); Java:"
                + " through the bindings (RawDevice.ioctl), and bare FFM downcall handles with errno capture"
                + " (capture, as the bindings), capture + Linker.Option.critical(false), neither, critical only%n",
                REPETITIONS);
        StringBuilder head = new StringBuilder(String.format(Locale.ROOT, "%-8s %9s %18s", "call", "calls/rep", "C"));
        for (String v : CALL_VARIANTS) {
            head.append(String.format(Locale.ROOT, " %18s", v));
        }
        System.out.println(head + String.format(Locale.ROOT, " %6s", "JIT ms"));
        callRows.forEach(System.out::println);
        Path out = Path.of("/hmm/out");
        if (Files.isDirectory(out)) {
            Files.writeString(out.resolve("mirror-bench.json"), json);
            System.out.println("JSON: " + out.resolve("mirror-bench.json") + " (the run folder's out/ on the host)");
        }
    }

    /** The Java side: the C side's protocol, through {@link Mirror}, in its own JVM with the JIT on. */
    public static final class Worker {
        private Worker() {}

        public static void main(String[] args) throws Throwable {
            var jit = ManagementFactory.getCompilationMXBean();
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            PrintStream out = System.out;
            Memory mem = null;
            Memory buf = null;
            try (Mirror mirror = Mirror.open(0); RawDevice mirror0 = RawDevice.open(0)) {
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
                        case "warmcalls" -> {
                            long t0 = System.nanoTime();
                            long minEnd = t0 + Long.parseLong(w[3]) * 1_000_000_000L;
                            long maxEnd = t0 + 60_000_000_000L;
                            long lastJit = jit.getTotalCompilationTime();
                            long lastChange = t0;
                            long t;
                            do {
                                Calls.run(w[1], w[2], 10_000, mirror0);
                                t = System.nanoTime();
                                long j = jit.getTotalCompilationTime();
                                if (j != lastJit) {
                                    lastJit = j;
                                    lastChange = t;
                                }
                            } while (t < maxEnd && (t < minEnd || t - lastChange < 2_000_000_000L));
                            out.println("warm " + (t - t0) / 1_000_000);
                        }
                        case "calls" -> {
                            long n = Long.parseLong(w[3]);
                            long jit0 = jit.getTotalCompilationTime();
                            long t0 = System.nanoTime();
                            Calls.run(w[1], w[2], n, mirror0);
                            long ns = System.nanoTime() - t0;
                            out.println("calls " + n + " " + ns + " " + (jit.getTotalCompilationTime() - jit0));
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

        /**
         * The per-call table's Java side: each way of calling in a loop of its own (so that each is
         * compiled on its own), through handles in static finals (constants to the JIT).
         */
        static final class Calls {
            private static final Linker LINKER = Linker.nativeLinker();
            private static final Linker.Option ERRNO = Linker.Option.captureCallState("errno");
            private static final Linker.Option CRITICAL = Linker.Option.critical(false);
            private static final Linker.Option VARIADIC = Linker.Option.firstVariadicArg(2);
            private static final MemorySegment STATE = Arena.global().allocate(Linker.Option.captureStateLayout());
            private static final FunctionDescriptor ABS = FunctionDescriptor.of(ValueLayout.JAVA_INT,
                    ValueLayout.JAVA_INT);
            private static final FunctionDescriptor IOCTL = FunctionDescriptor.of(ValueLayout.JAVA_INT,
                    ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.ADDRESS);
            private static final MethodHandle ABS_CAPTURE = handle("abs", ABS, ERRNO);
            private static final MethodHandle ABS_CAPTURE_CRITICAL = handle("abs", ABS, ERRNO, CRITICAL);
            private static final MethodHandle ABS_PLAIN = handle("abs", ABS);
            private static final MethodHandle ABS_CRITICAL = handle("abs", ABS, CRITICAL);
            private static final MethodHandle IOCTL_CAPTURE = handle("ioctl", IOCTL, ERRNO, VARIADIC);
            private static final MethodHandle IOCTL_CAPTURE_CRITICAL = handle("ioctl", IOCTL, ERRNO, CRITICAL, VARIADIC);
            private static final MethodHandle IOCTL_PLAIN = handle("ioctl", IOCTL, VARIADIC);
            private static final MethodHandle IOCTL_CRITICAL = handle("ioctl", IOCTL, CRITICAL, VARIADIC);
            private static final long VERSION = Command.VERSION.request();
            private static final RawStruct VERSION_ARG = RawStruct.of(Struct.VERSION);
            private static final MemorySegment VERSION_SEG = MemorySegment.ofAddress(VERSION_ARG.address())
                    .reinterpret(Struct.VERSION.byteSize());
            /** Its own descriptor of /dev/hmm_mirror0 for the bare handles (0 until opened). */
            private static int fd = -1;

            private Calls() {}

            private static MethodHandle handle(String name, FunctionDescriptor fd, Linker.Option... options) {
                return LINKER.downcallHandle(LINKER.defaultLookup().find(name).orElseThrow(), fd, options);
            }

            static void run(String kind, String variant, long n, RawDevice device) throws Throwable {
                if (fd < 0) {
                    fd = open();
                    VERSION_ARG.set("size", Struct.VERSION.byteSize());
                }
                long bad = switch (kind + " " + variant) {
                    case "abs capture" -> absCapture(n);
                    case "abs capture+critical" -> absCaptureCritical(n);
                    case "abs plain" -> absPlain(n);
                    case "abs critical" -> absCritical(n);
                    case "version bindings" -> versionBindings(n, device);
                    case "version capture" -> versionCapture(n);
                    case "version capture+critical" -> versionCaptureCritical(n);
                    case "version plain" -> versionPlain(n);
                    case "version critical" -> versionCritical(n);
                    default -> throw new IllegalArgumentException("no call " + kind + " " + variant);
                };
                if (bad != 0) {
                    throw new IllegalStateException(kind + " " + variant + ": " + bad + " calls failed");
                }
                java.lang.ref.Reference.reachabilityFence(VERSION_ARG);
            }

            private static int open() throws Throwable {
                MethodHandle open = handle("open", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
                        ValueLayout.JAVA_INT), ERRNO);
                int f = (int) open.invokeExact(STATE, Arena.global().allocateFrom("/dev/hmm_mirror0"), 2 /* O_RDWR */);
                if (f < 0) {
                    throw new IllegalStateException("open /dev/hmm_mirror0: errno " + STATE.get(ValueLayout.JAVA_INT, 0));
                }
                return f;
            }

            // abs(i) < 0 only for Integer.MIN_VALUE: counting those keeps the results used
            private static long absCapture(long n) throws Throwable {
                long neg = 0;
                for (long i = 0; i < n; i++) {
                    neg += (int) ABS_CAPTURE.invokeExact(STATE, (int) i) < 0 ? 1 : 0;
                }
                return neg;
            }

            private static long absCaptureCritical(long n) throws Throwable {
                long neg = 0;
                for (long i = 0; i < n; i++) {
                    neg += (int) ABS_CAPTURE_CRITICAL.invokeExact(STATE, (int) i) < 0 ? 1 : 0;
                }
                return neg;
            }

            private static long absPlain(long n) throws Throwable {
                long neg = 0;
                for (long i = 0; i < n; i++) {
                    neg += (int) ABS_PLAIN.invokeExact((int) i) < 0 ? 1 : 0;
                }
                return neg;
            }

            private static long absCritical(long n) throws Throwable {
                long neg = 0;
                for (long i = 0; i < n; i++) {
                    neg += (int) ABS_CRITICAL.invokeExact((int) i) < 0 ? 1 : 0;
                }
                return neg;
            }

            private static long versionBindings(long n, RawDevice device) throws Throwable {
                long failed = 0;
                for (long i = 0; i < n; i++) {
                    failed += device.ioctl(Command.VERSION, VERSION_ARG) != 0 ? 1 : 0;
                }
                return failed;
            }

            private static long versionCapture(long n) throws Throwable {
                long failed = 0;
                for (long i = 0; i < n; i++) {
                    failed += (int) IOCTL_CAPTURE.invokeExact(STATE, fd, VERSION, VERSION_SEG) != 0 ? 1 : 0;
                }
                return failed;
            }

            private static long versionCaptureCritical(long n) throws Throwable {
                long failed = 0;
                for (long i = 0; i < n; i++) {
                    failed += (int) IOCTL_CAPTURE_CRITICAL.invokeExact(STATE, fd, VERSION, VERSION_SEG) != 0 ? 1 : 0;
                }
                return failed;
            }

            private static long versionPlain(long n) throws Throwable {
                long failed = 0;
                for (long i = 0; i < n; i++) {
                    failed += (int) IOCTL_PLAIN.invokeExact(fd, VERSION, VERSION_SEG) != 0 ? 1 : 0;
                }
                return failed;
            }

            private static long versionCritical(long n) throws Throwable {
                long failed = 0;
                for (long i = 0; i < n; i++) {
                    failed += (int) IOCTL_CRITICAL.invokeExact(fd, VERSION, VERSION_SEG) != 0 ? 1 : 0;
                }
                return failed;
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
