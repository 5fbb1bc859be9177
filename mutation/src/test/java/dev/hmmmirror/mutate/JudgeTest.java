package dev.hmmmirror.mutate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hmmmirror.vm.result.TestOutcome;
import dev.hmmmirror.vm.result.TestOutcome.Status;
import dev.hmmmirror.vm.selftest.KernelSelftests;
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
    void aSurvivorKeepsTheTestsThatSkippedThemselvesThroughItsJson() {
        String skip = "DeviceMemoryIT.zeroPages: Assumption failed: the window closed too early";
        DetectorResult r = Detectors.judge(Detector.SUITE, new Detectors.Raw(List.of(), "", false, null, 4, Set.of(),
                List.of(skip)), List.of(), Set.of(), 16, "/c");
        assertEquals(Verdict.SURVIVED, r.status());
        assertEquals(List.of(skip), r.skipped());
        assertEquals(List.of(skip), DetectorResult.fromJson(Detector.SUITE, r.toJson()).skipped());
        DetectorResult none = judge(new Detectors.Raw(List.of(), "", false, null, 4), Set.of());
        assertTrue(!none.toJson().containsKey("skipped") && DetectorResult.fromJson(Detector.SELFTESTS,
                none.toJson()).skipped().isEmpty(), "no skipped key when nothing skipped: " + none.toJson());
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

    private static final String HUNG = "hmm2.hmm2_device_coherent.migrate_mixed";

    private static TestOutcome tap(String test, Status status, String message) {
        return new TestOutcome("hmm-tests", test, status, message, "");
    }

    /** What hmm-tests had reported when the guest stopped answering (mutant 15's run, shortened). */
    private static List<TestOutcome> cutOff(boolean withFailure) {
        return List.of(tap("hmm.hmm_device_private.open_close", Status.PASSED, ""),
                tap("hmm.hmm_device_private.anon_write_prot", withFailure ? Status.FAILED : Status.PASSED,
                        "hmm-tests.c:531:anon_write_prot:Expected ret (0) == -EPERM"),
                tap(HUNG, Status.FAILED, KernelSelftests.NO_RESULT + " (output cut off)"),
                tap(KernelSelftests.NOT_RUN, Status.FAILED, "3 of 76 planned tests never ran (output cut off)"));
    }

    @Test
    void aTestThatFailedBeforeTheGuestHungKills() {
        DetectorResult r = judge(Detectors.afterHang(cutOff(true), 9, "the guest stopped answering"), Set.of());
        assertEquals(Verdict.KILLED, r.status());
        assertTrue(r.firstFailure().startsWith("hmm-tests.hmm.hmm_device_private.anon_write_prot: "), r.firstFailure());
        assertTrue(r.firstFailure().contains("then the guest stopped answering in " + HUNG), r.firstFailure());
    }

    @Test
    void aHangAloneIsATimeout() {
        DetectorResult r = judge(Detectors.afterHang(cutOff(false), 9, "hmm-tests stalled"), Set.of());
        assertEquals(Verdict.TIMEOUT, r.status());
        assertTrue(r.firstFailure().contains("hmm-tests stalled in " + HUNG), r.firstFailure());
        assertTrue(r.firstFailure().contains("not counted as a kill"), r.firstFailure());
        assertEquals(Verdict.TIMEOUT, judge(Detectors.afterHang(List.of(), 9, "the guest stopped answering"),
                Set.of()).status(), "no TAP at all");
    }

    @Test
    void aHangAfterOnlyTheBaselinesFailuresIsATimeout() {
        DetectorResult r = judge(Detectors.afterHang(cutOff(true), 9, "the guest stopped answering"),
                Set.of("hmm-tests.hmm.hmm_device_private.anon_write_prot"));
        assertEquals(Verdict.TIMEOUT, r.status());
    }

    @Test
    void theFirstFailureNamedIsOneThatCounts() {
        DetectorResult r = judge(new Detectors.Raw(List.of(SLOW, WRONG), SLOW + ": a failure the baseline has", false,
                null, 20), Set.of(SLOW));
        assertEquals(Verdict.KILLED, r.status());
        assertEquals(WRONG, r.firstFailure());
    }

    private static DetectorResult explorer(int rc, boolean hung, String failed) {
        return Detectors.judge(Detector.EXPLORER, Detectors.explorerResult(rc, hung, java.util.Optional.ofNullable(failed),
                20261206, 9), List.of(), Set.of(), 10, "/c");
    }

    @Test
    void anExplorerViolationCountsEvenWhenItsGuestHungAfterwards() {
        String failed = "explorer: FAILED: program seed -5709958987135673594 after 12 steps: Violation: errno";
        DetectorResult r = explorer(-1, true, failed);
        assertEquals(Verdict.KILLED, r.status());
        assertTrue(r.firstFailure().startsWith(failed) && r.firstFailure().endsWith("(then its guest stopped answering)"),
                r.firstFailure());
        assertEquals(Verdict.TIMEOUT, explorer(-1, true, null).status(), "a hang alone");
        assertEquals(Verdict.SURVIVED, explorer(0, false, null).status());
        assertEquals(Verdict.KILLED, explorer(1, false, failed).status());
    }

    @Test
    void aStallAfterTimeLimitsOnlyIsATimeoutAndAfterAnAssertionAKill() {
        TestOutcome stalled = tap(KernelSelftests.STALLED, Status.FAILED, "stalled: hmm-tests printed nothing for 180 s");
        TestOutcome slow = tap("hmm.hmm_device_private.anon_write_prot", Status.FAILED,
                "anon_write_prot: Test terminated by timeout");
        TestOutcome notRun = tap(KernelSelftests.NOT_RUN, Status.FAILED, "2 of 76 planned tests never ran");
        assertEquals(Verdict.TIMEOUT, judge(Detectors.afterHang(List.of(slow, notRun, stalled), 9, "hmm-tests stalled"),
                Set.of()).status());
        TestOutcome wrong = tap("hmm2.hmm2_device_private.snapshot", Status.FAILED, "Expected m[6] (50) == 0");
        assertEquals(Verdict.KILLED, judge(Detectors.afterHang(List.of(wrong, slow, notRun, stalled), 9,
                "hmm-tests stalled"), Set.of()).status());
    }
}
