package dev.hmmmirror.vm.selftest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hmmmirror.vm.image.GuestImage;
import dev.hmmmirror.vm.image.KernelProfile;
import dev.hmmmirror.vm.result.TestOutcome;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * rdma-core's ODP tests (the peer suite) are judged test by test from unittest's verbose output:
 * every outcome word unittest prints, the reason of a skip, the last line of a failure's
 * traceback, a test cut off midway, and a run that never said how many tests it ran.
 */
class PeerSuiteTest {
    private static String resource(String name) throws IOException {
        try (InputStream in = PeerSuiteTest.class.getResourceAsStream(name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static Map<String, TestOutcome> byName(List<TestOutcome> outcomes) {
        return outcomes.stream().collect(Collectors.toMap(TestOutcome::test, o -> o));
    }

    /** Output of CPython's unittest -v (3.11, the host's) over a module with one test of each kind. */
    @Test
    void everyOutcomeUnittestPrints() throws IOException {
        List<TestOutcome> all = PeerSuite.parse(resource("unittest-verbose-formats.txt"), "5-30");
        Map<String, TestOutcome> o = byName(all);
        assertEquals(8, all.size(), all.toString());
        assertEquals(TestOutcome.Status.PASSED, o.get("test_odp.OdpTestCase.test_odp_rc_traffic").status());
        assertEquals(TestOutcome.Status.PASSED, o.get("test_odp.OdpTestCase.test_odp_documented").status(),
                "the outcome after a docstring's line");
        assertEquals(TestOutcome.Status.PASSED, o.get("test_odp.OdpTestCase.test_odp_prints").status(),
                "the outcome after what the test printed");
        TestOutcome skipped = o.get("test_odp.OdpTestCase.test_odp_implicit_rc_traffic");
        assertEquals(TestOutcome.Status.SKIPPED, skipped.status());
        assertEquals("ODP implicit is not supported", skipped.message());
        TestOutcome failed = o.get("test_odp.OdpTestCase.test_odp_rc_rdma_read");
        assertEquals(TestOutcome.Status.FAILED, failed.status());
        assertEquals("FAIL: AssertionError: 1 != 2 : bytes differ", failed.message());
        TestOutcome error = o.get("test_odp.OdpTestCase.test_odp_ud_traffic");
        assertEquals(TestOutcome.Status.FAILED, error.status());
        assertEquals("ERROR: OSError: [Errno 95] Operation not supported", error.message());
        assertEquals(TestOutcome.Status.PASSED, o.get("test_odp.OdpTestCase.test_odp_expected").status());
        assertEquals(TestOutcome.Status.FAILED, o.get("test_odp.OdpTestCase.test_odp_unexpected").status());
        assertEquals(PeerSuite.CLASS, failed.testClass());
        assertEquals("5-30", failed.consoleLines());
    }

    /** The real output of rdma-core 65's tests.test_odp on rxe0, sid 7.2.13, captured from the guest. */
    @Test
    void theGuestsRealOutput() throws IOException {
        List<TestOutcome> all = PeerSuite.parse(resource("test_odp-sid-7.2.13.txt"), "");
        Map<String, TestOutcome> o = byName(all);
        assertEquals(23, all.size(), all.toString());
        assertTrue(all.stream().allMatch(t -> t.test().startsWith("test_odp.OdpTestCase.test_")), all.toString());
        assertEquals(TestOutcome.Status.PASSED, o.get("test_odp.OdpTestCase.test_odp_rc_rdma_read").status());
        assertEquals(TestOutcome.Status.SKIPPED, o.get("test_odp.OdpTestCase.test_odp_implicit_rc_traffic").status());
        assertEquals("ODP implicit is not supported", o.get("test_odp.OdpTestCase.test_odp_implicit_rc_traffic").message(),
                "a skip says why");
        assertEquals(TestOutcome.Status.PASSED, o.get("test_odp.OdpTestCase.test_mrex_odp_rc_traffic").status(),
                "a test with a docstring (its outcome on the docstring's line)");
        assertEquals(CAPTURED_PASSED, all.stream().filter(t -> t.status() == TestOutcome.Status.PASSED).count());
        assertEquals(CAPTURED_SKIPPED, all.stream().filter(t -> t.status() == TestOutcome.Status.SKIPPED).count());
        assertEquals(CAPTURED_FAILED, all.stream().filter(t -> t.status() == TestOutcome.Status.FAILED).count());
    }

    /** The counts of the captured run (docs/rxe.md, 'The peer suite'). */
    static final long CAPTURED_PASSED = 15;
    static final long CAPTURED_SKIPPED = 8;
    static final long CAPTURED_FAILED = 0;

    @Test
    void aRunKilledInsideATestFailsThatTestAndSaysHow() throws IOException {
        String real = resource("test_odp-sid-7.2.13.txt");
        String cut = real.substring(0, real.indexOf("test_odp_rc_rdma_read (")) + "test_odp_rc_rdma_read "
                + "(tests.test_odp.OdpTestCase.test_odp_rc_rdma_read) ... \n"
                + "# hmm-mirror: rdma-core tests exit status 137\n";
        List<TestOutcome> all = PeerSuite.parse(cut, "");
        TestOutcome last = all.getLast();
        assertEquals("test_odp.OdpTestCase.test_odp_rc_rdma_read", last.test());
        assertEquals(TestOutcome.Status.FAILED, last.status());
        assertEquals("started but reported no result (killed at the time limit)", last.message());
    }

    @Test
    void fewerResultsThanRanOrNoRanLineIsAFailure() {
        List<TestOutcome> fewer = PeerSuite.parse("test_a (tests.test_odp.T.test_a) ... ok\n\n"
                + "----------------------------------------------------------------------\nRan 2 tests in 1.0s\n\nOK\n", "");
        assertEquals(TestOutcome.Status.FAILED, fewer.getLast().status());
        assertEquals("(run)", fewer.getLast().test());
        List<TestOutcome> none = PeerSuite.parse("Traceback (most recent call last):\nImportError: no pyverbs\n"
                + "# hmm-mirror: rdma-core tests exit status 1\n", "");
        assertEquals(1, none.size());
        assertEquals("unittest reported no 'Ran N tests' (exit status 1)", none.getFirst().message());
    }

    @Test
    void aGuestThatSkippedSaysWhyAndOneWithoutOutputFails(@TempDir Path out) throws IOException {
        List<TestOutcome> nothing = PeerSuite.outcomes(out, "1-2", null);
        assertEquals(TestOutcome.Status.FAILED, nothing.getFirst().status());
        assertEquals("rdma-core's tests did not run: no output", nothing.getFirst().message());
        Files.writeString(out.resolve("skipped.txt"), "rxe0 has no On-Demand Paging on kernel 6.12.117+deb13-amd64\n");
        List<TestOutcome> skipped = PeerSuite.outcomes(out, "1-2", null);
        assertEquals(List.of(new TestOutcome(PeerSuite.CLASS, "(suite)", TestOutcome.Status.SKIPPED,
                "rxe0 has no On-Demand Paging on kernel 6.12.117+deb13-amd64", "1-2")), skipped);
    }

    @Test
    void eachTestsConsoleLinesEndAtItsResultLineAndGiveItsDuration(@TempDir Path run) throws IOException {
        Path console = run.resolve("console.log");
        Files.writeString(console, String.join("\n",
                "  10.000| [    9.1] boot",
                "  20.000| @@HMM PEER start rdma-core tests.test_odp on rxe0 (limit 900 s)",
                "  21.000| [   20.1] hmmrxe0 speed is unknown, defaulting to 1000",
                "  22.000| test_mrex_odp_rc_traffic (tests.test_odp.OdpTestCase.test_mrex_odp_rc_traffic)",
                "  23.000| [   22.1] rxe0: a kernel message",
                "  24.000| Test ODP traffic with MREx ... ok",
                "  25.000| test_odp_rc_rdma_read (tests.test_odp.OdpTestCase.test_odp_rc_rdma_read) ... ok[   24.379446] "
                        + "hmmrxe0 speed is unknown, defaulting to 1000",
                "  26.000| [   25.1] WARNING: CPU: 0 PID: 1 at somewhere",
                "  27.000| test_odp_xrc_traffic (tests.test_odp.OdpTestCase.test_odp_xrc_traffic) ... skipped 'no XRCD'",
                "  28.000| Ran 3 tests in 3.0s") + "\n");
        assertEquals(Map.of("test_odp.OdpTestCase.test_mrex_odp_rc_traffic", new PeerSuite.Span("3-6", 4.0),
                "test_odp.OdpTestCase.test_odp_rc_rdma_read", new PeerSuite.Span("7-7", 1.0),
                "test_odp.OdpTestCase.test_odp_xrc_traffic", new PeerSuite.Span("8-9", 2.0)),
                PeerSuite.consoleSpans(console), "console lines, and seconds between result lines");
        Files.createDirectories(run.resolve("out/peer"));
        Files.writeString(run.resolve("out/peer/test_odp.log"), "test_odp_xrc_traffic (tests.test_odp.OdpTestCase."
                + "test_odp_xrc_traffic) ... skipped 'no XRCD'\n\nRan 1 test in 1.0s\n");
        TestOutcome xrc = PeerSuite.outcomes(run.resolve("out/peer"), "1-30", null).getFirst();
        assertEquals("8-9", xrc.consoleLines(), "the outcomes carry the ranges");
        assertEquals(2.0, xrc.seconds(), 1e-9);
    }

    private static GuestImage image(String profile, Path config) {
        return new GuestImage(KernelProfile.named(profile), "6.1.0-50-amd64", Path.of("/u/root"), null, Map.of(), "",
                Path.of("vmlinux"), Path.of("initramfs"), Path.of("modules"), config, Optional.empty(), "", "b", List.of());
    }

    @Test
    void aKernelWithoutRxeOrOdpIsSkippedBeforeTheBootNamingTheOption(@TempDir Path dir) throws IOException {
        Path config = dir.resolve("config");
        Files.writeString(config, "CONFIG_RDMA_RXE=m\nCONFIG_INFINIBAND_ON_DEMAND_PAGING=y\n");
        assertNull(PeerSuite.unsupported(image("debian-bookworm", config)), "rxe and ODP built: the guest decides");
        Files.writeString(config, "# CONFIG_RDMA_RXE is not set\nCONFIG_INFINIBAND_ON_DEMAND_PAGING=y\n");
        assertEquals("kernel 6.1.0-50-amd64 has no CONFIG_RDMA_RXE (rdma-core's ODP tests need rxe with On-Demand "
                + "Paging)", PeerSuite.unsupported(image("debian-bookworm", config)));
        Files.writeString(config, "CONFIG_RDMA_RXE=m\n");
        assertTrue(PeerSuite.unsupported(image("debian-bookworm", config)).contains("CONFIG_INFINIBAND_ON_DEMAND_PAGING"));
        assertTrue(PeerSuite.unsupported(image("debian-sid-arm64", config)).contains("amd64 guests only"));
    }

    @Test
    void stagingLinksTheLayerKeepingSymlinksAndModes(@TempDir Path dir) throws IOException {
        Path layer = Files.createDirectories(dir.resolve("layer/usr/bin"));
        Path python = Files.writeString(layer.resolve("python3.14"), "#!\n");
        python.toFile().setExecutable(true);
        Files.createSymbolicLink(layer.resolve("python3"), Path.of("python3.14"));
        PeerSuite.link(dir.resolve("layer"), dir.resolve("stage"));
        Path staged = dir.resolve("stage/usr/bin");
        assertTrue(Files.isExecutable(staged.resolve("python3.14")));
        assertEquals(Path.of("python3.14"), Files.readSymbolicLink(staged.resolve("python3")));
        assertEquals(Files.getAttribute(python, "unix:ino"), Files.getAttribute(staged.resolve("python3.14"), "unix:ino"),
                "a hard link, not a copy");
    }
}
