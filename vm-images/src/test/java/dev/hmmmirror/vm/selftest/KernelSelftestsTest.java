package dev.hmmmirror.vm.selftest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hmmmirror.vm.result.TestOutcome;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The kernel's hmm selftests are judged by their TAP, test by test, never by the harness's totals
 * or the wrapper's exit status (6.1 counts skips as passes; test_hmm.sh always exits 0).
 */
class KernelSelftestsTest {
    private static String tap(String name) throws IOException {
        try (InputStream in = KernelSelftestsTest.class.getResourceAsStream(name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static Map<String, TestOutcome> byName(List<TestOutcome> outcomes) {
        return outcomes.stream().collect(Collectors.toMap(TestOutcome::test, o -> o));
    }

    @Test
    void the61HarnessSkipPrintedAsOkIsASkip() throws IOException {
        Map<String, TestOutcome> o = byName(KernelSelftests.parse(tap("tap-6.1-skips-as-ok.tap"), "10-40"));
        assertEquals(4, o.size(), o.toString());
        assertEquals(TestOutcome.Status.PASSED, o.get("hmm.hmm_device_private.open_close").status());
        TestOutcome skipped = o.get("hmm.hmm_device_coherent.open_close");
        assertEquals(TestOutcome.Status.SKIPPED, skipped.status());
        assertEquals("DEVICE_COHERENT not available", skipped.message());
        TestOutcome failed = o.get("hmm.hmm_device_private.exclusive");
        assertEquals(TestOutcome.Status.FAILED, failed.status());
        assertTrue(failed.message().contains("hmm-tests.c:1812:exclusive:Expected ret (-16) == 0"), failed.message());
        assertEquals("10-40", failed.consoleLines());
        assertEquals(KernelSelftests.CLASS, failed.testClass());
        assertEquals(TestOutcome.Status.PASSED, o.get("hmm2.hmm2_device_private.snapshot").status());
    }

    @Test
    void aSkipDirectiveIsASkip() throws IOException {
        List<TestOutcome> all = KernelSelftests.parse(tap("tap-7.2-skip-directive.tap"), "");
        assertEquals(List.of(TestOutcome.Status.PASSED, TestOutcome.Status.SKIPPED, TestOutcome.Status.PASSED,
                TestOutcome.Status.FAILED), all.stream().map(TestOutcome::status).toList());
        assertEquals("DEVICE_COHERENT not available", all.get(1).message());
        assertEquals("migrate_multiple: Test terminated by timeout", all.get(3).message(),
                "the harness's own timeout is the reason given");
    }

    @Test
    void aTestKilledMidwayAndTestsNeverRunAreFailures() throws IOException {
        Map<String, TestOutcome> o = byName(KernelSelftests.parse(tap("tap-killed-mid-test.tap"), ""));
        assertEquals(TestOutcome.Status.PASSED, o.get("hmm.hmm_device_private.open_close").status());
        TestOutcome stuck = o.get("hmm.hmm_device_private.migrate");
        assertEquals(TestOutcome.Status.FAILED, stuck.status());
        assertTrue(stuck.message().contains("killed at the time limit") && stuck.message().contains("hmm-tests.c:991"),
                stuck.message());
        TestOutcome notRun = o.get("(not run)");
        assertEquals(TestOutcome.Status.FAILED, notRun.status());
        assertTrue(notRun.message().startsWith("3 of 5 planned tests never ran"), notRun.message());
    }

    @Test
    void eachTestPointsAtItsOwnConsoleLines(@TempDir Path run) throws IOException {
        Files.createDirectories(run.resolve("out/kselftest"));
        Files.writeString(run.resolve("out/kselftest/hmm-tests.tap"), tap("tap-killed-mid-test.tap"));
        Files.writeString(run.resolve("console.log"), String.join("\n",
                "   1.000| boot",
                "  20.000| @@HMM KSELFTEST start /hmm/host/kselftest/hmm-tests (limit 600 s)",
                "  20.100| #  RUN           hmm.hmm_device_private.open_close ...",
                "  20.200| ok 1 hmm.hmm_device_private.open_close",
                "  20.300| #  RUN           hmm.hmm_device_private.migrate ...",
                "  20.400| [   19.9] WARNING: CPU: 0 PID: 77 at mm/migrate_device.c:1 foo",
                "  20.500| # hmm-tests.c:991:migrate:Expected ptr[i] (0) == i (1)",
                "  80.000| @@HMM KSELFTEST end # hmm-mirror: hmm-tests exit status 137") + "\n");
        Map<String, TestOutcome> o = byName(KernelSelftests.outcomes(run, "2-8", null));
        assertEquals("3-4", o.get("hmm.hmm_device_private.open_close").consoleLines());
        assertEquals("5-8", o.get("hmm.hmm_device_private.migrate").consoleLines(), "no result line: to the end");
        assertEquals("2-8", o.get("(not run)").consoleLines(), "the whole selftest run");
    }

    @Test
    void noTapAtAllIsAFailureNotAnEmptyPass() {
        List<TestOutcome> o = KernelSelftests.parse("# hmm-mirror: hmm-tests exit status 139\n", "");
        assertEquals(1, o.size());
        assertEquals(TestOutcome.Status.FAILED, o.getFirst().status());
        assertTrue(o.getFirst().message().contains("exit status 139"), o.getFirst().message());
    }

    @Test
    void aRunGivesTheOutcomesOrTheSetupFailure(@TempDir Path run) throws IOException {
        List<TestOutcome> none = KernelSelftests.outcomes(run, "1-2", null);
        assertEquals(1, none.size(), "no TAP: one failure, never an empty pass");
        assertEquals(TestOutcome.Status.FAILED, none.getFirst().status());
        Files.createDirectories(run.resolve("out/kselftest"));
        Files.writeString(run.resolve("out/kselftest/hmm-tests.tap"), tap("tap-7.2-skip-directive.tap"));
        List<TestOutcome> o = KernelSelftests.outcomes(run, "5-9", null);
        assertEquals(4, o.size(), o.toString());
        assertEquals("5-9", o.getFirst().consoleLines());

        o = KernelSelftests.outcomes(run, "5-9", "exit 3 modprobe test_hmm failed");
        assertEquals(1, o.size());
        assertEquals(TestOutcome.Status.FAILED, o.getFirst().status());
        assertTrue(o.getFirst().message().contains("modprobe test_hmm failed"), o.getFirst().message());
    }

    /** The end of mutant 15's TAP when hmm-tests stalled: cut in the middle of a result line. */
    private static final String CUT = String.join("\n", "TAP version 13", "1..76",
            "#  RUN           hmm2.hmm2_device_private.double_map ...", "#            OK  hmm2.hmm2_device_private.double_map",
            "ok 73 hmm2.hmm2_device_private.double_map", "#  RUN           hmm2.hmm2_device_coherent.migrate_mixed ...",
            "#      SKIP      DEVICE_COHERENT not available",
            "#            OK  hmm2.hmm2_device_coherent.migrate_mixed", "ok 74 hmm2.hmm2_");

    @Test
    void aLineCutOffWhereTheOutputStoppedIsNotReadAndTheHarnessLineSaysHowTheTestEnded() {
        Map<String, TestOutcome> o = byName(KernelSelftests.parse(CUT, ""));
        assertEquals(TestOutcome.Status.PASSED, o.get("hmm2.hmm2_device_private.double_map").status());
        TestOutcome cut = o.get("hmm2.hmm2_device_coherent.migrate_mixed");
        assertEquals(TestOutcome.Status.SKIPPED, cut.status(), o.toString());
        assertEquals("DEVICE_COHERENT not available", cut.message());
        assertTrue(o.keySet().stream().noneMatch(n -> n.equals("hmm2.hmm2_")), o.toString());
        assertTrue(o.get(KernelSelftests.NOT_RUN).message().startsWith("74 of 76 planned tests never ran"), o.toString());
    }

    @Test
    void aStallTheGuestScriptWroteIsTheRunsLastOutcome(@TempDir Path run) throws IOException {
        Path k = Files.createDirectories(run.resolve("out/kselftest"));
        Files.writeString(k.resolve("hmm-tests.tap"), CUT);
        Files.writeString(k.resolve("stalled"), "stalled: hmm-tests printed nothing for 180 s (a test stuck in the "
                + "kernel); the last line: ok 74 hmm2.hmm2_\n");
        List<TestOutcome> all = KernelSelftests.partialOutcomes(run);
        TestOutcome last = all.getLast();
        assertEquals(KernelSelftests.STALLED, last.test());
        assertEquals(TestOutcome.Status.FAILED, last.status());
        assertTrue(last.message().startsWith("stalled: hmm-tests printed nothing for 180 s"), last.message());
    }

    @Test
    void aStallIsAlsoReadFromTheConsoleMarkerOfRunsBeforeTheFile(@TempDir Path run) throws IOException {
        Path k = Files.createDirectories(run.resolve("out/kselftest"));
        Files.writeString(k.resolve("hmm-tests.tap"), CUT);
        Files.writeString(run.resolve("console.log"), " 365.329| @@HMM KSELFTEST stalled: no output from hmm-tests for "
                + "180 s, in: #  RUN           hmm2.hmm2_device_coherent.migrate_mixed ...\n");
        TestOutcome last = KernelSelftests.partialOutcomes(run).getLast();
        assertEquals(KernelSelftests.STALLED, last.test());
        assertTrue(last.message().startsWith("stalled: no output from hmm-tests for 180 s"), last.message());
        Files.writeString(run.resolve("console.log"), " 1.0| booted\n");
        assertTrue(KernelSelftests.partialOutcomes(run).stream().noneMatch(o -> o.test().equals(KernelSelftests.STALLED)));
    }
}
