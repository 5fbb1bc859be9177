package dev.hmmmirror.suite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import dev.hmmmirror.vm.config.Setting;
import dev.hmmmirror.vm.config.Settings;
import dev.hmmmirror.vm.image.KernelProfile;
import dev.hmmmirror.vm.result.TestOutcome;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The tool's exit codes, proven on real boots: a clean run gives 0, a kernel command line that
 * cannot boot gives 125, and a WARN injected by the module's debug parameter gives 2. And a matrix
 * of two kernels runs both guests at once, each in its own folder. And on sid the peer suite
 * (rdma-core's ODP tests against rxe) runs after ours, parsed test by test into the reports.
 */
class SuiteRunnerIT {
    static final Path REPORTS = Path.of("target/hmm-suite-it");

    private static KernelRun run(String name, Setting setting, String value) {
        // the peer suite has its own test below (about 40 s a run on sid under TCG)
        Settings settings = Settings.fromEnvironment().with(Setting.RUN_DIR, REPORTS.resolve(name).toString())
                .with(Setting.PEER_SUITE, "false");
        if (setting != null) {
            settings = settings.with(setting, value);
        }
        KernelRun r = SuiteRunner.run(settings, KernelProfile.named(settings.kernel()),
                List.of(selectClass(SamplePassingGuestCase.class)));
        Reports.write(List.of(r), REPORTS.resolve(name));
        return r;
    }

    @Test
    void aCleanRunExitsZeroAndWritesReports() throws Exception {
        KernelRun r = run("clean", null, null);
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
        KernelRun r = run("noboot", Setting.CMDLINE, "rdinit=/no/such/init");
        assertEquals(125, r.exitCode(), r.outcomes().toString());
    }

    @Test
    void anInjectedKernelWarningExits2() throws Exception {
        KernelRun r = run("splat", Setting.MODULE_PARAMS, "ndevices=2 inject_warn=1");
        assertEquals(2, r.exitCode(), r.outcomes().toString());
        assertTrue(Files.readString(REPORTS.resolve("splat/index.html")).contains("WARN injected"),
                "the report shows the console around the failing test");
    }

    @Test
    void aMatrixRunsTwoGuestsAtOnce() throws Exception {
        Settings settings = Settings.fromEnvironment().with(Setting.RUN_DIR, REPORTS.resolve("matrix").toString())
                .with(Setting.PEER_SUITE, "false");
        List<KernelProfile> kernels = List.of(KernelProfile.named("debian-sid"), KernelProfile.named("debian-bookworm"));
        List<KernelRun> runs = Matrix.run(settings, kernels, List.of(selectClass(SamplePassingGuestCase.class)), 2);
        assertEquals(List.of("debian-sid", "debian-bookworm"), runs.stream().map(KernelRun::profile).toList(),
                "results in the kernels' order");
        for (KernelRun r : runs) {
            assertEquals(0, r.exitCode(), r.profile() + ": " + r.outcomes());
            assertTrue(Files.isRegularFile(r.reportDir().resolve("console.log")), "own console log " + r.reportDir());
        }
        assertTrue(!runs.get(0).reportDir().equals(runs.get(1).reportDir()), "one folder per kernel");
        KernelRun.Timing a = runs.get(0).timing();
        KernelRun.Timing b = runs.get(1).timing();
        assertTrue(a.started().isBefore(b.finished()) && b.started().isBefore(a.finished()),
                "the two guests overlapped in time: " + a + " / " + b);
    }

    /**
     * On stock sid (rxe with ODP) rdma-core's tests.test_odp ran from the pyverbs layer, test by
     * test: fails if the layer is missing or broken (no Python, no pyverbs: no tests, one failed
     * row), if rxe0 lost its ODP, or if the parse broke.
     */
    @Test
    void thePeerSuiteRunsOnSidTestByTest() throws Exception {
        Settings settings = Settings.fromEnvironment().with(Setting.RUN_DIR, REPORTS.resolve("peer").toString())
                .with(Setting.KSELFTEST, "false");
        // as in a whole suite, a test of ours made rxe0 first (the peer suite once failed on it: "File exists")
        KernelRun r = SuiteRunner.run(settings, KernelProfile.named("debian-sid"),
                List.of(selectClass(SamplePassingGuestCase.class), org.junit.platform.engine.discovery.DiscoverySelectors
                        .selectMethod("dev.hmmmirror.guest.rdma.RxeOdpIT#odpCapabilitiesAgreeWithIbvDevinfo")));
        Reports.write(List.of(r), REPORTS.resolve("peer"));
        assertTrue(r.outcomes().stream().anyMatch(o -> o.test().contains("odpCapabilitiesAgreeWithIbvDevinfo")
                && o.status() == TestOutcome.Status.PASSED), "rxe0 made by our test first: " + r.outcomes());
        assertEquals(0, r.exitCode(), r.outcomes().toString());
        List<TestOutcome> peer = r.peerSuite();
        assertTrue(peer.size() >= 20, "rdma-core 65's test_odp has 23 tests: " + peer);
        for (String t : List.of("test_odp_rc_rdma_read", "test_odp_rc_rdma_write", "test_odp_rc_atomic_fetch_and_add",
                "test_odp_sync_prefetch_rc_traffic")) {
            TestOutcome o = peer.stream().filter(p -> p.test().equals("test_odp.OdpTestCase." + t)).findFirst()
                    .orElseThrow(() -> new AssertionError(t + " not reported: " + peer));
            assertEquals(TestOutcome.Status.PASSED, o.status(), o.toString());
        }
        assertTrue(peer.stream().filter(o -> o.status() == TestOutcome.Status.SKIPPED)
                .allMatch(o -> !o.message().isBlank()), "every skip says why: " + peer);
        Path dir = REPORTS.resolve("peer");
        assertTrue(Files.readString(dir.resolve("summary.json")).contains("\"peerSuite\""));
        assertTrue(Files.readString(dir.resolve("index.html")).contains("rdma-core ODP tests"));
        assertTrue(Files.readString(dir.resolve("junit-" + r.reportDir().getFileName() + "-rdma-core.xml"))
                .contains("test_odp_rc_rdma_read"));
    }
}
