package dev.hmmmirror.vm.runner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hmmmirror.vm.config.Settings;
import dev.hmmmirror.vm.host.SetupException;
import dev.hmmmirror.vm.runner.RunnerSelection.Kind;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

/** Runner selection without a Docker engine: the availability check is injected. */
class RunnerSelectionTest {
    private static final BooleanSupplier DOCKER = () -> true;
    private static final BooleanSupplier NO_DOCKER = () -> false;

    @Test
    void autoPicksTheContainerOnlyWhenDockerAnswers() {
        assertEquals(Kind.CONTAINER, RunnerSelection.select("auto", DOCKER));
        assertEquals(Kind.LOCAL, RunnerSelection.select("auto", NO_DOCKER));
        assertEquals(Kind.LOCAL, RunnerSelection.select(null, NO_DOCKER), "unset means auto");
        assertEquals(Kind.CONTAINER, RunnerSelection.select("  ", DOCKER), "blank means auto");
    }

    @Test
    void explicitChoicesDoNotAskDocker() {
        AtomicInteger asked = new AtomicInteger();
        BooleanSupplier counting = () -> asked.incrementAndGet() > 0;
        assertEquals(Kind.LOCAL, RunnerSelection.select("local", counting));
        assertEquals(Kind.CONTAINER, RunnerSelection.select("container", counting));
        assertEquals(Kind.CONTAINER, RunnerSelection.select(" Container ", counting));
        assertEquals(0, asked.get());
    }

    @Test
    void aBadValueFailsNamingTheChoices() {
        SetupException e = assertThrows(SetupException.class, () -> RunnerSelection.select("docker", DOCKER));
        assertTrue(e.getMessage().contains("auto, local, container or docker:tcp://HOST:PORT"), e.getMessage());
        assertThrows(SetupException.class, () -> RunnerSelection.select("qemu", NO_DOCKER));
    }

    @Test
    void dockerWithAnAddressIsAnEngineThatSharesNoFiles() {
        assertEquals(Kind.ENGINE, RunnerSelection.select("docker:tcp://127.0.0.1:2375", NO_DOCKER));
        Settings s = Settings.from(java.util.Map.of("hmm.runner", "Docker:tcp://KVM-Box:2376")::get, k -> null);
        assertEquals("tcp://KVM-Box:2376", RunnerSelection.engineHost(s), "the address is kept as given");
        assertThrows(SetupException.class, () -> RunnerSelection.engineHost(Settings.from(k -> null, k -> null)));
    }

    @Test
    void theCheapDockerCheckNeverThrows() {
        // true or false depending on the machine; it must answer quickly and not throw
        long t0 = System.nanoTime();
        boolean available = ContainerRunner.dockerAvailable(Settings.fromEnvironment());
        assertFalse((System.nanoTime() - t0) / 1e9 > 10, "took too long; available=" + available);
    }
}
