package dev.hmmmirror.suite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hmmmirror.vm.config.Setting;
import dev.hmmmirror.vm.config.Settings;
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
