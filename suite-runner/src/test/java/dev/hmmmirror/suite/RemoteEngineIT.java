package dev.hmmmirror.suite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import dev.hmmmirror.vm.config.Setting;
import dev.hmmmirror.vm.config.Settings;
import dev.hmmmirror.vm.image.KernelProfile;
import dev.hmmmirror.vm.result.TestOutcome;
import dev.hmmmirror.vm.host.Exec;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Guest tests through a Docker engine that shares no files with this host: a second dockerd that
 * this test starts on a loopback TCP port with its own data root. The run passes there as it does
 * locally, no container of it has a bind mount of a host path, none is left on the engine after
 * it, and when the engine goes away in the middle of a matrix only the kernel it ran is lost, as
 * "could not build or boot".
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RemoteEngineIT {
    static final Path REPORTS = Path.of("target/hmm-engine-it").toAbsolutePath();
    /**
     * What runs through the engine (and here, for the comparison): three classes of the guest
     * suite, 32 tests of the device, mirroring and invalidations. What this test proves is the
     * remote path of the runner, which is the same whatever the tests do: the runner image built on
     * the engine (when its data root, kept in the cache, lacks it), the cache entries copied into volumes, the staged files copied in, the module
     * built there with its build directory copied in and out, the console streamed and the agent
     * bridged over TCP, the results share copied back, every container of the run removed. The
     * whole suite through a container runner is ci/test-container.sh's (this host's engine, the
     * same code past the file transport); through this engine it took 36 min on 2 TCG cores
     * beside its local baseline, for no more coverage of the runner.
     */
    static final List<String> CLASSES = List.of("DeviceOpenIT", "InvalidationIT", "MirrorAccessIT");
    static final List<org.junit.platform.engine.DiscoverySelector> SUITE = CLASSES.stream().map(c -> (org.junit.platform.engine.DiscoverySelector)
                    org.junit.platform.engine.discovery.DiscoverySelectors.selectClass("dev.hmmmirror.guest." + c)).toList();
    private static SecondDockerEngine engine;

    @BeforeAll
    static void startEngine() throws Exception {
        String why = SecondDockerEngine.unavailableReason();
        Assumptions.assumeTrue(why == null, () -> "skipped: " + why);
        Path data = Settings.fromEnvironment().cacheDir().resolve("docker-engine-test");
        engine = SecondDockerEngine.start(data, REPORTS.resolve("dockerd.log"));
    }

    @AfterAll
    static void stopEngine() throws Exception {
        if (engine != null) {
            engine.close();
        }
    }

    private static Settings settings(String name, String runner) {
        // not the peer suite (rdma-core's ODP tests, ~25-40 s a sid guest): SuiteRunnerIT has its own test of it
        return Settings.fromEnvironment().with(Setting.RUN_DIR, REPORTS.resolve(name).toString())
                .with(Setting.RUNNER, runner).with(Setting.PEER_SUITE, "false");
    }

    /**
     * {@code docker -H ENGINE args...}: the test looks at the engine with Debian's docker client,
     * not through the runner's own docker-java calls.
     */
    private static String docker(String... args) {
        List<String> cmd = new java.util.ArrayList<>(List.of("docker", "-H", engine.host()));
        cmd.addAll(List.of(args));
        return Exec.output(20, cmd);
    }

    /** Every 2 s, the mounts of each running guest container of the engine: {@code type:source}. */
    private static Thread watchMounts(Set<String> mounts, Set<String> containers, AtomicBoolean stop) {
        return Thread.ofPlatform().daemon().start(() -> {
            while (!stop.get()) {
                try {
                    for (String id : docker("ps", "-q", "--filter", "label=dev.hmmmirror.runner=guest").lines()
                            .filter(l -> !l.isBlank()).toList()) {
                        containers.add(id);
                        String m = docker("inspect", "--format",
                                "{{range .Mounts}}{{.Type}}:{{.Source}} {{end}}", id);
                        mounts.addAll(List.of(m.strip().split(" ")));
                    }
                    Thread.sleep(2000);
                } catch (InterruptedException e) {
                    return;
                } catch (RuntimeException e) {
                    // the container went between ps and inspect
                }
            }
        });
    }

    @Test
    @Order(1)
    void theSuitePassesThroughAnEngineWithNoHostPathMountedAndGivesTheLocalResults() throws Exception {
        KernelProfile sid = KernelProfile.named("debian-sid");
        Set<String> mounts = ConcurrentHashMap.newKeySet();
        Set<String> containers = ConcurrentHashMap.newKeySet();
        AtomicBoolean stop = new AtomicBoolean();
        Thread watcher = watchMounts(mounts, containers, stop);
        KernelRun remote;
        // the same suite here at the same time, for the comparison (two guests at once, as a matrix runs them)
        var local = java.util.concurrent.CompletableFuture.supplyAsync(
                () -> SuiteRunner.run(settings("local", "local"), sid, SUITE),
                r -> Thread.ofPlatform().name("hmm-local-baseline").start(r));
        try {
            remote = SuiteRunner.run(settings("remote", "docker:" + engine.host()), sid, SUITE);
        } finally {
            stop.set(true);
            watcher.join();
        }
        Reports.write(List.of(remote), REPORTS.resolve("remote"));
        assertTrue(remote.count(TestOutcome.Status.PASSED) > 20, "the guest suite ran: " + remote.outcomes());
        assertEquals(0, remote.exitCode(), "through " + engine.host() + ": " + remote.outcomes()
                + "; engine log " + remote.reportDir().resolve("engine.log") + ", dockerd log " + engine.log());
        assertFalse(containers.isEmpty(), "a guest container ran on the engine");
        assertTrue(mounts.stream().noneMatch(m -> m.startsWith("bind:")), "no bind mount of a host path: " + mounts);
        assertTrue(mounts.stream().anyMatch(m -> m.startsWith("volume:")), "the cache entries come as volumes: " + mounts);
        assertTrue(java.nio.file.Files.size(remote.reportDir().resolve("console.log")) > 0, "console streamed back");
        assertTrue(java.nio.file.Files.isRegularFile(remote.reportDir().resolve("out/dmesg.txt")),
                "the results share copied back (dmesg at power-off)");
        assertEquals("", docker("ps", "-a", "-q", "--filter", "label=dev.hmmmirror.runner").strip(),
                "every container of the run (guest, volume copies, image build) removed from the engine");

        KernelRun here = local.get();
        Reports.write(List.of(here), REPORTS.resolve("local"));
        assertEquals(0, here.exitCode(), "locally: " + here.outcomes());
        assertEquals(List.of(), MatrixBench.differences(List.of(here), List.of(remote)), "same results as the local runner");
    }

    @Test
    @Order(2)
    void anEngineThatGoesAwayFailsOnlyItsKernelAsCouldNotBoot() throws Exception {
        // one slot on the engine, one here: the engine is stopped once its guest runs
        Settings settings = settings("lost", "local").with(Setting.DOCKER_HOSTS, engine.host() + " local");
        Thread killer = Thread.ofPlatform().daemon().start(() -> {
            try {
                for (int i = 0; i < 600; i++) {
                    if (!docker("ps", "-q", "--filter", "label=dev.hmmmirror.runner=guest").isBlank()) {
                        Thread.sleep(8000); // QEMU is booting or the tests run
                        engine.close();
                        return;
                    }
                    Thread.sleep(1000);
                }
            } catch (InterruptedException | RuntimeException e) {
                // the run ended first
            }
        });
        List<KernelRun> runs = Matrix.run(settings, List.of(KernelProfile.named("debian-sid"),
                KernelProfile.named("debian-bookworm")), List.of(selectClass(SamplePassingGuestCase.class)));
        killer.join(60_000);
        Reports.write(runs, REPORTS.resolve("lost"));
        List<KernelRun> lost = runs.stream().filter(r -> r.exitCode() == 125).toList();
        List<KernelRun> passed = runs.stream().filter(r -> r.exitCode() == 0).toList();
        assertEquals(1, lost.size(), "the kernel on the engine could not boot: " + runs);
        assertEquals(1, passed.size(), "the kernel here passed: " + runs);
        assertTrue(lost.getFirst().outcomes().stream().anyMatch(o -> o.status() == TestOutcome.Status.BOOT_FAILED
                && o.message().contains(engine.host())), "the engine is named: " + lost.getFirst().outcomes());
        assertEquals(125, Reports.exitCode(runs));
    }
}
