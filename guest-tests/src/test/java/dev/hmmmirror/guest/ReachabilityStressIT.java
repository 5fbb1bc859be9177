package dev.hmmmirror.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hmmmirror.FaultInjection;
import dev.hmmmirror.HmmException;
import dev.hmmmirror.Memory;
import dev.hmmmirror.Mirror;
import dev.hmmmirror.raw.Command;
import dev.hmmmirror.raw.RawBuffer;
import dev.hmmmirror.raw.RawDevice;
import dev.hmmmirror.raw.RawStruct;
import dev.hmmmirror.raw.Struct;
import dev.hmmmirror.guest.mm.Machinery;
import dev.hmmmirror.junit.GuestTest;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.ref.Cleaner;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Issue 25: on a JIT-compiled JVM (C1 and C2) under constant GC pressure, nothing the bindings hand
 * to the kernel is collected while the kernel still uses it. A child JVM (tiered, {@code -Xbatch}:
 * compiled when warm, whatever mode the guest agent runs in; its compile thresholds at a tenth,
 * {@code -XX:CompileThresholdScaling=0.1}, so C2 compiles after ~500 calls instead of ~5,000 and the
 * warm-up stays short under TCG on a loaded host) first warms three kinds of call until they are
 * compiled, then runs each with the device slowed down (a copy delay of
 * {@value #DELAY_MS} ms a page, so a {@value #PAGES}-page read stays in the kernel for at least
 * {@value #PAGES} times that) while another thread allocates and collects all the time. A
 * {@link Cleaner} on each object notes when it was collected; collected before the kernel can
 * possibly have returned is a violation:
 * <ul>
 * <li>raw: {@code d.ioctl(READ, RawStruct.of(RW).set("ptr", RawBuffer.allocate(..)))}, the caller
 * keeping nothing: the struct and its buffer (which the kernel writes) must live;
 * <li>mirror: {@code Mirror.open(0).read(..)} on a mirror nothing else refers to: the mirror must
 * not be closed under its own command, and the bytes must be right;
 * <li>control: an object that only a dead local of the compiled caller refers to must be collected
 * during such a call, in at least one call. If it is not, the JIT or the GC pressure is not doing
 * what this test needs, and a zero in the other two would prove nothing: the test fails.
 * </ul>
 */
@GuestTest
class ReachabilityStressIT {
    static final int PAGES = 8;
    static final int DELAY_MS = 20;
    /** Calls of each kind before the measured ones: C2's invocation threshold (5,000) at the child's scaling of 0.1 is 500. */
    static final int WARM_CALLS = 1200;
    /** The child JVM's compile threshold scaling: see the class comment. */
    static final String THRESHOLD_SCALING = "0.1";
    static final int CALLS = 12;
    /** The stress program's limit: below the guest's test timeout, so a hang is reported with its output. */
    static final int STRESS_SECONDS = 420;
    private static final Path MIRRORS = Machinery.MIRROR0.resolve("mirrors");

    /** The child JVM's program. */
    public static final class Stress {
        private static final Cleaner CLEANER = Cleaner.create();
        private static final long PAGE = Memory.pageSize();
        private static volatile boolean pressure;
        private static volatile Object sink;

        /** Counts a collection that came before {@code notBefore} (System.nanoTime()). */
        private record Early(long notBefore, AtomicInteger count) implements Runnable {
            @Override
            public void run() {
                if (System.nanoTime() < notBefore) {
                    count.incrementAndGet();
                }
            }
        }

        /** A READ whose caller keeps neither the struct nor the buffer the kernel writes. */
        static void oneRaw(RawDevice d, long address, int pages, long minNanos, AtomicInteger early)
                throws HmmException {
            RawBuffer buffer = RawBuffer.allocate(pages * PAGE);
            RawStruct rw = RawStruct.of(Struct.RW).set("addr", address).set("npages", pages).set("ptr", buffer);
            long notBefore = System.nanoTime() + minNanos;
            CLEANER.register(buffer, new Early(notBefore, early));
            CLEANER.register(rw, new Early(notBefore, early));
            d.ioctl(Command.READ, rw);
        }

        /** A READ on a mirror nothing else refers to; returns 1 when the bytes are wrong. */
        static int oneMirror(long address, int pages, Duration delay, long minNanos, AtomicInteger early,
                byte[] expected) throws HmmException {
            Mirror m = Mirror.open(0);
            m.injectFaults(FaultInjection.copyDelay(delay));
            CLEANER.register(m, new Early(System.nanoTime() + minNanos, early));
            return Arrays.equals(m.read(address, pages), expected) ? 0 : 1;
        }

        /** The control: {@code token} is dead in the compiled frame as soon as the call starts. */
        static void oneControl(RawDevice d, RawStruct kept, long minNanos, AtomicInteger early) throws HmmException {
            Object token = new Object();
            CLEANER.register(token, new Early(System.nanoTime() + minNanos, early));
            issueWith(d, kept, token);
        }

        private static void issueWith(RawDevice d, RawStruct kept, Object unused) throws HmmException {
            d.ioctl(Command.READ, kept);
        }

        private static void inject(RawDevice d, int delayUs) throws HmmException {
            d.ioctl(Command.INJECT, RawStruct.of(Struct.INJECT).set("copy_delay_us", delayUs));
        }

        public static void main(String[] args) throws Exception {
            System.out.printf("started: %d warm-up calls of each kind, then %d measured%n", WARM_CALLS, CALLS);
            Thread gc = new Thread(() -> {
                while (true) {
                    sink = new byte[64 << 10];
                    System.gc();
                    try {
                        // a full collection every 200 ms while warming up (the calls are compiled under some GC),
                        // all the time during the measured calls
                        Thread.sleep(pressure ? 1 : 200);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "gc-pressure");
            gc.setDaemon(true);
            gc.start();
            try (Memory mem = Memory.anonymous(PAGES); RawDevice d = RawDevice.open(0)) {
                mem.write(0, Bytes.pattern(PAGES, 25));
                byte[] one = Arrays.copyOf(Bytes.pattern(PAGES, 25), (int) PAGE);
                byte[] all = Bytes.pattern(PAGES, 25);
                RawStruct kept1 = RawStruct.of(Struct.RW).set("addr", mem.address()).set("npages", 1)
                        .set("ptr", RawBuffer.allocate(PAGE));
                RawStruct kept = RawStruct.of(Struct.RW).set("addr", mem.address()).set("npages", PAGES)
                        .set("ptr", RawBuffer.allocate(PAGES * PAGE));
                AtomicInteger warmEarly = new AtomicInteger();
                int warmWrong = 0;
                long t0 = System.nanoTime();
                for (int i = 0; i < WARM_CALLS; i++) {
                    oneRaw(d, mem.address(), 1, 0, warmEarly);
                    oneControl(d, kept1, 0, warmEarly);
                    warmWrong += oneMirror(mem.address(), 1, Duration.ZERO, 0, warmEarly, one);
                    if ((i + 1) % 200 == 0) {
                        System.out.printf("warm-up: %d of %d, %d ms%n", i + 1, WARM_CALLS,
                                (System.nanoTime() - t0) / 1_000_000);
                    }
                }
                System.out.printf("warm-up: %d calls of each kind in %d ms, %d wrong reads%n", WARM_CALLS,
                        (System.nanoTime() - t0) / 1_000_000, warmWrong);
                Duration delay = Duration.ofMillis(DELAY_MS);
                long minNanos = PAGES * delay.toNanos(); // the kernel sleeps that long in each call
                inject(d, DELAY_MS * 1000);
                pressure = true;
                AtomicInteger raw = new AtomicInteger();
                AtomicInteger control = new AtomicInteger();
                AtomicInteger mirror = new AtomicInteger();
                int wrong = 0;
                t0 = System.nanoTime();
                for (int i = 0; i < CALLS; i++) {
                    oneRaw(d, mem.address(), PAGES, minNanos, raw);
                    oneControl(d, kept, minNanos, control);
                    wrong += oneMirror(mem.address(), PAGES, delay, minNanos, mirror, all);
                }
                pressure = false;
                inject(d, 0);
                long ms = (System.nanoTime() - t0) / 1_000_000;
                Thread.sleep(500);
                for (int i = 0; i < 5; i++) {
                    System.gc(); // every object of the measured calls collected, so every Early has run
                    Thread.sleep(100);
                }
                System.out.printf("measured: %d calls of each kind in %d ms (at least %d ms in the kernel each)%n",
                        CALLS, ms, minNanos / 1_000_000);
                System.out.printf("RESULT raw=%d mirror=%d control=%d wrong=%d%n", raw.get(), mirror.get(),
                        control.get(), wrong);
            }
        }
    }

    @Test
    void nothingHandedToTheKernelIsCollectedBeforeTheCallReturnsOnTheJitCompiledJvm() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "-XX:+UseSerialGC", "-Xmx64m", "-Xbatch", "-XX:-UsePerfData",
                "-XX:CompileThresholdScaling=" + THRESHOLD_SCALING,
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                Stress.class.getName()).redirectErrorStream(true).start();
        StringBuilder log = new StringBuilder();
        Thread reader = new Thread(() -> {
            try (BufferedReader out = new BufferedReader(
                    new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = out.readLine()) != null) {
                    System.out.println("[stress] " + line); // progress, in the test's output
                    synchronized (log) {
                        log.append(line).append('\n');
                    }
                }
            } catch (java.io.IOException ended) {
                // the child was killed
            }
        }, "stress-output");
        reader.start();
        boolean ended = p.waitFor(STRESS_SECONDS, TimeUnit.SECONDS);
        if (!ended) {
            p.destroyForcibly().waitFor(); // a hang is a finding too (e.g. the kernel wrote into freed memory)
        }
        reader.join(10_000);
        synchronized (log) {
            assertTrue(ended, "the stress program did not end within " + STRESS_SECONDS + " s:\n" + log);
        }
        assertEquals(0, p.exitValue(), "the stress program failed:\n" + log);
        Matcher r = Pattern.compile("RESULT raw=(\\d+) mirror=(\\d+) control=(\\d+) wrong=(\\d+)").matcher(log);
        assertTrue(r.find(), "no RESULT line:\n" + log);
        int raw = Integer.parseInt(r.group(1));
        int mirror = Integer.parseInt(r.group(2));
        int control = Integer.parseInt(r.group(3));
        int wrong = Integer.parseInt(r.group(4));
        assertTrue(control > 0, "inconclusive: an object only a dead local referred to was never collected during a "
                + "slow call, so the JIT or the GC pressure did not do what this test needs:\n" + log);
        assertEquals(0, raw, "RawStruct or RawBuffer objects collected while their READ was in the kernel:\n" + log);
        assertEquals(0, mirror, "mirrors collected (and closed) while their own READ was in the kernel:\n" + log);
        assertEquals(0, wrong, "reads that returned wrong bytes:\n" + log);
    }

    /** Opens {@code n} mirrors (each used once), to be dropped by the caller without close(). */
    private static java.util.List<Mirror> openWithoutClose(int n) throws HmmException {
        java.util.List<Mirror> out = new java.util.ArrayList<>();
        for (int i = 0; i < n; i++) {
            Mirror m = Mirror.open(0);
            m.counters();
            out.add(m);
        }
        return out;
    }

    @Test
    void mirrorsDroppedWithoutCloseAreReleasedOnceUnreachable() throws Exception {
        long before = Long.parseLong(Files.readString(MIRRORS).strip());
        try (Mirror kept = Mirror.open(0)) {
            // held until counted: with the JIT a collection during the opens would release some early
            java.util.List<Mirror> dropped = openWithoutClose(150);
            assertEquals(before + 151, Long.parseLong(Files.readString(MIRRORS).strip()), "each open is a mirror");
            java.lang.ref.Reference.reachabilityFence(dropped);
            dropped = null; // unreachable from here on, never closed
            long left = before + 151;
            for (int i = 0; i < 200 && left > before + 1; i++) {
                System.gc();
                Thread.sleep(100);
                left = Long.parseLong(Files.readString(MIRRORS).strip());
            }
            assertEquals(before + 1, left, "150 mirrors dropped without close(): the kernel must have released them "
                    + "once they were unreachable, and only them");
            kept.counters(); // the one still referenced still works
        }
    }
}
