package dev.hmmmirror.suite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hmmmirror.vm.result.TestOutcome;
import dev.hmmmirror.vm.selftest.KernelSelftests;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The kernel's own selftests are reported next to ours and never change our exit code. */
class ReportsTest {
    private static TestOutcome ours(String test, TestOutcome.Status s) {
        return new TestOutcome("MirrorAccessIT", test, s, s == TestOutcome.Status.PASSED ? "" : "boom", "3-4");
    }

    private static TestOutcome kernels(String test, TestOutcome.Status s) {
        return new TestOutcome(KernelSelftests.CLASS, test, s, s == TestOutcome.Status.FAILED ? "hmm-tests.c:1:x" : "", "7-9");
    }

    @Test
    void kernelSelftestFailuresAreReportedButNotCounted(@TempDir Path dir) throws Exception {
        Files.createDirectories(dir.resolve("built-7.2"));
        Files.writeString(dir.resolve("built-7.2/console.log"), "a\nb\nc\nd\ne\nf\ng\nh\ni\n");
        KernelRun run = new KernelRun("built-7.2", "7.2.13", List.of(ours("readsThroughTheDevice", TestOutcome.Status.PASSED)),
                dir.resolve("built-7.2"), List.of(kernels("hmm.hmm_device_private.open_close", TestOutcome.Status.PASSED),
                        kernels("hmm.hmm_device_private.exclusive", TestOutcome.Status.FAILED)));
        assertEquals(0, Reports.exitCode(List.of(run)), "the kernel's own failures are not ours");

        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        Reports.printTable(List.of(run), new PrintStream(buf, true, StandardCharsets.UTF_8));
        String table = buf.toString(StandardCharsets.UTF_8);
        assertTrue(table.contains("MirrorAccessIT.readsThroughTheDevice") && table.contains("the kernel's own hmm selftests")
                && table.contains("hmm-tests.hmm.hmm_device_private.exclusive"), table);

        Reports.write(List.of(run), dir);
        String json = Files.readString(dir.resolve("summary.json"));
        assertTrue(json.contains("\"kernelSelftests\": {\"totals\": {\"passed\": 1, \"failed\": 1"), json);
        String xml = Files.readString(dir.resolve("junit-built-7.2-kselftest.xml"));
        assertTrue(xml.contains("failures=\"1\"") && xml.contains("name=\"hmm.hmm_device_private.exclusive\""), xml);
        assertFalse(Files.readString(dir.resolve("junit-built-7.2.xml")).contains("hmm_device_private"));
        String html = Files.readString(dir.resolve("index.html"));
        assertTrue(html.contains("href=\"#built-7.2-hmm-tests.hmm.hmm_device_private.exclusive\""), "a failure links to its console part");
        assertTrue(html.contains("<pre>a\nb"), "the failing test's console lines are shown");
    }
}
