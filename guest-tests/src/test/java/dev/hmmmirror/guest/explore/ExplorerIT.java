package dev.hmmmirror.guest.explore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hmmmirror.junit.GuestTest;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Test;

/**
 * A short explorer pass on the booted kernel: random programs of mirror, device and mm actions,
 * every step checked against the model. Two fixed campaign seeds (the same programs every run) and
 * one random seed, printed so that a failure can be replayed ({@code Explorer --seed S}).
 */
@GuestTest
class ExplorerIT {
    static final int PROGRAMS = 25;
    static final int STEPS = 30;

    private static void pass(String name, long seed) throws Exception {
        ExplorerRun r = ExplorerRun.run(name, seed, PROGRAMS, STEPS);
        assertEquals(0, r.exitCode(), "the explorer found a failure (campaign seed " + seed + "; its shrunk reproducer"
                + " is in " + r.dir() + "):\n" + r.output());
        assertEquals(PROGRAMS, r.number("programs"), r.output());
        assertTrue(r.number("steps") >= PROGRAMS * 10L, "programs that barely ran: " + r.output());
        assertTrue(r.number("checks") > r.number("steps"), "invariants checked after every step: " + r.output());
    }

    @Test
    void fixedSeedOneFindsNothing() throws Exception {
        pass("fixed-1", 1);
    }

    @Test
    void fixedSeedTwoFindsNothing() throws Exception {
        pass("fixed-2", 2);
    }

    @Test
    void aRandomSeedFindsNothing() throws Exception {
        long seed = ThreadLocalRandom.current().nextLong();
        System.out.println("explorer: random campaign seed " + seed);
        pass("random", seed);
    }
}
