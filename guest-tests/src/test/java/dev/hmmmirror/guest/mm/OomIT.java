package dev.hmmmirror.guest.mm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hmmmirror.Access;
import dev.hmmmirror.Capability;
import dev.hmmmirror.Memory;
import dev.hmmmirror.Mirror;
import dev.hmmmirror.junit.GuestTest;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * OOM: a separate guest process holding mirrors (with pages in device memory where the kernel
 * has it) is OOM-killed inside a memory cgroup. The OOM reaper tears its memory down while the
 * mirrors still exist (non-blockable invalidations), then the exit closes them: the module must
 * release everything, with no splat.
 */
@GuestTest
class OomIT {
    private static final Path DEV = Path.of("/sys/class/misc/hmm_mirror0");

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

    @Test
    void oomKilledProcessWithMirrorsReleasesEverything() throws Exception {
        Path g = Machinery.memcg("hmm-oom");
        int mirrorsBefore = (int) Machinery.readLong(DEV.resolve("mirrors"));
        long dmemBefore = Machinery.readLong(DEV.resolve("dmem_used_pages"));
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
                    mirrorsAlive = (int) Machinery.readLong(DEV.resolve("mirrors"));
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
            while (System.nanoTime() < deadline && (Machinery.readLong(DEV.resolve("mirrors")) != mirrorsBefore
                    || Machinery.readLong(DEV.resolve("dmem_used_pages")) != dmemBefore)) {
                Thread.sleep(100);
            }
            assertEquals(mirrorsBefore, Machinery.readLong(DEV.resolve("mirrors")), "mirrors of the dead process left");
            assertEquals(dmemBefore, Machinery.readLong(DEV.resolve("dmem_used_pages")),
                    "device memory of the dead process not freed");
            assertEquals(refBefore, Machinery.readLong(Path.of("/sys/module/hmm_mirror/refcnt")));
            MmReport.record("OOM kill of a process with mirrors", Set.of(), "pass: killed with 2 mirrors and " + moved
                    + " pages in device memory; all released");
        } finally {
            Files.deleteIfExists(g);
        }
    }
}
