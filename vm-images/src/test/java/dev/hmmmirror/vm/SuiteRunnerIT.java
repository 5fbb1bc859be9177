package dev.hmmmirror.vm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import dev.hmmmirror.vm.suite.KernelRun;
import dev.hmmmirror.vm.suite.Reports;
import dev.hmmmirror.vm.suite.SuiteRunner;
import dev.hmmmirror.vm.suite.TestOutcome;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The tool's exit codes, proven on real boots: a clean run gives 0, a kernel command line that
 * cannot boot gives 125, and a WARN injected by the module's debug parameter gives 2.
 */
class SuiteRunnerIT {
    static final Path REPORTS = Path.of("target/hmm-suite-it");

    @AfterEach
    void reset() {
        System.clearProperty("hmm.cmdline");
        System.clearProperty("hmm.module.params");
    }

    private static KernelRun run(String name) {
        KernelRun r = SuiteRunner.run(KernelProfile.selected(), List.of(selectClass(SamplePassingGuestCase.class)),
                REPORTS.resolve(name));
        Reports.write(List.of(r), REPORTS.resolve(name));
        return r;
    }

    @Test
    void aCleanRunExitsZeroAndWritesReports() throws Exception {
        KernelRun r = run("clean");
        assertEquals(0, r.exitCode(), r.outcomes().toString());
        assertEquals(1, r.count(TestOutcome.Status.PASSED));
        Path dir = REPORTS.resolve("clean");
        assertTrue(Files.readString(dir.resolve("summary.json")).contains("\"exitCode\": 0"));
        assertTrue(Files.readString(dir.resolve("junit-" + r.reportDir().getFileName() + ".xml")).contains("opensTheDevice"));
        assertTrue(Files.readString(dir.resolve("index.html")).contains("pass"));
        assertTrue(Files.isRegularFile(r.reportDir().resolve("console.log")), "console log kept");
    }

    @Test
    void aKernelThatCannotBootExits125() {
        System.setProperty("hmm.cmdline", "rdinit=/no/such/init");
        KernelRun r = run("noboot");
        assertEquals(125, r.exitCode(), r.outcomes().toString());
    }

    @Test
    void anInjectedKernelWarningExits2() throws Exception {
        System.setProperty("hmm.module.params", "ndevices=2 inject_warn=1");
        KernelRun r = run("splat");
        assertEquals(2, r.exitCode(), r.outcomes().toString());
        assertTrue(Files.readString(REPORTS.resolve("splat/index.html")).contains("WARN injected"),
                "the report shows the console around the failing test");
    }
}
