package dev.hmmmirror.guest.explore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.hmmmirror.Capability;
import dev.hmmmirror.Mirror;
import dev.hmmmirror.junit.GuestTest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The explorer finds bugs: the module is reloaded with each bug it can plant ({@code plant_bug},
 * a test aid), and the explorer must find it within a fixed budget and shrink it to at most six
 * steps; with no bug planted the same budget finds nothing.
 */
@GuestTest
class PlantedBugIT {
    static final Path MODULE = Path.of("/hmm/host/hmm_mirror.ko");
    static final Path PARAMS = Path.of("/hmm/host/module-params");
    static final long SEED = 5;
    static final int PROGRAMS = 100;
    static final int STEPS = 30;
    static final int MAX_SHRUNK = 6;

    private static void findsPlanted(int bug, String name) throws Exception {
        assumeTrue(Files.isRegularFile(MODULE), "the module file " + MODULE + " is not in this guest: cannot reload it");
        reload(bug);
        try {
            ExplorerRun r = ExplorerRun.run("planted-" + bug + "-" + name, SEED, PROGRAMS, STEPS);
            assertEquals(1, r.exitCode(), "planted bug " + bug + " (" + name + ") not found in " + PROGRAMS
                    + " programs of campaign seed " + SEED + ":\n" + r.output());
            long shrunk = r.number("shrunkSteps");
            assertTrue(shrunk >= 1 && shrunk <= MAX_SHRUNK, "planted bug " + bug + " shrunk to " + shrunk
                    + " steps, at most " + MAX_SHRUNK + " wanted:\n" + r.output());
            assertTrue(Files.isRegularFile(r.dir().resolve(r.properties().getProperty("reproducer"))),
                    "a reproducer is written: " + r.output());
        } finally {
            reload(0);
        }
    }

    private static void assumeDeviceMemory() throws Exception {
        try (Mirror m = Mirror.open(0)) {
            assumeTrue(m.version().has(Capability.MIGRATE), "kernel " + System.getProperty("os.version")
                    + " lacks CONFIG_DEVICE_PRIVATE: this planted bug is in device memory");
        }
    }

    @Test
    void protectionChangesKeepingDeviceEntries() throws Exception {
        findsPlanted(1, "keep-write");
    }

    @Test
    void lostInvalidationEvents() throws Exception {
        findsPlanted(2, "lose-event");
    }

    @Test
    void migrationThatDoesNotCopyTheLastPage() throws Exception {
        assumeDeviceMemory();
        findsPlanted(3, "skip-copy");
    }

    @Test
    void closeThatLeavesAPageInDeviceMemory() throws Exception {
        assumeDeviceMemory();
        findsPlanted(4, "close-leaves-page");
    }

    /**
     * The race mode's own proof: a read fault that commits without the sequence re-check leaves
     * the device reading a page the mutator moved; within a minute of racing a device read returns
     * a word older than a completed write.
     */
    @Test
    void aReadFaultWithoutTheSequenceRecheckIsFoundByRacing() throws Exception {
        assumeDeviceMemory();
        assumeTrue(Files.isRegularFile(MODULE), "the module file " + MODULE + " is not in this guest: cannot reload it");
        reload(5);
        try {
            ExplorerRun r = ExplorerRun.run("planted-5-stale-read-fault", SEED, "--race-seconds", "60", "--threads",
                    "4");
            assertEquals(1, r.exitCode(), "planted bug 5 not found in 60 s of racing:\n" + r.output());
            assertTrue(r.output().contains("linearizable-read"), "found by the per-word rule:\n" + r.output());
        } finally {
            reload(0);
        }
    }

    @Test
    void withoutAPlantedBugTheSameBudgetFindsNothing() throws Exception {
        ExplorerRun r = ExplorerRun.run("planted-none", SEED, PROGRAMS, STEPS);
        assertEquals(0, r.exitCode(), "with no bug planted, campaign seed " + SEED + " found:\n" + r.output());
        assertEquals(PROGRAMS, r.number("programs"));
    }

    @AfterAll
    static void moduleAsLoaded() throws Exception {
        if (Files.isRegularFile(MODULE)) {
            reload(0);
        }
    }

    private static void reload(int bug) throws IOException, InterruptedException {
        List<String> params = new ArrayList<>(Files.isRegularFile(PARAMS)
                ? Arrays.asList(Files.readString(PARAMS).strip().split("\\s+")) : List.of("ndevices=2"));
        params.removeIf(p -> p.isEmpty() || p.startsWith("plant_bug="));
        if (bug != 0) {
            params.add("plant_bug=" + bug);
        }
        run(List.of("rmmod", "hmm_mirror"));
        List<String> insmod = new ArrayList<>(List.of("insmod", MODULE.toString()));
        insmod.addAll(params);
        run(insmod);
    }

    private static void run(List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), command + " hangs");
        assertEquals(0, p.exitValue(), command + ": " + out);
    }
}
