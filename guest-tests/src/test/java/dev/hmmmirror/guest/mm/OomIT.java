package dev.hmmmirror.guest.mm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.hmmmirror.Access;
import dev.hmmmirror.Capability;
import dev.hmmmirror.Errno;
import dev.hmmmirror.Memory;
import dev.hmmmirror.Mirror;
import dev.hmmmirror.junit.GuestTest;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * OOM: a separate guest process holding mirrors (with pages in device memory where the kernel
 * has it) is OOM-killed inside a memory cgroup. The OOM reaper tears its memory down while the
 * mirrors still exist (non-blockable invalidations), then the exit closes them: the module must
 * release everything, with no splat.
 */
@GuestTest
class OomIT {

    /** The victim, run in a child JVM: mirrors memory, then allocates until the OOM killer comes. */
    public static final class Victim {
        /** The mirrors must still be open when the OOM killer comes: unreachable ones a cleaner closes. */
        static Mirror[] held;

        public static void main(String[] args) throws Exception {
            Mirror a = Mirror.open(0);
            Mirror b = Mirror.open(0);
            held = new Mirror[] {a, b};
            Memory mem = Memory.anonymous(256);
            mem.fill((byte) 7);
            a.fault(mem, Access.WRITE);
            b.fault(mem, Access.READ);
            long moved = 0;
            if (a.version().has(Capability.MIGRATE)) {
                moved = a.migrateToDevice(mem.address(), 64).migrated();
            }
            System.out.println("ready " + moved);
            System.out.flush();
            List<Memory> hog = new ArrayList<>();
            while (true) {
                Memory m = Memory.anonymous((16L << 20) / Memory.pageSize()); // 16 MiB a step
                m.fill((byte) 1);
                hog.add(m);
            }
        }
    }

    /**
     * The victim of {@link #theOomReaperGivesUpWhileAMirrorRefusesItsNonBlockingInvalidation}: mirrors 64 pages,
     * makes its device slow, and unmaps one more mirrored page: that invalidation sleeps in the mirror's callback
     * with the mirror's lock held, so the process cannot finish exiting (its address space stays) for that long.
     */
    public static final class SlowMirrorVictim {
        static Mirror held;
        static Memory[] kept;

        public static void main(String[] args) throws Exception {
            Mirror m = Mirror.open(0);
            Memory mem = Memory.anonymous(64);
            mem.fill((byte) 23);
            Memory other = Memory.anonymous(1);
            other.fill((byte) 1);
            m.fault(mem, Access.READ);
            m.fault(other, Access.READ);
            held = m;
            kept = new Memory[] {mem, other};
            linkMadvise(mem);
            m.setDeviceDelay(SLOW);
            unmapSlowlyThenWait(other);
        }
    }

    private static final Duration SLOW = Duration.ofSeconds(5);
    private static final long PIDFD_OPEN = 434, PIDFD_SEND_SIGNAL = 424, PROCESS_MRELEASE = 448; // every arch
    private static final int SIGKILL = 9;

    /**
     * The OOM reaper's pass over a dying process ({@code process_mrelease(2)}, the same {@code __oom_reap_task_mm}
     * the OOM killer runs) makes only non-blocking invalidations; a mirror whose device is slow refuses them,
     * and the kernel must then leave that memory alone and fail the pass with EAGAIN: the device still maps it.
     * (Campaign mutant 23, {@code mn_itree_invalidate} treating a refusal as done, survived every detector: the
     * reaper freed 64 pages the device still mapped. The module's contract check sees that too, when the exit's
     * RELEASE finds them unmapped.)
     */
    @Test
    void theOomReaperGivesUpWhileAMirrorRefusesItsNonBlockingInvalidation() throws Exception {
        long violationsBefore = Machinery.readLong(Machinery.MIRROR0.resolve("contract_violations"));
        int mirrorsBefore = (int) Machinery.readLong(Machinery.MIRROR0.resolve("mirrors"));
        Process p = Machinery.childJvm(SlowMirrorVictim.class);
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            awaitLine(out, "invalidating");
            long reaped = killAndReap(p, "hmm_mirror_invalidate");
            assertGone(p, mirrorsBefore);
            assertEquals(0, Machinery.readLong(Machinery.MIRROR0.resolve("contract_violations")) - violationsBefore,
                    "the module saw pages its device still mapped unmapped by the CPU (dmesg: 'contract broken')");
            assertEquals(-Errno.EAGAIN.number(), reaped, "process_mrelease must fail with EAGAIN while the mirror"
                    + " refuses its non-blocking invalidations (the device still maps the memory); it returned "
                    + describe(reaped) + ": the reaper unmapped memory a device maps");
            MmReport.record("OOM reaper pass (process_mrelease) while a mirror refuses", Set.of(),
                    "pass: EAGAIN; nothing unmapped under the device");
        } finally {
            p.destroyForcibly();
        }
    }

    private static final Path CLASSIC = Machinery.CLASSIC_NOTIFIERS;

    /**
     * The victim of {@link #everyClassicNotifierStartTheOomReaperMadeGetsItsEnd}: gets the module's two classic
     * notifiers on its own address space (no mirror: no interval notifier), the refusing one sleeping
     * {@link #SLOW} in each blocking invalidation, then unmaps a page: its address space stays for that long.
     */
    public static final class ClassicNotifierVictim {
        static Memory kept;

        public static void main(String[] args) throws Exception {
            Memory page = Memory.anonymous(1);
            kept = page;
            page.fill((byte) 63);
            linkMadvise(page);
            Files.writeString(CLASSIC, Long.toString(SLOW.toMillis()));
            unmapSlowlyThenWait(page);
        }
    }

    /** A harmless madvise on {@code mem}: links the downcall before the slow part of a victim. */
    private static void linkMadvise(Memory mem) {
        Sys.madvise(mem.address(), Memory.pageSize(), Sys.MADV_COLD);
    }

    /**
     * A victim's last act: says "invalidating", unmaps {@code page} (an invalidation the slow device holds up,
     * so the address space stays that long), then waits to be killed.
     */
    private static void unmapSlowlyThenWait(Memory page) throws InterruptedException {
        System.out.println("invalidating");
        System.out.flush();
        Sys.madvise(page.address(), Memory.pageSize(), Sys.MADV_DONTNEED);
        System.out.println("invalidated");
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }

    /**
     * The classic (hlist) half of the notifier contract, which interval notifiers never reach: when one classic
     * notifier refuses a non-blocking invalidation (the OOM reaper's pass, here {@code process_mrelease(2)}), the
     * others whose start already ran must still get their {@code invalidate_range_end()} (KVM-style users
     * otherwise stay inside the invalidation for good). The module's {@code classic_notifiers} test aid gives
     * the victim a refusing notifier (nouveau's SVM notifier refuses the same way) and a counting one, which
     * checks the pairing when the address space goes. The victim opens no mirror: with an interval notifier on
     * the same address space, a refused hlist start leaves the interval tree's invalidation open for good on
     * 7.2 (docs/mutants.md), and the mirror's close would wait forever. (Campaign mutant 63, the revert of
     * c2655835fd8c, survived every detector.)
     */
    @Test
    void everyClassicNotifierStartTheOomReaperMadeGetsItsEnd() throws Exception {
        assumeTrue(Files.exists(CLASSIC), "this hmm_mirror.ko has no classic_notifiers test aid");
        long violationsBefore = Machinery.readLong(Machinery.MIRROR0.resolve("contract_violations"));
        Process p = Machinery.childJvm(ClassicNotifierVictim.class);
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            awaitLine(out, "invalidating");
            long reaped = killAndReap(p, "hmm_mirror_classic_refuse");
            assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the victim did not die");
            assertEquals(137, p.exitValue(), "the victim dies of SIGKILL");
            assertEquals(-Errno.EAGAIN.number(), reaped, "the refusing classic notifier fails the reaper's pass: "
                    + describe(reaped));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10); // the check runs at exit_mmap
            long violations;
            while ((violations = Machinery.readLong(Machinery.MIRROR0.resolve("contract_violations")) - violationsBefore) == 0
                    && System.nanoTime() < deadline && p.isAlive()) {
                Thread.sleep(50);
            }
            assertEquals(0, violations, "a classic notifier's invalidate_range_start() was never ended after another"
                    + " one refused the reaper's non-blocking invalidation (dmesg: 'contract broken')");
            MmReport.record("OOM reaper pass refused by one classic notifier", Set.of(),
                    "pass: EAGAIN; the other notifier's start was ended");
        } finally {
            p.destroyForcibly();
        }
    }

    /**
     * The victim of {@link #aRefusedClassicStartLeavesNoIntervalNotifierWaiting}: the classic-notifier victim
     * with a mirror open too, so that its address space has an interval notifier beside the classic ones.
     */
    public static final class ClassicNotifierAndMirrorVictim {
        static Mirror held;

        public static void main(String[] args) throws Exception {
            held = Mirror.open(0);
            ClassicNotifierVictim.main(args);
        }
    }

    /**
     * A kernel bug this suite found in 7.2 (docs/mutants.md, "A kernel bug on the way"), reproduced on request
     * only: with an interval notifier (a mirror) and classic notifiers on one address space, a classic
     * notifier's refusal of the OOM reaper's non-blocking invalidation leaves the interval tree's invalidation
     * open for good, and the mirror's close then waits in {@code mmu_interval_notifier_remove()} forever (an
     * unkillable victim and a module that cannot unload: hence opt-in). Boot with
     * {@code HMM_CMDLINE=hmm.reproduce=itree-leak}; a kernel with the fix (mutants/fixes/) passes.
     */
    @Test
    void aRefusedClassicStartLeavesNoIntervalNotifierWaiting() throws Exception {
        assumeTrue(Machinery.read(Path.of("/proc/cmdline")).contains("hmm.reproduce=itree-leak"),
                "reproduces a known 7.2 kernel bug that leaves an unkillable process behind: boot with"
                        + " HMM_CMDLINE=hmm.reproduce=itree-leak to run it (docs/mutants.md)");
        assumeTrue(Files.exists(CLASSIC), "this hmm_mirror.ko has no classic_notifiers test aid");
        int mirrorsBefore = (int) Machinery.readLong(Machinery.MIRROR0.resolve("mirrors"));
        Process p = Machinery.childJvm(ClassicNotifierAndMirrorVictim.class);
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        awaitLine(out, "invalidating");
        long reaped = killAndReap(p, "hmm_mirror_classic_refuse");
        assertEquals(-Errno.EAGAIN.number(), reaped, "the refusing classic notifier fails the reaper's pass");
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the victim did not finish exiting in 60 s: its mirror's close"
                + " waits in mmu_interval_notifier_remove() for an interval-tree invalidation the refused pass never"
                + " ended (the kernel bug of docs/mutants.md; the victim stays, unkillable)");
        assertGone(p, mirrorsBefore);
    }


    /** Reads the victim's output up to the line {@code expected}; fails with what it printed when it ends first. */
    private static void awaitLine(BufferedReader out, String expected) throws Exception {
        StringBuilder log = new StringBuilder();
        String line;
        while ((line = out.readLine()) != null && !line.equals(expected)) {
            log.append(line).append('\n');
        }
        assertTrue(line != null, "the victim ended before '" + expected + "':\n" + log);
    }

    /**
     * Once a thread of the victim sleeps in the module's {@code function} (the slow device: its address space
     * cannot go before that returns), kills it through a pidfd and runs the OOM reaper's pass over its memory
     * ({@code process_mrelease}); returns that call's result (0 or -errno).
     */
    private static long killAndReap(Process p, String function) throws Exception {
        long deadline = System.nanoTime() + SLOW.toNanos() / 2;
        while (!sleepsIn(p.pid(), function)) {
            assertTrue(System.nanoTime() < deadline, "no thread of the victim sleeps in " + function);
            Thread.sleep(20);
        }
        long pidfd = Sys.call("pidfd_open", PIDFD_OPEN, p.pid(), 0);
        try {
            Sys.call("pidfd_send_signal", PIDFD_SEND_SIGNAL, pidfd, SIGKILL, 0, 0);
            return Sys.raw(PROCESS_MRELEASE, pidfd, 0);
        } finally {
            Sys.close((int) pidfd);
        }
    }

    /** The victim died of SIGKILL and its mirrors went with it. */
    private static void assertGone(Process p, int mirrorsBefore) throws Exception {
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the victim did not die");
        assertEquals(137, p.exitValue(), "the victim dies of SIGKILL");
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (Machinery.readLong(Machinery.MIRROR0.resolve("mirrors")) != mirrorsBefore && System.nanoTime() < until) {
            Thread.sleep(50);
        }
        assertEquals(mirrorsBefore, Machinery.readLong(Machinery.MIRROR0.resolve("mirrors")), "the victim's mirrors are gone");
    }

    private static String describe(long result) {
        return result < 0 ? Sys.name((int) -result) : Long.toString(result);
    }

    /**
     * Whether a thread of process {@code pid} sleeps uninterruptibly in {@code function}: its kernel stack
     * ({@code /proc/PID/task/TID/stack}) names it, or, on a kernel without stack traces, it is in state D
     * (the victim announces the slow call just before it makes it).
     */
    private static boolean sleepsIn(long pid, String function) throws Exception {
        try (Stream<Path> tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
            return tasks.anyMatch(t -> {
                try {
                    String stat = Files.readString(t.resolve("stat"));
                    if (!stat.substring(stat.lastIndexOf(')') + 2).startsWith("D")) {
                        return false;
                    }
                    try {
                        return Files.readString(t.resolve("stack")).contains(function);
                    } catch (java.io.IOException noStackTraces) {
                        return true;
                    }
                } catch (java.io.IOException gone) {
                    return false;
                }
            });
        }
    }

    @Test
    void oomKilledProcessWithMirrorsReleasesEverything() throws Exception {
        Path g = Machinery.memcg("hmm-oom");
        int mirrorsBefore = (int) Machinery.readLong(Machinery.MIRROR0.resolve("mirrors"));
        long dmemBefore = Machinery.readLong(Machinery.MIRROR0.resolve("dmem_used_pages"));
        long refBefore = Machinery.readLong(Path.of("/sys/module/hmm_mirror/refcnt"));
        try {
            Machinery.write(g.resolve("memory.max"), Long.toString(160L << 20));
            if (Files.exists(g.resolve("memory.swap.max"))) {
                Machinery.write(g.resolve("memory.swap.max"), "0");
            }
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            // the shell puts itself into the cgroup, then becomes the JVM: all of its memory is charged there
            Process p = new ProcessBuilder("sh", "-c", "echo $$ > \"$0\" && exec \"$@\"",
                    g.resolve("cgroup.procs").toString(), java, "-Xint", "-Xmx24m", "-XX:+UseSerialGC",
                    "-XX:-UsePerfData", "--enable-native-access=ALL-UNNAMED", "-cp",
                    System.getProperty("java.class.path"), Victim.class.getName()).redirectErrorStream(true).start();
            BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            StringBuilder log = new StringBuilder();
            String line;
            long moved = -1;
            int mirrorsAlive = -1;
            while ((line = out.readLine()) != null) {
                log.append(line).append('\n');
                if (line.startsWith("ready ")) {
                    moved = Long.parseLong(line.substring(6).trim());
                    mirrorsAlive = (int) Machinery.readLong(Machinery.MIRROR0.resolve("mirrors"));
                }
            }
            assertTrue(p.waitFor(300, TimeUnit.SECONDS), "the victim did not die");
            assertTrue(moved >= 0, "the victim never got ready:\n" + log);
            assertEquals(137, p.exitValue(), "the victim must die of SIGKILL (the OOM killer):\n" + log);
            assertEquals(mirrorsBefore + 2, mirrorsAlive, "the victim's two mirrors were open");
            String events = Machinery.read(g.resolve("memory.events"));
            assertTrue(events.lines().anyMatch(l -> l.startsWith("oom_kill ") && !l.endsWith(" 0")),
                    "the cgroup's OOM killer must have killed it: " + events);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (System.nanoTime() < deadline && (Machinery.readLong(Machinery.MIRROR0.resolve("mirrors")) != mirrorsBefore
                    || Machinery.readLong(Machinery.MIRROR0.resolve("dmem_used_pages")) != dmemBefore)) {
                Thread.sleep(100);
            }
            assertEquals(mirrorsBefore, Machinery.readLong(Machinery.MIRROR0.resolve("mirrors")), "mirrors of the dead process left");
            assertEquals(dmemBefore, Machinery.readLong(Machinery.MIRROR0.resolve("dmem_used_pages")),
                    "device memory of the dead process not freed");
            assertEquals(refBefore, Machinery.readLong(Path.of("/sys/module/hmm_mirror/refcnt")));
            MmReport.record("OOM kill of a process with mirrors", Set.of(), "pass: killed with 2 mirrors and " + moved
                    + " pages in device memory; all released");
        } finally {
            Files.deleteIfExists(g);
        }
    }
}
