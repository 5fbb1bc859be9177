package dev.hmmmirror.internal;

import dev.hmmmirror.HmmDevice;
import dev.hmmmirror.HmmException;
import dev.hmmmirror.Mirror;

/**
 * Not a test: a main for fresh-JVM measurements of the device demo's path to its first result
 * (open, {@code HMM_MIRROR_IOC_VERSION}, close, errno captured), on a device node given as its
 * argument or, on a host without the module, {@code /dev/null} (the ioctl answers ENOTTY). Prints the time from {@code main} to the
 * answer; run it with {@code -Xlog:class+load} to count the classes the JVM spins on the way, and
 * with {@code -Dhmm.bindings.libcFileCalls=true} for libc's three wrappers (docs/performance.md, run M;
 * {@code src/test/scripts/first-result-ab.sh} runs both in one guest).
 */
public final class FirstResultProbe {
    private FirstResultProbe() {}

    /** Marks a phase boundary in a {@code -Xlog:class+load} log (the JVM loads the class only here). */
    private static final class PhaseOpened {}
    /** After the struct was allocated and its size field written. */
    private static final class PhaseStructReady {}
    /** After the ioctl. */
    private static final class PhaseIssued {}
    /** After the struct's fields were read. */
    private static final class PhaseRead {}
    /** After close. */
    private static final class PhaseClosed {}

    /** Per-call time of {@code ioctl} on /dev/null once warm: {@code rounds} rounds of a million calls. */
    private static void loop(int rounds) {
        int fd = Posix.open("/dev/null", Posix.O_RDWR | Posix.O_CLOEXEC);
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            java.lang.foreign.MemorySegment arg = arena.allocate(16);
            for (int r = 0; r < rounds; r++) {
                long t = System.nanoTime();
                for (int i = 0; i < 1_000_000; i++) {
                    Posix.ioctl(fd, 0xc0104800L, arg);
                }
                System.out.printf("ioctl %.1f ns%n", (System.nanoTime() - t) / 1e6);
            }
        } finally {
            Posix.close(fd);
        }
    }

    /** The same path as the demo's first result, step by step, with a marker class loaded after each. */
    private static void phases(boolean plain) throws Exception {
        DeviceFile f = DeviceFile.open("/dev/null");
        Class.forName(PhaseOpened.class.getName());
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            java.lang.foreign.MemorySegment v = dev.hmmmirror.internal.gen.hmm_mirror_version.allocate(arena);
            if (plain) { // the JDK's own JAVA_INT at the generated offset instead of the generated field layout
                v.set(java.lang.foreign.ValueLayout.JAVA_INT, dev.hmmmirror.internal.gen.hmm_mirror_version.size$offset(),
                        (int) dev.hmmmirror.internal.gen.hmm_mirror_version.sizeof());
            } else {
                dev.hmmmirror.internal.gen.hmm_mirror_version.size(v,
                        (int) dev.hmmmirror.internal.gen.hmm_mirror_version.sizeof());
            }
            Class.forName(PhaseStructReady.class.getName());
            int rc = f.issue(dev.hmmmirror.raw.Command.VERSION, v);
            Class.forName(PhaseIssued.class.getName());
            long sum = plain
                    ? v.get(java.lang.foreign.ValueLayout.JAVA_INT, dev.hmmmirror.internal.gen.hmm_mirror_version.abi_version$offset())
                            + v.get(java.lang.foreign.ValueLayout.JAVA_LONG, dev.hmmmirror.internal.gen.hmm_mirror_version.caps$offset())
                            + v.get(java.lang.foreign.ValueLayout.JAVA_INT, dev.hmmmirror.internal.gen.hmm_mirror_version.page_size$offset())
                    : dev.hmmmirror.internal.gen.hmm_mirror_version.abi_version(v)
                            + dev.hmmmirror.internal.gen.hmm_mirror_version.caps(v)
                            + dev.hmmmirror.internal.gen.hmm_mirror_version.page_size(v);
            Class.forName(PhaseRead.class.getName());
            f.close();
            Class.forName(PhaseClosed.class.getName());
            System.out.println("phases rc=" + rc + " " + sum);
        }
    }

    /**
     * Opens a mirror on {@code args[0]} (default {@code /dev/null}) and prints how long the answer took.
     *
     * @param args optionally the device node to open
     */
    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("--loop")) {
            loop(Integer.parseInt(args[1]));
            return;
        }
        if (args.length > 0 && args[0].startsWith("--phases")) {
            phases(args[0].equals("--phases-plain"));
            return;
        }
        long start = System.nanoTime();
        String path = args.length > 0 ? args[0] : "/dev/null";
        String answer;
        try (Mirror m = Mirror.open(HmmDevice.at(path))) {
            answer = "ABI " + m.version().abiVersion();
        } catch (HmmException e) {
            answer = "errno " + e.errno();
        }
        long ns = System.nanoTime() - start;
        System.out.println("first-result " + answer + " ms=" + ns / 1_000_000.0 + " libc="
                + Boolean.getBoolean(Posix.LIBC_FILE_CALLS_PROPERTY));
    }
}
