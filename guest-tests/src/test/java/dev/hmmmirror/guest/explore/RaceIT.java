package dev.hmmmirror.guest.explore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hmmmirror.junit.GuestTest;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Test;

/**
 * The explorer's concurrent mode on the booted kernel: CPU and device writers, device readers and
 * an mm mutator (migration, fork, compaction, MADV_COLD/PAGEOUT) on the same pages for 15 s, every
 * device read checked per 64-bit word (never older than the last write completed before it began).
 * Races need the guest's vCPUs: with {@code HMM_GUEST_CPUS=2} the threads run in parallel
 * (multi-threaded TCG), with one they interleave by preemption.
 */
@GuestTest
class RaceIT {
    @Test
    void racingWritersReadersAndTheMutatorKeepEveryReadLinearizable() throws Exception {
        long seed = ThreadLocalRandom.current().nextLong();
        ExplorerRun r = ExplorerRun.run("race", seed, "--race-seconds", "15", "--threads", "4");
        assertEquals(0, r.exitCode(), "the race found a failure (seed " + seed + "):\n" + r.output());
        assertTrue(r.output().contains("device reads"), r.output());
    }
}
