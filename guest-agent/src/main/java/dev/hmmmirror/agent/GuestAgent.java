package dev.hmmmirror.agent;

import dev.hmmmirror.agent.protocol.GuestResult;
import dev.hmmmirror.agent.protocol.Markers;
import dev.hmmmirror.agent.protocol.Protocol;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.ObjectOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The one JVM of a guest run. It reads requests from the host on standard input (the guest's
 * second serial port), runs them and answers on standard output. Test output goes to a buffer
 * returned with each result, so that it cannot corrupt the protocol.
 */
public final class GuestAgent {
    private final PrintStream protocol;
    private final ByteArrayOutputStream captured = new ByteArrayOutputStream();
    private TestRunner tests;
    /** The kernel's global mm knobs: a test that changes one must put it back (KnobGuard). */
    private final KnobGuard knobGuard = KnobGuard.ofThisKernel();
    /** Running STREAM requests by id (their pump threads remove them). */
    private final java.util.Map<String, Process> streams = new java.util.concurrent.ConcurrentHashMap<>();

    private GuestAgent(PrintStream protocol) {
        this.protocol = protocol;
    }

    public static void main(String[] args) throws IOException {
        String mainUptime = uptime();
        if (args.length > 0 && args[0].equals("--train")) {
            Training.run();
            return;
        }
        PrintStream protocol = new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8);
        GuestAgent agent = new GuestAgent(protocol);
        PrintStream capture = new PrintStream(agent.captured, true, StandardCharsets.UTF_8);
        System.setOut(capture);
        System.setErr(capture);
        protocol.println(Protocol.line(Protocol.HELLO, Protocol.b64(hello(processStartUptime(), mainUptime, uptime()))));
        CompilerThreads.restoreLater();
        try {
            agent.serve(new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)));
        } catch (IOException | RuntimeException | Error e) {
            // System.err is the capture buffer: without this the JVM would exit 1 with nothing on the console
            PrintStream console = new PrintStream(new FileOutputStream(FileDescriptor.err), true, StandardCharsets.UTF_8);
            console.println("[hmm agent] the guest agent ends on an exception: " + trace(e));
            throw e;
        }
    }

    private void serve(BufferedReader in) throws IOException {
        String line;
        while ((line = in.readLine()) != null) {
            String[] w = Protocol.parse(line);
            if (w == null || w.length == 0) {
                continue;
            }
            switch (w[0]) {
                case Protocol.QUIT -> {
                    return;
                }
                case Protocol.RUN -> answer(w[1], runTest(Protocol.text(w[2])));
                case Protocol.EXEC -> answer(w[1], exec(Protocol.text(w[2])));
                case Protocol.MAIN -> answer(w[1], runMain(Protocol.text(w[2])));
                case Protocol.STREAM -> stream(w[1], Protocol.text(w[2]));
                case Protocol.IN -> input(w[1], Protocol.bytes(w[2]));
                case Protocol.EOF -> endOfInput(w[1]);
                default -> answer(w.length > 1 ? w[1] : "0", new GuestResult(GuestResult.Status.NOT_FOUND, 0,
                        "unknown request " + w[0], "", new byte[0], "", ""));
            }
        }
    }

    private void answer(String id, GuestResult r) {
        protocol.println(Protocol.line(Protocol.RESULT, id, Protocol.b64(r.encode())));
        CompilerThreads.restore(); // the first result is out (once; CompilerThreads)
    }

    private GuestResult runTest(String uniqueId) {
        if (tests == null) {
            tests = new TestRunner();
        }
        captured.reset();
        long t0 = System.nanoTime();
        java.util.Map<java.nio.file.Path, String> knobs = knobGuard.snapshot();
        Thread watchdog = Thread.ofPlatform().daemon().name("hmm-watchdog").start(() -> watch(uniqueId));
        TestRunner.Outcome o;
        try {
            o = tests.run(uniqueId);
        } catch (OutOfMemoryError e) {
            // JUnit rethrows it past every listener; the test's objects are garbage now, the next test can run
            tests = null;
            o = new TestRunner.Outcome(GuestResult.Status.FAILED, "", outOfMemory(e));
        } finally {
            watchdog.interrupt();
        }
        List<KnobGuard.Change> changed = knobGuard.restore(knobs);
        if (!changed.isEmpty()) {
            if (o.status() == GuestResult.Status.PASSED) {
                o = new TestRunner.Outcome(GuestResult.Status.FAILED, "", new AssertionError(KnobGuard.message(changed)));
            } else {
                System.out.println("[hmm agent] " + KnobGuard.message(changed));
            }
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;
        String out = captured.toString(StandardCharsets.UTF_8);
        if (o.status() == GuestResult.Status.FAILED) {
            Throwable error = o.error() != null ? o.error() : new AssertionError("failed in the guest without an exception");
            return new GuestResult(o.status(), ms, String.valueOf(error.getMessage()), trace(error),
                    serialize(error), out, dmesgTail());
        }
        return new GuestResult(o.status(), ms, o.reason(), "", new byte[0], out, "");
    }

    /** A test's OutOfMemoryError as its failure, saying how large the heap was and what to do. */
    static AssertionError outOfMemory(OutOfMemoryError e) {
        AssertionError a = new AssertionError("the guest JVM ran out of memory in this test (" + e.getMessage()
                + "; the heap may grow to " + (Runtime.getRuntime().maxMemory() >> 20) + " MiB, a quarter of the "
                + "guest's memory by default): compare large ranges a slice at a time rather than in whole arrays, or "
                + "give the guest more memory (hmm.guest.memory, HMM_GUEST_MEMORY, in MiB)");
        a.initCause(e);
        return a;
    }

    private GuestResult runMain(String className) {
        captured.reset();
        long t0 = System.nanoTime();
        try {
            invokeMain(className);
            return new GuestResult(GuestResult.Status.PASSED, (System.nanoTime() - t0) / 1_000_000, "", "",
                    new byte[0], captured.toString(StandardCharsets.UTF_8), "");
        } catch (ReflectiveOperationException e) {
            Throwable t = e instanceof java.lang.reflect.InvocationTargetException ite ? ite.getCause() : e;
            return new GuestResult(GuestResult.Status.FAILED, (System.nanoTime() - t0) / 1_000_000,
                    String.valueOf(t.getMessage()), trace(t), serialize(t), captured.toString(StandardCharsets.UTF_8),
                    dmesgTail());
        }
    }

    /** Runs {@code className}'s {@code main} with no arguments (MAIN requests; the AOT training). */
    static void invokeMain(String className) throws ReflectiveOperationException {
        Class.forName(className).getMethod("main", String[].class).invoke(null, (Object) new String[0]);
    }

    /**
     * Starts {@code command} and returns at once, so that this loop goes on reading its input (IN,
     * EOF); a pump thread sends its output as OUT lines and, when it exits, the RESULT.
     */
    private void stream(String id, String command) {
        long t0 = System.nanoTime();
        Process p;
        try {
            p = new ProcessBuilder("sh", "-c", command).redirectErrorStream(true).start();
        } catch (IOException e) {
            answer(id, new GuestResult(GuestResult.Status.FAILED, 0, e.toString(), trace(e), new byte[0], "", ""));
            return;
        }
        streams.put(id, p);
        Thread.ofPlatform().daemon().name("hmm-stream-" + id).start(() -> {
            byte[] buf = new byte[8192];
            int rc = -1;
            try (var out = p.getInputStream()) {
                for (int n; (n = out.read(buf)) > 0; ) {
                    protocol.println(Protocol.line(Protocol.OUT, id, Protocol.b64(java.util.Arrays.copyOf(buf, n))));
                }
                rc = p.waitFor();
            } catch (IOException | InterruptedException e) {
                p.destroyForcibly();
            } finally {
                streams.remove(id);
            }
            answer(id, new GuestResult(rc == 0 ? GuestResult.Status.PASSED : GuestResult.Status.FAILED,
                    (System.nanoTime() - t0) / 1_000_000, Protocol.EXIT + rc, "", new byte[0], "", ""));
        });
    }

    private void input(String id, byte[] bytes) {
        Process p = streams.get(id);
        if (p != null) {
            try {
                p.getOutputStream().write(bytes);
                p.getOutputStream().flush();
            } catch (IOException e) {
                // the command closed its input or exited: drop what it will never read
            }
        }
    }

    private void endOfInput(String id) {
        Process p = streams.get(id);
        if (p != null) {
            try {
                p.getOutputStream().close();
            } catch (IOException e) {
                // already closed
            }
        }
    }

    private static GuestResult exec(String command) {
        long t0 = System.nanoTime();
        try {
            Process p = new ProcessBuilder("sh", "-c", command).redirectErrorStream(true).start();
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            int rc = p.waitFor();
            long ms = (System.nanoTime() - t0) / 1_000_000;
            return new GuestResult(rc == 0 ? GuestResult.Status.PASSED : GuestResult.Status.FAILED, ms,
                    Protocol.EXIT + rc, "", new byte[0], out, "");
        } catch (IOException | InterruptedException e) {
            return new GuestResult(GuestResult.Status.FAILED, 0, e.toString(), trace(e), new byte[0], "", "");
        }
    }

    /**
     * When a test runs longer than {@code hmm.guest.watchdog} seconds (default 90), writes every
     * thread of this JVM to the console: Java stack, kernel state, wait channel and kernel stack,
     * so that a test stuck in (or spinning on) the kernel shows where.
     */
    private static void watch(String uniqueId) {
        try {
            Thread.sleep(Long.getLong(Protocol.WATCHDOG_PROPERTY, 90) * 1000);
        } catch (InterruptedException done) {
            return;
        }
        PrintStream console = new PrintStream(new FileOutputStream(FileDescriptor.err), true, StandardCharsets.UTF_8);
        console.println(Markers.line(Markers.WATCHDOG, "test still running: " + uniqueId));
        for (var e : Thread.getAllStackTraces().entrySet()) {
            console.println(Markers.line(Markers.WATCHDOG, "java thread " + e.getKey().getName() + " " + e.getKey().getState()));
            for (StackTraceElement f : e.getValue()) {
                console.println(Markers.line(Markers.WATCHDOG, "    at " + f));
            }
        }
        try (var tasks = java.nio.file.Files.list(java.nio.file.Path.of("/proc/self/task"))) {
            for (java.nio.file.Path t : tasks.toList()) {
                String stat = read(t.resolve("stat"));
                String wchan = read(t.resolve("wchan"));
                console.println(Markers.line(Markers.WATCHDOG, "task " + t.getFileName() + " " + stat.replaceAll("^\\d+ ", "")
                        .split(" ")[0] + " state " + (stat.contains(") ") ? stat.substring(stat.indexOf(") ") + 2, stat.indexOf(") ") + 3) : "?")
                        + " wchan " + wchan));
                for (String line : read(t.resolve("stack")).split("\n")) {
                    if (!line.isBlank()) {
                        console.println(Markers.line(Markers.WATCHDOG, "    " + line));
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            console.println(Markers.line(Markers.WATCHDOG, "cannot read /proc/self/task: " + e));
        }
    }

    /**
     * HELLO's text: the guest's uptime when this process started, when main ran and now, which the
     * host's boot benchmark uses to split the JVM's start. Kept as the kernel printed them, without a
     * double or {@code Runtime.version()} in between: under TCG a fresh JVM's first double-to-text
     * and the version's regex and lambdas cost a noticeable part of the first result
     * (java.lang.management would load ~150 classes). The AOT training formats it too (Training).
     */
    static String hello(String start, String main, String hello) {
        long s = centis(start);
        long h = centis(hello);
        return "jvm-ms=" + (s < 0 || h < 0 ? -1 : (h - s) * 10) + " start=" + start + " main=" + main
                + " hello=" + hello + " java=" + System.getProperty("java.runtime.version")
                + " kernel=" + System.getProperty("os.version");
    }

    /** Seconds since the guest booted, as {@code /proc/uptime} prints them ("123.45"), or "-1". */
    static String uptime() {
        try (var in = new java.io.FileInputStream("/proc/uptime")) {
            String s = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
            String up = s.substring(0, s.indexOf(' '));
            return centis(up) < 0 ? "-1" : up;
        } catch (IOException | RuntimeException e) {
            return "-1";
        }
    }

    /**
     * Seconds after boot at which this process started ({@code /proc/self/stat} field 22, in 1/100 s)
     * as "12.34", or "-1".
     */
    static String processStartUptime() {
        try (var in = new java.io.FileInputStream("/proc/self/stat")) {
            String s = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
            String[] f = s.substring(s.lastIndexOf(')') + 2).split(" "); // f[0] is field 3 (state)
            return seconds(Long.parseLong(f[22 - 3])); // USER_HZ: 100 on x86-64 and arm64
        } catch (IOException | RuntimeException e) {
            return "-1";
        }
    }

    /** {@code centis} hundredths of a second as "12.34". */
    static String seconds(long centis) {
        long c = centis % 100;
        return centis / 100 + (c < 10 ? ".0" : ".") + c;
    }

    /** "12.34" (two decimals at most, as /proc/uptime prints) as 1234, or -1. */
    static long centis(String seconds) {
        int dot = seconds.indexOf('.');
        try {
            if (dot < 0) {
                long whole = Long.parseLong(seconds);
                return whole < 0 ? -1 : whole * 100;
            }
            String frac = seconds.substring(dot + 1);
            if (frac.isEmpty() || frac.length() > 2) {
                return -1;
            }
            long whole = Long.parseLong(seconds.substring(0, dot));
            long f = Long.parseLong(frac);
            return whole < 0 || f < 0 ? -1 : whole * 100 + (frac.length() == 1 ? f * 10 : f);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static String read(java.nio.file.Path p) {
        try {
            return java.nio.file.Files.readString(p).strip();
        } catch (IOException e) {
            return "";
        }
    }

    static String trace(Throwable t) {
        StringWriter w = new StringWriter();
        t.printStackTrace(new PrintWriter(w));
        return w.toString();
    }

    static byte[] serialize(Throwable t) {
        try {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            try (ObjectOutputStream o = new ObjectOutputStream(b)) {
                o.writeObject(t);
            }
            return b.toByteArray();
        } catch (IOException | RuntimeException e) {
            return new byte[0]; // not serializable: the host falls back to the text trace
        }
    }

    /** The last 60 lines of the kernel log. */
    static String dmesgTail() {
        try {
            Process p = new ProcessBuilder("dmesg").redirectErrorStream(true).start();
            String all = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            p.waitFor(20, TimeUnit.SECONDS);
            List<String> lines = all.lines().toList();
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size()));
        } catch (IOException | InterruptedException e) {
            return "(dmesg unavailable: " + e + ")";
        }
    }
}
