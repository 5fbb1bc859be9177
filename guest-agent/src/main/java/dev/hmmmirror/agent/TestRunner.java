package dev.hmmmirror.agent;

import dev.hmmmirror.agent.protocol.GuestResult;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.discovery.DiscoverySelectors;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;

/** Runs one test, selected by its JUnit unique id (the same id the host sees), in the guest JVM. */
final class TestRunner {
    record Outcome(GuestResult.Status status, String reason, Throwable error) {}

    private final Launcher launcher = LauncherFactory.create();

    Outcome run(String uniqueId) {
        LauncherDiscoveryRequest request = LauncherDiscoveryRequestBuilder.request()
                .selectors(DiscoverySelectors.selectUniqueId(uniqueId))
                .configurationParameter("junit.jupiter.extensions.autodetection.enabled", "false")
                .build();
        AtomicReference<Outcome> outcome = new AtomicReference<>();
        AtomicReference<Outcome> containerFailure = new AtomicReference<>();
        launcher.execute(request, new TestExecutionListener() {
            @Override
            public void executionSkipped(TestIdentifier id, String reason) {
                if (uniqueId.startsWith(id.getUniqueId())) {
                    outcome.compareAndSet(null, new Outcome(GuestResult.Status.SKIPPED, reason, null));
                }
            }

            @Override
            public void executionFinished(TestIdentifier id, TestExecutionResult result) {
                Throwable t = result.getThrowable().orElse(null);
                Outcome o = switch (result.getStatus()) {
                    case SUCCESSFUL -> new Outcome(GuestResult.Status.PASSED, "", null);
                    case ABORTED -> new Outcome(GuestResult.Status.ABORTED, t == null ? "" : String.valueOf(t.getMessage()), t);
                    case FAILED -> new Outcome(GuestResult.Status.FAILED, "", t);
                };
                if (id.getUniqueId().equals(uniqueId)) {
                    outcome.compareAndSet(null, o);
                } else if (result.getStatus() != TestExecutionResult.Status.SUCCESSFUL) {
                    containerFailure.compareAndSet(null, o); // e.g. @BeforeAll failed in the guest
                }
            }
        });
        if (outcome.get() != null) {
            return outcome.get();
        }
        if (containerFailure.get() != null) {
            return containerFailure.get();
        }
        return new Outcome(GuestResult.Status.NOT_FOUND, "the guest found no test with id " + uniqueId
                + " (is the test class on the guest classpath?)", null);
    }
}
