package dev.hmmmirror.suite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hmmmirror.vm.result.TestOutcome;
import dev.hmmmirror.vm.result.TestOutcome.Status;
import dev.hmmmirror.vm.selftest.KernelSelftests;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a reader of {@code index.html} sees, in a real browser: the page of a three-kernel matrix is
 * opened by headless Chromium (Debian's {@code chromium}), printed to PDF and read back as text
 * ({@code pdftotext}): the verdict and the totals come first, then the tests whose result differs
 * between kernels, then the failures, then every test with its duration; the kernel's own
 * selftests are counted beside ours. And the page needs nothing but itself.
 */
class ReportPageTest {
    private static final List<String> SAME = List.of("opensTheDevice", "faultsAndReads", "invalidatesOnMunmap");

    private static KernelRun run(String profile, String release, Status migrate, Status exclusive, double init,
            double ready, List<TestOutcome> kselftests) {
        List<TestOutcome> outcomes = new ArrayList<>();
        for (String t : SAME) {
            outcomes.add(new TestOutcome("MirrorAccessIT", t, Status.PASSED, "", "10-20", 1.25));
        }
        outcomes.add(new TestOutcome("DeviceMemoryIT", "migratesToTheDevice", migrate,
                migrate == Status.SKIPPED ? "kernel lacks CONFIG_DEVICE_PRIVATE" : "", "21-30", 2.5));
        outcomes.add(new TestOutcome("ExclusiveIT", "atomicAdd", exclusive,
                exclusive == Status.FAILED ? "expected 2 but was 1" : "", "2-3", 0.75));
        Instant t0 = Instant.parse("2026-12-02T06:00:00Z");
        return new KernelRun(profile, release, outcomes, Path.of(profile), kselftests,
                new KernelRun.Timing(t0, t0.plusSeconds(95), init, ready));
    }

    private static Path write(Path dir) throws Exception {
        for (String k : List.of("debian-sid", "debian-trixie", "built-7.2")) {
            Files.createDirectories(dir.resolve(k));
            Files.writeString(dir.resolve(k).resolve("console.log"), "  1.000| boot\n  2.000| the exclusive test said boom\n");
        }
        List<TestOutcome> kself = List.of(new TestOutcome(KernelSelftests.CLASS, "hmm.open_close", Status.PASSED, "", ""),
                new TestOutcome(KernelSelftests.CLASS, "hmm.exclusive", Status.SKIPPED, "no THP", ""));
        List<KernelRun> runs = List.of(
                run("debian-sid", "7.2.13+deb14-amd64", Status.PASSED, Status.PASSED, 6.4, 10.7, List.of()),
                run("debian-trixie", "6.12.117+deb13-amd64", Status.SKIPPED, Status.SKIPPED, 6.8, 10.4, List.of()),
                run("built-7.2", "7.2.13", Status.PASSED, Status.FAILED, 2.1, 4.7, kself));
        Reports.write(runs, dir);
        return dir.resolve("index.html");
    }

    @Test
    void thePageNeedsNothingButItself(@TempDir Path dir) throws Exception {
        String html = Files.readString(write(dir));
        for (String external : List.of("<script", "<link", "src=", "@import", "url(")) {
            assertFalse(html.contains(external), "the page refers to another file: " + external);
        }
    }

    @Test
    void aReaderSeesTotalsThenDifferencesThenFailuresThenEveryTest(@TempDir Path dir) throws Exception {
        Path chromium = Path.of("/usr/bin/chromium");
        Path pdftotext = Path.of("/usr/bin/pdftotext");
        Assumptions.assumeTrue(Files.isExecutable(chromium) && Files.isExecutable(pdftotext),
                "skipped: needs Debian's chromium and poppler-utils (ci/install-deps.sh installs them)");
        Path page = write(dir);
        Path pdf = dir.resolve("page.pdf");
        Process p = new ProcessBuilder(chromium.toString(), "--headless", "--no-sandbox", "--disable-gpu",
                "--no-pdf-header-footer", "--user-data-dir=" + dir.resolve("chromium-profile"),
                "--print-to-pdf=" + pdf, page.toUri().toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("chromium.log").toFile()).start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "chromium did not finish in 120 s");
        assertTrue(Files.size(pdf) > 0, "chromium printed nothing; log: " + Files.readString(dir.resolve("chromium.log")));
        Process t = new ProcessBuilder(pdftotext.toString(), "-layout", pdf.toString(), "-").start();
        String seen = new String(t.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(t.waitFor(60, TimeUnit.SECONDS));

        int verdict = seen.indexOf("exit code 1");
        int totals = seen.indexOf("built-7.2");
        int differences = seen.indexOf("Tests whose result differs between kernels (2)");
        int failures = seen.indexOf("Failures (1)");
        int every = seen.indexOf("Every test, with its duration");
        assertTrue(verdict >= 0 && verdict < totals && totals < differences && differences < failures && failures < every,
                "order on the page: verdict " + verdict + ", totals " + totals + ", differences " + differences
                        + ", failures " + failures + ", every test " + every + "\n" + seen);
        String diffPart = seen.substring(differences, failures);
        assertTrue(diffPart.contains("DeviceMemoryIT.migratesToTheDevice") && diffPart.contains("ExclusiveIT.atomicAdd"),
                "the two tests that differ: " + diffPart);
        for (String same : SAME) {
            assertFalse(diffPart.contains(same), same + " has one result everywhere and is not a difference");
        }
        String totalsPart = seen.substring(verdict, differences);
        assertTrue(totalsPart.contains("6.4 s") && totalsPart.contains("10.7 s") && totalsPart.contains("4.7 s"),
                "boot and JVM-ready times per kernel: " + totalsPart);
        assertTrue(totalsPart.replaceAll("\\s", "").contains("1/0/1") && totalsPart.contains("not run"),
                "the kernel's own selftests beside ours: " + totalsPart);
        assertTrue(totalsPart.contains("95.0 s"), "each kernel's whole run: " + totalsPart);
        assertTrue(seen.substring(failures, every).contains("expected 2 but was 1"), "the failure's message");
        assertTrue(seen.substring(every).contains("2.5 s"), "per-test durations in the full table");
        assertEquals(1, countOf(seen.substring(failures, every), "ExclusiveIT.atomicAdd"), "one failure, listed once");
    }

    private static int countOf(String text, String what) {
        int n = 0;
        for (int i = text.indexOf(what); i >= 0; i = text.indexOf(what, i + 1)) {
            n++;
        }
        return n;
    }
}
