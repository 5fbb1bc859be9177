package dev.hmmmirror.mutate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** One detector's verdict from what its run gave, less the baseline's failures. */
class JudgeTest {
    private static final String SLOW = "hmm-tests.hmm.hmm_device_private.migrate_multiple";
    private static final String WRONG = "hmm-tests.hmm.hmm_device_private.anon_write";

    private static DetectorResult judge(Detectors.Raw raw, Set<String> baseline) {
        return Detectors.judge(Detector.SELFTESTS, raw, List.of(), baseline, 10, "/c");
    }

    @Test
    void aTestEndedOnlyByTheHarnessTimeLimitIsNoKill() {
        DetectorResult r = judge(new Detectors.Raw(List.of(SLOW), SLOW + ": " + Detectors.HARNESS_TIMEOUT, false, null,
                20, Set.of(SLOW)), Set.of());
        assertEquals(Verdict.TIMEOUT, r.status());
        assertTrue(r.firstFailure().contains("not counted as a kill"), r.firstFailure());
    }

    @Test
    void anAssertionBesideItKills() {
        DetectorResult r = judge(new Detectors.Raw(List.of(WRONG, SLOW), WRONG + ": Expected ret (-14) == 0", false,
                null, 20, Set.of(SLOW)), Set.of());
        assertEquals(Verdict.KILLED, r.status());
        assertEquals(List.of(WRONG, SLOW), r.failing());
    }

    @Test
    void whatFailedOnTheBaselineNeverCounts() {
        DetectorResult r = judge(new Detectors.Raw(List.of(WRONG), WRONG + ": x", false, null, 20), Set.of(WRONG));
        assertEquals(Verdict.SURVIVED, r.status());
        DetectorResult k = judge(new Detectors.Raw(List.of(WRONG), WRONG + ": x", false, null, 20), Set.of());
        assertEquals(Verdict.KILLED, k.status());
    }
}
