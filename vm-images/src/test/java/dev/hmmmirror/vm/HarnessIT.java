package dev.hmmmirror.vm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hmmmirror.vm.agent.GuestResult;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The harness checked against a real guest: the boot layout, kernel-report detection and the
 * hang timeout. Boots the selected profile once (the last test kills it on purpose).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class HarnessIT {
    static GuestSession session;

    @BeforeAll
    static void boot() {
        System.setProperty("hmm.run.dir", "target/hmm-guest-harness");
        session = GuestSession.start(KernelProfile.selected(), GuestSession.currentClasspath(), false);
    }

    @AfterAll
    static void stop() {
        if (session != null) {
            session.close();
        }
    }

    @Test
    @Order(1)
    void guestRootIsReadOnlyUserlandUnderAWritableOverlay() throws Exception {
        GuestResult r = session.exec("set -e; uname -r; touch /etc/written-in-guest; ls /etc/written-in-guest;"
                + " grep -c ' /hmm/out 9p ' /proc/mounts; echo data > /hmm/out/probe; grep -q hmm_mirror /proc/modules"
                + " && echo module-loaded; ls /dev/hmm_mirror0 /dev/hmm_mirror1;"
                + " echo hung-task-timeout=$(cat /proc/sys/kernel/hung_task_timeout_secs)", Duration.ofSeconds(120));
        assertEquals(GuestResult.Status.PASSED, r.status(), r.output());
        assertTrue(r.output().startsWith(session.image().kernelRelease()), r.output());
        assertTrue(r.output().contains("module-loaded"), r.output());
        assertTrue(r.output().contains("hung-task-timeout=60"), "hung tasks are reported after 60 s: " + r.output());
        assertEquals("data\n", Files.readString(session.runDir().resolve("out/probe")), "results share is writable");
        assertFalse(Files.exists(session.image().userland().resolve("etc/written-in-guest")),
                "guest writes must not reach the cached userland");
    }

    @Test
    @Order(2)
    void aKernelWarningOnTheConsoleIsDetected() throws Exception {
        assertEquals(List.of(), session.newSplats(), "clean boot expected");
        GuestResult r = session.exec("echo '<4>WARNING: CPU: 0 PID: 1 at injected/by/HarnessIT.c:1 harness_probe+0x0/0x1'"
                + " > /dev/kmsg; echo '<4>---[ end trace 0000000000000000 ]---' > /dev/kmsg; sleep 1",
                Duration.ofSeconds(60));
        assertEquals(GuestResult.Status.PASSED, r.status(), r.output());
        List<KernelSplat> splats = session.newSplats();
        assertEquals(1, splats.size(), () -> session.console().tail(20));
        assertEquals("WARNING", splats.getFirst().kind());
        assertTrue(splats.getFirst().headline().contains("harness_probe"), splats.getFirst().report());
    }

    @Test
    @Order(3)
    void aHungGuestIsKilledAtTheTimeoutAndReportedWithItsConsole() {
        GuestFailure f = assertThrows(GuestFailure.class, () -> session.exec("sleep 3600", Duration.ofSeconds(8)));
        assertTrue(f.getMessage().contains("guest hung") && f.getMessage().contains("console.log"), f.getMessage());
        assertFalse(session.isAlive(), "QEMU must be killed");
    }
}
