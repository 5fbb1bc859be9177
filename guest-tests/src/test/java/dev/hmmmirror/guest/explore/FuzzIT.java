package dev.hmmmirror.guest.explore;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.hmmmirror.junit.GuestTest;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Test;

/**
 * Raw-ioctl fuzzing of the module on the booted kernel (the explorer's {@code Fuzzer}): random
 * commands, sizes, flags, reserved words, counts and pointers, with valid commands checked in
 * between; then the same while a second thread mutates the memory the commands name. A kernel
 * splat fails the run through the harness; an undocumented errno or a valid command that fails or
 * reads other bytes than the CPU fails here.
 */
@GuestTest
class FuzzIT {
    @Test
    void twentyThousandFuzzedIoctlsLeaveTheModuleCoherent() throws Exception {
        long seed = ThreadLocalRandom.current().nextLong();
        System.out.println("fuzz: seed " + seed);
        ExplorerRun r = ExplorerRun.run("fuzz", seed, "--fuzz-ioctls", "20000");
        assertEquals(0, r.exitCode(), "fuzzing failed (seed " + seed + "):\n" + r.output());
        assertEquals(20000, r.number("fuzzed"), r.output());
    }

    @Test
    void fuzzingWhileAnotherThreadMutatesTheMemory() throws Exception {
        long seed = ThreadLocalRandom.current().nextLong();
        System.out.println("fuzz: seed " + seed);
        // a count, not a time budget: CI fuzzed 960-3,267 ioctls in 10 s, a host at load 20 only 40
        ExplorerRun r = ExplorerRun.run("fuzz-stress", seed, "--fuzz-ioctls", "500", "--stress");
        assertEquals(0, r.exitCode(), "fuzzing under mm mutations failed (seed " + seed + "):\n" + r.output());
        assertEquals(500, r.number("fuzzed"), r.output());
    }
}
