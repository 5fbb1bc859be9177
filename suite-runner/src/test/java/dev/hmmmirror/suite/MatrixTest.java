package dev.hmmmirror.suite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hmmmirror.vm.config.Setting;
import dev.hmmmirror.vm.config.Settings;
import dev.hmmmirror.vm.image.KernelProfile;
import dev.hmmmirror.vm.result.TestOutcome;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** How many guests a matrix runs at once, and how two matrix runs are compared. */
class MatrixTest {
    private static Settings parallel(String value) {
        return Settings.from(Map.of(Setting.PARALLEL.property(), value)::get, k -> null);
    }

    @Test
    void autoTakesOneGuestPerCorePlusOneBoundedByMemory() {
        long gib = 1L << 30;
        assertEquals(3, Matrix.auto(2, 20 * gib), "2 cores, plenty of memory");
        assertEquals(9, Matrix.auto(8, 24 * gib));
        assertEquals(3, Matrix.auto(8, 8 * gib), "8 GiB free holds three 2.5 GiB guests");
        assertEquals(1, Matrix.auto(4, gib), "never less than one");
    }

    @Test
    void autoCountsEachProfilesOwnGuestMemory() {
        long gib = 1L << 30;
        Settings none = Settings.from(k -> null, k -> null);
        long sid = Matrix.bytesPerGuest(none, KernelProfile.named("debian-sid"));
        long k64 = Matrix.bytesPerGuest(none, KernelProfile.named("built-7.2-arm64-64k"));
        assertEquals(2560L << 20, sid, "2 GiB guest + 0.5 GiB for QEMU and the host JVM");
        assertEquals(6656L << 20, k64, "the 64K profile's 6 GiB guest + 0.5 GiB");
        assertEquals(7L << 30, Matrix.bytesPerGuest(Settings.from(Map.of(Setting.GUEST_MEMORY.property(), "6656")::get,
                k -> null), KernelProfile.named("debian-sid")), "hmm.guest.memory counts for every profile");
        assertEquals(3, Matrix.auto(2, 8 * gib, List.of(sid, sid, sid)), "as before: three 2.5 GiB guests in 8 GiB");
        assertEquals(2, Matrix.auto(2, 8 * gib, List.of(k64, sid, sid)), "a 6.5 GiB guest leaves room for less");
        assertEquals(1, Matrix.auto(8, 8 * gib, List.of(k64, k64)), "two 6.5 GiB guests do not fit in 8 GiB");
        assertEquals(1, Matrix.auto(8, 4 * gib, List.of(k64)), "never less than one");
        assertEquals(2, Matrix.slots(Settings.from(Map.of(Setting.PARALLEL.property(), "2")::get, k -> null),
                List.of(KernelProfile.named("built-7.2-arm64-64k"), KernelProfile.named("debian-sid"),
                        KernelProfile.named("debian-sid-arm64"))), "a number is the user's choice");
    }

    @Test
    void theMemoryBudgetStartsAKernelOnlyWhenItsGuestFitsInOrder() throws Exception {
        long gib = 1L << 30;
        Matrix.MemoryBudget budget = new Matrix.MemoryBudget(8 * gib);
        java.util.concurrent.atomic.AtomicInteger waited = new java.util.concurrent.atomic.AtomicInteger();
        budget.acquire(0, 3 * gib, waited::incrementAndGet);
        java.util.concurrent.CountDownLatch started = new java.util.concurrent.CountDownLatch(2);
        Thread big = Thread.ofPlatform().start(() -> {
            try {
                budget.acquire(1, 7 * gib, waited::incrementAndGet); // 3 + 7 > 8: waits for kernel 0
                started.countDown();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        Thread small = Thread.ofPlatform().start(() -> {
            try {
                budget.acquire(2, gib, waited::incrementAndGet); // fits, but kernel 1 goes first
                started.countDown();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        assertFalse(started.await(300, java.util.concurrent.TimeUnit.MILLISECONDS), "nothing starts beside kernel 0");
        assertEquals(2, started.getCount());
        assertEquals(1, waited.get(), "kernel 1 said once that it waits for memory; kernel 2 waits for its turn");
        budget.release(3 * gib);
        assertTrue(started.await(10, java.util.concurrent.TimeUnit.SECONDS), "then 7 + 1 GiB fit together");
        big.join();
        small.join();
        assertEquals(8 * gib, budget.used());

        Matrix.MemoryBudget tight = new Matrix.MemoryBudget(4 * gib);
        tight.acquire(0, 7 * gib, () -> { });
        assertEquals(7 * gib, tight.used(), "a guest larger than the budget runs alone rather than never");
    }

    @Test
    void aNumberOverridesAutoAndIsCappedByTheKernels() {
        assertEquals(3, Matrix.slots(parallel("3"), 5));
        assertEquals(2, Matrix.slots(parallel("7"), 2), "never more guests than kernels");
        assertEquals(1, Matrix.slots(parallel("1"), 3), "1: one after another");
        assertTrue(Matrix.slots(parallel("auto"), 3) >= 1);
        assertThrows(IllegalArgumentException.class, () -> Matrix.slots(parallel("0"), 3));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Matrix.slots(parallel("many"), 3));
        assertTrue(e.getMessage().contains("HMM_PARALLEL") && e.getMessage().contains("--parallel"), e.getMessage());
    }

    private static KernelRun run(String profile, TestOutcome.Status... statuses) {
        List<TestOutcome> outcomes = new java.util.ArrayList<>();
        for (int i = 0; i < statuses.length; i++) {
            outcomes.add(new TestOutcome("MirrorAccessIT", "t" + i, statuses[i], "", ""));
        }
        return new KernelRun(profile, "7.2", outcomes, Path.of(profile), List.of());
    }

    @Test
    void differencesNameEveryTestWhoseResultChanged() {
        var pass = TestOutcome.Status.PASSED;
        var skip = TestOutcome.Status.SKIPPED;
        List<KernelRun> a = List.of(run("debian-sid", pass, pass), run("debian-trixie", pass, skip));
        assertEquals(List.of(), MatrixBench.differences(a, List.of(run("debian-sid", pass, pass),
                run("debian-trixie", pass, skip))));
        List<String> d = MatrixBench.differences(a, List.of(run("debian-sid", pass, TestOutcome.Status.FAILED),
                run("debian-trixie", pass)));
        assertEquals(List.of("debian-sid MirrorAccessIT.t1: pass vs FAIL", "debian-trixie MirrorAccessIT.t1: skip vs (absent)"), d);
    }
}
