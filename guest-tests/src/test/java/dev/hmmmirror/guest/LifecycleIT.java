package dev.hmmmirror.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hmmmirror.Access;
import dev.hmmmirror.Errno;
import dev.hmmmirror.Memory;
import dev.hmmmirror.Mirror;
import dev.hmmmirror.junit.GuestTest;
import dev.hmmmirror.raw.Command;
import dev.hmmmirror.raw.RawDevice;
import dev.hmmmirror.raw.RawStruct;
import dev.hmmmirror.raw.Struct;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
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

    @Test
    void processExitWithOpenMirrorsReleasesEverything() throws Exception {
        int before = moduleRefcount();
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                ExitWithOpenMirrors.class.getName()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), "child JVM hung");
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("faulted 64 64"), out);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (moduleRefcount() != before && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertEquals(before, moduleRefcount(), "both mirrors of the dead process must be released");
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
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (moduleRefcount() != before && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertEquals(before, moduleRefcount(), "every closed mirror was released");
    }
}
