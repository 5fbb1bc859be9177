package dev.hmmmirror.vm.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hmmmirror.agent.protocol.GuestResult;
import dev.hmmmirror.vm.boot.GuestFailure;
import dev.hmmmirror.vm.boot.KernelSplat;
import dev.hmmmirror.vm.config.Setting;
import dev.hmmmirror.vm.config.Settings;
import dev.hmmmirror.vm.image.KernelProfile;
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
        Settings settings = Settings.fromEnvironment().with(Setting.RUN_DIR, "target/hmm-guest-harness");
        session = GuestSession.start(GuestSession.Spec.of(settings, KernelProfile.named(settings.kernel()), List.of()));
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
    @Order(1)
    void onlyTheGuestsPartOfTheClasspathIsStaged() throws Exception {
        List<String> hostOnly = List.of("org/testcontainers/", "com/github/dockerjava/", "org/apache/commons/io/",
                "dev/hmmmirror/vm/session/GuestSession.class", "dev/hmmmirror/vm/boot/GuestVm.class");
        boolean agent = false;
        try (var jars = Files.list(session.runDir().resolve("host/lib"))) {
            for (var jar : jars.toList()) {
                try (var zip = new java.util.zip.ZipFile(jar.toFile())) {
                    for (var e : java.util.Collections.list(zip.entries())) {
                        for (String p : hostOnly) {
                            assertFalse(e.getName().startsWith(p), jar.getFileName() + " holds host-only " + e.getName());
                        }
                        agent |= e.getName().equals("dev/hmmmirror/agent/GuestAgent.class");
                    }
                }
            }
        }
        assertTrue(agent, "the guest agent is staged");
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
