package dev.hmmmirror.junit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.commons.io.output.TeeOutputStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.testkit.engine.EngineExecutionResults;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.Event;
import org.opentest4j.AssertionFailedError;

/**
 * Runs {@link SampleGuestCases} through the real extension (one guest boot) and checks that each
 * host test reproduces its guest outcome: pass, failure with the guest's own exception and stack
 * trace plus output and dmesg tail, and a skip with the guest's reason.
 */
class GuestExtensionIT {
    static EngineExecutionResults results;
    static String hostOutput;

    @BeforeAll
    static void runSamples() {
        PrintStream out = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(new TeeOutputStream(out, captured), true, StandardCharsets.UTF_8));
        try {
            results = EngineTestKit.engine("junit-jupiter").selectors(selectClass(SampleGuestCases.class))
                    .configurationParameter("hmm.run.dir", "target/hmm-guest-extension")
                    // the extension's own checks, not rdma-core's ODP tests (~25 s a sid guest; SuiteRunnerIT covers them)
                    .configurationParameter("hmm.peer", "false").execute();
        } finally {
            System.setOut(out);
        }
        hostOutput = captured.toString(StandardCharsets.UTF_8);
    }

    private static Map<String, Event> finished() {
        return results.testEvents().finished().stream().collect(Collectors.toMap(
                e -> e.getTestDescriptor().getDisplayName(), e -> e));
    }

    private static TestExecutionResult result(String method) {
        Event e = finished().get(method + "()");
        assertTrue(e != null, "no result for " + method + ": " + finished().keySet());
        return e.getRequiredPayload(TestExecutionResult.class);
    }

    @Test
    void aPassingGuestTestPassesOnTheHost() {
        assertEquals(TestExecutionResult.Status.SUCCESSFUL, result("passes").getStatus(),
                () -> String.valueOf(result("passes").getThrowable().orElse(null)));
    }

    @Test
    void whatAPassingGuestTestPrintsReachesTheHostsOutput() {
        // Surefire/Failsafe keep a test's stdout in its report
        assertTrue(hostOutput.contains("output printed by a passing guest test"), hostOutput);
    }

    @Test
    void aGuestAssertionFailureIsRethrownWithTheGuestStackTraceOutputAndDmesg() {
        Throwable t = result("failsWithAnAssertion").getThrowable().orElseThrow();
        AssertionFailedError afe = assertInstanceOf(AssertionFailedError.class, t);
        assertTrue(afe.getMessage().contains("guest-side assertion"), afe.getMessage());
        assertTrue(Arrays.stream(afe.getStackTrace()).anyMatch(f -> f.getMethodName().equals("failsWithAnAssertion")),
                "guest stack trace kept");
        String context = Arrays.stream(afe.getSuppressed()).map(Throwable::getMessage).collect(Collectors.joining("\n"));
        assertTrue(context.contains("output printed by the guest test"), context);
        assertTrue(context.contains("dmesg tail") && context.contains("hmm_mirror"), context);
        assertTrue(context.contains("console.log"), context);
    }

    @Test
    void aGuestExceptionKeepsItsType() {
        Throwable t = result("throwsAnException").getThrowable().orElseThrow();
        assertInstanceOf(IllegalStateException.class, t);
        assertEquals("boom in the guest", t.getMessage());
    }

    @Test
    void aGuestAssumptionSkipsTheHostTestWithTheReason() {
        TestExecutionResult r = result("isSkippedByAnAssumption");
        assertEquals(TestExecutionResult.Status.ABORTED, r.getStatus());
        assertTrue(r.getThrowable().orElseThrow().getMessage().contains("capability missing in this kernel"));
    }

    @Test
    void theRunEndedCleanly() {
        // the guest was powered off with the module unloaded and no kernel report: no container failed
        assertEquals(0, results.containerEvents().failed().count(),
                () -> results.containerEvents().failed().stream()
                        .map(e -> String.valueOf(e.getRequiredPayload(TestExecutionResult.class).getThrowable()))
                        .collect(Collectors.joining("\n")));
    }
}
