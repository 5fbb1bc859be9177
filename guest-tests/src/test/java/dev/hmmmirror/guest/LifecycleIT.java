package dev.hmmmirror.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hmmmirror.Access;
import dev.hmmmirror.Errno;
import dev.hmmmirror.HmmDevice;
import dev.hmmmirror.HmmException;
import dev.hmmmirror.Invalidation;
import dev.hmmmirror.Memory;
import dev.hmmmirror.Mirror;
import dev.hmmmirror.guest.mm.Machinery;
import dev.hmmmirror.junit.GuestTest;
import dev.hmmmirror.raw.Command;
import dev.hmmmirror.raw.RawBuffer;
import dev.hmmmirror.raw.RawDevice;
import dev.hmmmirror.raw.RawStruct;
import dev.hmmmirror.raw.Struct;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Mirrors outlive or lose their processes; the module outlives its users. */
@GuestTest
class LifecycleIT {
    static int moduleRefcount() throws Exception {
        return Integer.parseInt(Files.readString(Path.of("/sys/module/hmm_mirror/refcnt")).strip());
    }

    /** Run in a child JVM: opens mirrors on both devices, faults memory and exits without closing. */
    public static final class ExitWithOpenMirrors {
        public static void main(String[] args) throws Exception {
            Mirror a = Mirror.open(0);
            Mirror b = Mirror.open(1);
            Memory mem = Memory.anonymous(64);
            mem.fill((byte) 1);
            a.fault(mem, Access.WRITE);
            b.fault(mem, Access.READ);
            System.out.println("faulted " + a.counters().pagesFaulted() + " " + b.counters().pagesFaulted());
            Runtime.getRuntime().halt(0); // no close, no unmap: the kernel cleans up at exit
        }
    }

    /**
     * Run in a child JVM: opens a mirror of a faulted buffer, scopes its events to that buffer, prints its
     * pid and the mirror's descriptor, and exits without closing once the parent (which took the same open
     * file with pidfd_getfd) writes a line.
     */
    public static final class ExitWhileAnotherProcessHoldsTheMirror {
        public static void main(String[] args) throws Exception {
            Mirror m = Mirror.open(0);
            Memory mem = Memory.anonymous(16);
            mem.fill((byte) 7);
            m.fault(mem, Access.WRITE);
            m.scopeEvents(mem);
            int fd = -1;
            try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
                for (Path f : fds) {
                    try {
                        if (Files.readSymbolicLink(f).toString().equals(HmmDevice.of(0).path())) {
                            fd = Integer.parseInt(f.getFileName().toString());
                        }
                    } catch (java.io.IOException closedMeanwhile) {
                        // the directory stream's own descriptor, or one closed while listing
                    }
                }
            }
            System.out.println("mirror pid " + ProcessHandle.current().pid() + " fd " + fd + " faulted "
                    + m.counters().pagesFaulted());
            System.out.flush();
            System.in.read();
            Runtime.getRuntime().halt(0); // no close: the mm goes (exit_mmap) while the parent holds the file
        }
    }


    /** Every event queued on {@code dev}: waits up to {@code wait} for the first, then takes what is there. */
    private static List<Invalidation> drain(RawDevice dev, Duration wait) throws Exception {
        long size = Struct.EVENT.byteSize();
        RawBuffer buf = RawBuffer.allocate(16 * size);
        List<Invalidation> events = new ArrayList<>();
        for (long n = dev.read(buf, wait); n > 0; n = dev.read(buf, Duration.ZERO)) {
            for (long at = 0; at < n; at += size) {
                events.add(new Invalidation(buf.getLong(at + Struct.EVENT.offset("seq")),
                        buf.getLong(at + Struct.EVENT.offset("start")), buf.getLong(at + Struct.EVENT.offset("end")),
                        buf.getLong(at + Struct.EVENT.offset("notifier_seq")),
                        Invalidation.Reason.of(buf.getInt(at + Struct.EVENT.offset("reason"))),
                        (buf.getInt(at + Struct.EVENT.offset("flags")) & 1) != 0, false,
                        buf.getLong(at + Struct.EVENT.offset("pages"))));
            }
        }
        return events;
    }

    /**
     * A process's exit tears its address space down ({@code exit_mmap}), and a mirror of it must hear that as
     * {@code MMU_NOTIFY_RELEASE} of the whole address space before the unmapping that follows: the one event
     * that tells a device "this process is gone" from "this range was unmapped". Seen from another process
     * holding the same open file (as a driver's file outlives the process through a passed descriptor), which
     * can still read the mirror's events once the owner is gone, but not issue its commands. (Campaign
     * mutant 22, {@code mn_itree_release} sending {@code MMU_NOTIFY_UNMAP}, survived every detector before.)
     */
    @Test
    void theOwnersExitReachesAMirrorHeldElsewhereAsOneReleaseOfTheWholeAddressSpace() throws Exception {
        int before = moduleRefcount();
        Process p = Machinery.childJvm(ExitWhileAnotherProcessHoldsTheMirror.class);
        try {
            java.io.BufferedReader out = new java.io.BufferedReader(
                    new java.io.InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            String line = out.readLine();
            assertTrue(line != null && line.startsWith("mirror pid "), "the child's first line: " + line);
            String[] w = line.split(" ");
            int pid = Integer.parseInt(w[2]);
            int fd = Integer.parseInt(w[4]);
            assertEquals("16", w[6], "the child faulted its buffer: " + line);
            try (RawDevice held = RawDevice.ofProcess(pid, fd)) {
                List<Invalidation> beforeExit = drain(held, Duration.ZERO); // the JVM's own, before the scope
                p.getOutputStream().write('\n');
                p.getOutputStream().flush();
                assertTrue(p.waitFor(300, TimeUnit.SECONDS), "the child JVM did not exit");
                String rest = String.join("\n", out.lines().toList());
                assertEquals(0, p.exitValue(), rest);
                List<Invalidation> events = drain(held, Duration.ofSeconds(30));
                String seen = "events after the exit: " + events + " (before it: " + beforeExit.size() + ")";
                assertFalse(events.isEmpty(), "the mirror heard nothing of its process's exit; " + seen);
                Invalidation first = events.get(0);
                assertEquals(Invalidation.Reason.RELEASE, first.reason(), "the exit's first event; " + seen);
                assertEquals(0L, first.start(), seen);
                assertEquals(-1L, first.end(), "RELEASE covers the whole address space [0, ULONG_MAX); " + seen);
                assertEquals(1, events.stream().filter(e -> e.reason() == Invalidation.Reason.RELEASE).count(), seen);
                HmmException refused = assertThrows(HmmException.class,
                        () -> held.ioctl(Command.VERSION, RawStruct.of(Struct.VERSION)));
                assertEquals(Errno.EPERM.number(), refused.errno(), "the commands stay the dead process's");
            }
        } finally {
            p.destroyForcibly();
        }
        assertRefcountBackTo(before, "the mirror went with the last holder of its file");
    }

    @Test
    void processExitWithOpenMirrorsReleasesEverything() throws Exception {
        int before = moduleRefcount();
        Process p = Machinery.childJvm(ExitWithOpenMirrors.class);
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), "child JVM hung");
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("faulted 64 64"), out);
        assertRefcountBackTo(before, "both mirrors of the dead process must be released");
    }

    /** Waits up to 30 s for the module's reference count to come back to {@code before}, then asserts it did. */
    static void assertRefcountBackTo(int before, String what) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (moduleRefcount() != before && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertEquals(before, moduleRefcount(), what);
    }

    /** What the module counts in {@code /sys/class/misc/hmm_mirror0/contract_violations} (kmod/contract.c). */
    static long contractViolations() throws Exception {
        return Machinery.readLong(Machinery.MIRROR0.resolve("contract_violations"));
    }

    /**
     * Closing a mirror while one of its invalidation callbacks runs: the kernel's
     * {@code mmu_interval_notifier_remove()} waits for that callback, and only then may the module free the
     * mirror. The device is made slow (each invalidation waits 1 s in the callback, holding the mirror's
     * lock), a thread drops the mirrored pages ({@code MADV_DONTNEED}: the callback runs and waits), and the
     * mirror is closed meanwhile. The module checks the wait (kmod/contract.c): on a kernel whose removal
     * returned early (campaign mutant 20: a use-after-free that no assertion sees) it counts a contract
     * violation and WARNs, which fails the run; here the count stays and everything is released.
     */
    @Test
    void closingAMirrorDuringItsSlowInvalidationWaitsForTheCallback() throws Exception {
        int before = moduleRefcount();
        long violations = contractViolations();
        try (Memory mem = Memory.anonymous(16)) {
            mem.fill((byte) 5);
            Mirror m = Mirror.open(0);
            m.fault(mem, Access.WRITE);
            m.setDeviceDelay(Duration.ofSeconds(1));
            java.util.concurrent.CompletableFuture<Void> drop = java.util.concurrent.CompletableFuture.runAsync(() -> {
                try {
                    mem.adviseDontNeed(0, 16);
                } catch (HmmException e) {
                    throw new IllegalStateException(e);
                }
            });
            Thread.sleep(300); // the DONTNEED's callback is now in the device's 1 s delay
            m.close();
            drop.get(120, TimeUnit.SECONDS);
            assertEquals(0L, mem.getLong(0), "MADV_DONTNEED dropped the pages");
        }
        assertEquals(violations, contractViolations(),
                "the kernel broke a promise of the HMM contract: dmesg has the module's WARN saying which");
        assertRefcountBackTo(before, "the closed mirror was released");
    }

    @Test
    void rmmodWhileAMirrorIsOpenIsRefused() throws Exception {
        try (Mirror m = Mirror.open(0)) {
            assertTrue(moduleRefcount() >= 1);
            Process p = new ProcessBuilder("rmmod", "hmm_mirror").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(60, TimeUnit.SECONDS));
            assertNotEquals(0, p.exitValue(), "rmmod must fail while the module is in use: " + out);
            assertTrue(Files.exists(Path.of("/sys/module/hmm_mirror")), "module still loaded");
            assertEquals(1, m.version().abiVersion() > 0 ? 1 : 0, "the mirror still works");
        }
    }

    @Test
    void commandsFromAnotherProcessAreRefusedWithEperm() throws Exception {
        try (RawDevice f = RawDevice.open("/dev/hmm_mirror0")) {
            RawStruct v = RawStruct.of(Struct.VERSION);
            assertEquals(0, f.ioctl(Command.VERSION, v), "the owner may issue commands");
            assertEquals(Errno.EPERM.number(), f.errnoFromOtherProcess(Command.VERSION, v),
                    "a forked child shares the file but not the mm");
        }
    }

    @Test
    void closeWhileAnotherThreadIsFaultingIsSafe() throws Exception {
        int before = moduleRefcount();
        try (Memory mem = Memory.anonymous(512)) {
            mem.fill((byte) 3);
            for (int round = 0; round < 5; round++) {
                Mirror m = Mirror.open(0);
                java.util.concurrent.CompletableFuture<String> faulter = java.util.concurrent.CompletableFuture
                        .supplyAsync(() -> {
                            try {
                                while (true) {
                                    m.fault(mem, Access.WRITE);
                                    m.read(mem.address(), 512);
                                }
                            } catch (IllegalStateException closed) {
                                return "closed";
                            } catch (dev.hmmmirror.HmmException e) {
                                return e.getMessage();
                            }
                        });
                Thread.sleep(50 + 30L * round);
                m.close(); // the descriptor goes away only when the faulting call returns
                assertEquals("closed", faulter.get(120, TimeUnit.SECONDS));
            }
        }
        assertRefcountBackTo(before, "every closed mirror was released");
    }
}
