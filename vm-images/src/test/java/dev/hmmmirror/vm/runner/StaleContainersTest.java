package dev.hmmmirror.vm.runner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.dockerjava.api.model.Container;
import dev.hmmmirror.vm.config.Settings;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.LongPredicate;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Whose containers a runner removes when it starts: only a killed run's of its own host, on this
 * host's engine as on one elsewhere (the same rule, the same labels).
 */
class StaleContainersTest {
    private static final LongPredicate ONLY_7_LIVES = pid -> pid == 7;

    @Test
    void onlyADeadRunOfThisHostIsStale() {
        assertTrue(ContainerRunner.stale("box:8", "box", ONLY_7_LIVES), "this host, its JVM gone");
        assertFalse(ContainerRunner.stale("box:7", "box", ONLY_7_LIVES), "this host, its JVM alive");
        assertFalse(ContainerRunner.stale("other:8", "box", ONLY_7_LIVES), "another host's: its pids mean nothing here");
        assertFalse(ContainerRunner.stale("boxer:8", "box", ONLY_7_LIVES), "a host whose name starts with ours");
        assertFalse(ContainerRunner.stale(null, "box", ONLY_7_LIVES), "no owner label: not ours to judge");
        assertFalse(ContainerRunner.stale("box:", "box", ONLY_7_LIVES));
        assertFalse(ContainerRunner.stale("box:x8", "box", ONLY_7_LIVES));
        assertFalse(ContainerRunner.stale("8", "box", ONLY_7_LIVES), "the old pid-only label");
    }

    @Test
    void aBuildsBaseImageNamesItsOwnerInItsTag() {
        assertEquals(java.util.Optional.of("box.lan:8"), ContainerRunner.baseTagOwner(ContainerRunner.baseTag("box.lan:8", "1f")));
        assertEquals("base-my_box-8-1f", ContainerRunner.baseTag("my box:8", "1f"), "a tag holds no blank");
        assertTrue(ContainerRunner.baseTag("h".repeat(300) + ":8", "1f").length() <= 128, "a tag has at most 128 characters");
        assertEquals(java.util.Optional.empty(), ContainerRunner.baseTagOwner("sid-6061d282829ff784"), "a runner image");
        assertEquals(java.util.Optional.empty(), ContainerRunner.baseTagOwner("sid-6061d282829ff784-base-4104-b023fc"),
                "the old base tag: no host");
    }

    @Test
    void theOwnerIsThisHostAndThisJvm() {
        String owner = ContainerRunner.owner();
        assertTrue(owner.endsWith(":" + ProcessHandle.current().pid()), owner);
        String host = owner.substring(0, owner.lastIndexOf(':'));
        assertFalse(ContainerRunner.stale(owner, host, pid -> ProcessHandle.of(pid).isPresent()), "our own container");
    }

    /**
     * On this host's engine, when one answers: containers of a live run of this host, of another
     * host, and of a dead run of this host, and base images of image builds of the same three; the
     * cleanup removes the dead run's only. The containers are made from an empty image imported here
     * and never started (nothing is pulled).
     */
    @Test
    void theCleanupRemovesOnlyTheDeadRunsContainerOnARealEngine() throws Exception {
        Settings settings = Settings.fromEnvironment();
        Assumptions.assumeTrue(ContainerRunner.dockerAvailable(settings),
                "skipped: no Docker engine answers on this host (sudo ci/start-docker.sh starts one)");
        String image = "hmm-mirror/stale-test:empty";
        Process dead = new ProcessBuilder("true").start();
        dead.waitFor();
        String host = ContainerRunner.owner().substring(0, ContainerRunner.owner().lastIndexOf(':'));
        Map<String, String> owners = Map.of(
                "live", host + ":" + ProcessHandle.current().pid(),
                "elsewhere", "another-machine.invalid:" + dead.pid(),
                "dead", host + ":" + dead.pid());
        List<String> made = new ArrayList<>();
        try (DockerEngine engine = DockerEngine.local(settings)) {
            var client = engine.client();
            // an image of one empty directory, imported as the runner image's base is (docker-java, no docker client)
            java.nio.file.Path empty = java.nio.file.Files.createTempDirectory("hmm-stale-test");
            Process tarProcess = new ProcessBuilder("tar", "-C", empty.toString(), "-c", ".").start();
            byte[] tar = tarProcess.getInputStream().readAllBytes();
            assertEquals(0, tarProcess.waitFor(), "tar of an empty directory");
            java.nio.file.Files.delete(empty);
            engine.importImage(new java.io.ByteArrayInputStream(tar), "hmm-mirror/stale-test", "empty", 60);
            try {
                for (var e : owners.entrySet()) {
                    made.add(client.createContainerCmd(image).withName("hmm-stale-test-" + e.getKey() + "-"
                                    + ProcessHandle.current().pid())
                            .withCmd("/none").withLabels(Map.of(ContainerRunner.LABEL, "test",
                                    ContainerRunner.OWNER_LABEL, e.getValue())).exec().getId());
                }
                for (var e : owners.entrySet()) {
                    engine.importImage(new java.io.ByteArrayInputStream(tar), ContainerRunner.REPOSITORY,
                            ContainerRunner.baseTag(e.getValue(), "5a1e"), 60);
                }
                ContainerRunner.removeStale(engine);
                Set<String> bases = client.listImagesCmd().withReferenceFilter(ContainerRunner.REPOSITORY).exec().stream()
                        .flatMap(i -> java.util.Arrays.stream(i.getRepoTags() == null ? new String[0] : i.getRepoTags()))
                        .map(t -> t.substring(t.lastIndexOf(':') + 1)).filter(t -> t.endsWith("-5a1e"))
                        .collect(Collectors.toSet());
                assertEquals(Set.of(ContainerRunner.baseTag(owners.get("live"), "5a1e"),
                        ContainerRunner.baseTag(owners.get("elsewhere"), "5a1e")), bases,
                        "the live build's and the other host's base images are kept, the killed build's removed");
                Set<String> left = client.listContainersCmd().withShowAll(true)
                        .withLabelFilter(Map.of(ContainerRunner.LABEL, "test")).exec().stream()
                        .filter(c -> made.contains(c.getId()))
                        .map(c -> c.getLabels().get(ContainerRunner.OWNER_LABEL)).collect(Collectors.toSet());
                assertEquals(Set.of(owners.get("live"), owners.get("elsewhere")), left,
                        "the live run's and the other host's are kept, the dead run's removed");
            } finally {
                for (Container c : client.listContainersCmd().withShowAll(true)
                        .withLabelFilter(Map.of(ContainerRunner.LABEL, "test")).exec()) {
                    if (made.contains(c.getId())) {
                        client.removeContainerCmd(c.getId()).withForce(true).exec();
                    }
                }
                for (String owner : owners.values()) {
                    try {
                        client.removeImageCmd(ContainerRunner.REPOSITORY + ":" + ContainerRunner.baseTag(owner, "5a1e")).exec();
                    } catch (com.github.dockerjava.api.exception.NotFoundException gone) {
                        // the cleanup removed it
                    }
                }
                client.removeImageCmd(image).withForce(true).exec();
            }
        }
    }
}
