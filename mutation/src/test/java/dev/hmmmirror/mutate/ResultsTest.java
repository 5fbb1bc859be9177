package dev.hmmmirror.mutate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Verdicts, their JSON (read back for resuming), the scores and the table's order. */
class ResultsTest {
    static DetectorResult det(Detector d, Verdict v, String... failing) {
        return new DetectorResult(d, v, List.of(failing), failing.length == 0 ? "" : failing[0] + ": expected 0, got -14",
                List.of(), 31.5, 120.0, "/c/" + d.label(), List.of(failing), List.of());
    }

    static MutantResult mutant(String name, Verdict v, DetectorResult... ds) {
        Map<Detector, DetectorResult> m = new EnumMap<>(Detector.class);
        for (DetectorResult d : ds) {
            m.put(d.detector(), d);
        }
        return new MutantResult(name, "what " + name + " breaks", v, "why", false, 42.0, 3, 20.0, m, 400.0, "2026-12-06T07:00:00Z");
    }

    static Map<String, MutantResult> campaign() {
        Map<String, MutantResult> r = new LinkedHashMap<>();
        r.put("a-killed-by-selftests", mutant("a-killed-by-selftests", Verdict.KILLED,
                det(Detector.SELFTESTS, Verdict.KILLED, "hmm-tests.anon_write"), det(Detector.SUITE, Verdict.SURVIVED),
                det(Detector.EXPLORER, Verdict.SURVIVED)));
        r.put("b-killed-by-suite", mutant("b-killed-by-suite", Verdict.KILLED, det(Detector.SELFTESTS, Verdict.SURVIVED),
                det(Detector.SUITE, Verdict.KILLED, "RaceIT.staleRead"), det(Detector.EXPLORER, Verdict.KILLED, "explorer")));
        r.put("c-survivor", mutant("c-survivor", Verdict.SURVIVED, det(Detector.SELFTESTS, Verdict.SURVIVED),
                det(Detector.SUITE, Verdict.SURVIVED), det(Detector.EXPLORER, Verdict.SURVIVED)));
        r.put("d-no-build", mutant("d-no-build", Verdict.BUILD_FAILURE));
        r.put("e-equivalent", mutant("e-equivalent", Verdict.EQUIVALENT));
        return r;
    }

    @Test
    void theVerdictIsKilledWhenAnyDetectorKilledAndTimeoutOnlyWithoutAKill() {
        Map<Detector, DetectorResult> m = new EnumMap<>(Detector.class);
        m.put(Detector.SELFTESTS, det(Detector.SELFTESTS, Verdict.TIMEOUT));
        m.put(Detector.SUITE, det(Detector.SUITE, Verdict.SURVIVED));
        assertEquals(Verdict.TIMEOUT, Campaign.verdict(m));
        m.put(Detector.EXPLORER, det(Detector.EXPLORER, Verdict.KILLED, "explorer"));
        assertEquals(Verdict.KILLED, Campaign.verdict(m));
        Map<Detector, DetectorResult> boot = new EnumMap<>(Detector.class);
        boot.put(Detector.SUITE, det(Detector.SUITE, Verdict.BOOT_FAILURE));
        assertEquals(Verdict.BOOT_FAILURE, Campaign.verdict(boot));
        assertEquals(Verdict.SURVIVED, Campaign.verdict(Map.of(Detector.SUITE, det(Detector.SUITE, Verdict.SURVIVED))));
    }

    /** A resumed campaign estimates from the mutants it recorded, not from the baseline (1,549 s against ~300 s). */
    @Test
    void theEstimateComesFromRecordedMutantsAndFromTheBaselineOnlyBeforeAny() {
        assertEquals(1549.0, Campaign.typicalSeconds(List.of(), 1549.0));
        assertEquals(400.0, Campaign.typicalSeconds(List.of(250.0, 250.0, 700.0), 1549.0), 1e-9);
    }

    @Test
    void resultsReadBackAsWritten(@TempDir Path dir) throws Exception {
        Map<String, MutantResult> r = campaign();
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("mutants", r.values().stream().map(x -> (Object) x.toJson()).toList());
        Files.writeString(Campaign.resultsFile(dir), Json.write(doc));
        Map<String, MutantResult> back = Campaign.load(Campaign.resultsFile(dir));
        assertEquals(r, back);
        assertEquals(List.of(Detector.SUITE, Detector.EXPLORER), back.get("b-killed-by-suite").killers());
        assertEquals("RaceIT.staleRead: expected 0, got -14", back.get("b-killed-by-suite").firstFailure());
    }

    @Test
    void scoresCountOnlyMutantsThatBuiltBootedAndAreNotEquivalent() {
        Map<String, MutantResult> r = campaign();
        assertEquals(new Report.Score(1, 3), Report.score(r, Detector.SELFTESTS));
        assertEquals(new Report.Score(1, 3), Report.score(r, Detector.SUITE));
        assertEquals(new Report.Score(1, 3), Report.score(r, Detector.EXPLORER));
        assertEquals(new Report.Score(2, 3), Report.score(r, null));
    }

    @Test
    void theTableIsLedByTheSurvivorsAndTheFilesAreWritten(@TempDir Path dir) throws Exception {
        Map<String, MutantResult> r = campaign();
        assertEquals(List.of("c-survivor", "d-no-build", "a-killed-by-selftests", "b-killed-by-suite", "e-equivalent"),
                Report.ordered(r).stream().map(MutantResult::name).toList());
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Report.write(dir, r, new PrintStream(out, true, StandardCharsets.UTF_8));
        String text = out.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains("together                     2/3 = 67 %"), text);
        assertTrue(text.indexOf("c-survivor") < text.indexOf("a-killed-by-selftests"), text);
        Object json = Json.parse(Files.readString(dir.resolve("report.json")));
        assertTrue(json.toString().contains("hmm-tests.anon_write: expected 0, got -14"), json.toString());
        assertTrue(Files.readString(dir.resolve("report.html")).contains("<td class=\"survived\">survived</td>"));
    }

    @Test
    void splatKeysIgnoreNumbers() {
        assertEquals(Detectors.splatKey("WARNING: CPU: 0 PID: 123 at mm/hmm.c:601 dmirror_fault+0x1a/0x40\nmore"),
                Detectors.splatKey("WARNING: CPU: 1 PID: 77 at mm/hmm.c:601 dmirror_fault+0x2b/0x40"));
    }

    @Test
    void aSuiteClassIsFoundInItsPackageOrBelowForRestarts() {
        assertEquals(java.util.Optional.of("dev.hmmmirror.mutate.ResultsTest"), Detectors.fullName("dev.hmmmirror", "ResultsTest"));
        assertTrue(Detectors.fullName("dev.hmmmirror", "NoSuchTestIT").isEmpty());
    }

    /** A selftests run that the guest's hang cut off, as a campaign directory keeps it. */
    private static DetectorResult cutOffRun(Path dir, String mutant, String... lines) throws Exception {
        Path report = dir.resolve("mutants").resolve(mutant).resolve("selftests");
        Path run = report.resolve("tree-build");
        Files.createDirectories(run.resolve("out/kselftest"));
        Files.writeString(run.resolve("out/kselftest/hmm-tests.tap"), String.join("\n", lines) + "\n");
        Files.writeString(run.resolve("console.log"), "  1.0| booted\n");
        return new DetectorResult(Detector.SELFTESTS, Verdict.TIMEOUT, List.of(), "", List.of(), 7.0, 740.0,
                report.toString(), List.of(), List.of());
    }

    @Test
    void rejudgingCountsFailuresReportedBeforeAHang(@TempDir Path dir) throws Exception {
        Map<String, MutantResult> r = new LinkedHashMap<>();
        r.put(Campaign.BASELINE, mutant(Campaign.BASELINE, Verdict.BASELINE,
                det(Detector.SELFTESTS, Verdict.KILLED, "hmm-tests.hmm2.hmm2_device_private.migrate_mixed")));
        r.put("f-failed-then-hung", mutant("f-failed-then-hung", Verdict.TIMEOUT, cutOffRun(dir, "f-failed-then-hung",
                "TAP version 13", "1..5", "#  RUN           hmm.hmm_device_private.open_close ...",
                "ok 1 hmm.hmm_device_private.open_close", "#  RUN           hmm.hmm_device_private.anon_write_prot ...",
                "# hmm-tests.c:531:anon_write_prot:Expected ret (0) == -EPERM (-1)",
                "not ok 2 hmm.hmm_device_private.anon_write_prot",
                "#  RUN           hmm2.hmm2_device_coherent.migrate_mixed ..."),
                det(Detector.SUITE, Verdict.SURVIVED)));
        Path explorer = dir.resolve("mutants/h-explorer-failed-then-hung/explorer");
        Files.createDirectories(explorer);
        Files.writeString(explorer.resolve("explorer.log"), "explorer: kernel 7.2.13, campaign seed 20261206, 20 action "
                + "kinds\nexplorer: FAILED: program seed -57 after 12 steps: Violation: errno: fault WRITE failed with "
                + "EFAULT, the model expected EPERM\n");
        r.put("h-explorer-failed-then-hung", mutant("h-explorer-failed-then-hung", Verdict.TIMEOUT,
                new DetectorResult(Detector.EXPLORER, Verdict.TIMEOUT, List.of(), "", List.of(), 9.0, 3600.0,
                        explorer.toString(), List.of(), List.of()), det(Detector.SUITE, Verdict.SURVIVED)));
        r.put("g-only-hung", mutant("g-only-hung", Verdict.TIMEOUT, cutOffRun(dir, "g-only-hung",
                "TAP version 13", "1..5", "#  RUN           hmm2.hmm2_device_private.migrate_mixed ...",
                "not ok 1 hmm2.hmm2_device_private.migrate_mixed",
                "#  RUN           hmm2.hmm2_device_coherent.migrate_mixed ..."), det(Detector.SUITE, Verdict.SURVIVED)));
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("mutants", r.values().stream().map(x -> (Object) x.toJson()).toList());
        Files.writeString(Campaign.resultsFile(dir), Json.write(doc));

        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Map<String, MutantResult> back = Campaign.rejudge(dir, new PrintStream(out, true, StandardCharsets.UTF_8));
        String text = out.toString(StandardCharsets.UTF_8);
        MutantResult f = back.get("f-failed-then-hung");
        assertEquals(Verdict.KILLED, f.verdict(), text);
        assertEquals(Verdict.KILLED, f.detectors().get(Detector.SELFTESTS).status());
        assertTrue(f.firstFailure().contains("anon_write_prot") && f.firstFailure().contains("then the guest stopped "
                + "answering in hmm2.hmm2_device_coherent.migrate_mixed"), f.firstFailure());
        // its only failure before the hang fails on the unmutated kernel too: still a timeout
        assertEquals(Verdict.TIMEOUT, back.get("g-only-hung").verdict(), text);
        MutantResult h = back.get("h-explorer-failed-then-hung");
        assertEquals(Verdict.KILLED, h.verdict(), text);
        assertEquals(List.of("explorer(seed 20261206)"), h.detectors().get(Detector.EXPLORER).failing());
        assertTrue(text.contains("2 mutant(s) changed"), text);
        assertEquals(back, Campaign.load(Campaign.resultsFile(dir)), "written back");
    }
}
