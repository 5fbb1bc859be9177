package dev.hmmmirror.vm.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hmmmirror.agent.GuestAgent;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * What of this JVM's classpath (the harness's own test classpath: Testcontainers, docker-java,
 * Commons IO, the harness) goes into a guest: the agent and its dependencies, and nothing that
 * only the host needs. Before the split, the whole classpath was staged.
 */
class GuestClasspathTest {
    private static boolean holds(List<Path> entries, String classFile) {
        return entries.stream().anyMatch(p -> GuestClasspath.hasEntry(p, classFile));
    }

    @Test
    void theGuestGetsTheAgentAndNotTheHostsLibraries() throws Exception {
        List<Path> all = GuestClasspath.current();
        assertTrue(holds(all, "org/testcontainers/DockerClientFactory.class"), "precondition: Testcontainers on the host");
        List<Path> guest = GuestClasspath.forGuest(all);
        assertTrue(holds(guest, GuestAgent.class.getName().replace('.', '/') + ".class"), "the agent: " + guest);
        assertTrue(holds(guest, "org/junit/platform/launcher/Launcher.class"), "the JUnit launcher: " + guest);
        assertTrue(holds(guest, "dev/hmmmirror/HmmDevice.class"), "java-bindings: " + guest);
        for (String hostOnly : List.of("org/testcontainers/DockerClientFactory.class",
                "com/github/dockerjava/api/DockerClient.class", "org/apache/commons/io/FileUtils.class",
                "dev/hmmmirror/vm/session/GuestSession.class")) {
            assertFalse(holds(guest, hostOnly), hostOnly + " staged: " + guest);
        }
    }

    /** A jar naming no single artifact, in a local repository that is not called "repository" (-Dmaven.repo.local). */
    @Test
    void aHostOnlyJarIsKnownByItsPlaceInAnyLocalRepository(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        Path jar = tmp.resolve("m2-elsewhere/org/testcontainers/testcontainers/2.0.5/testcontainers-2.0.5.jar");
        java.nio.file.Files.createDirectories(jar.getParent());
        try (var out = new java.util.jar.JarOutputStream(java.nio.file.Files.newOutputStream(jar))) {
            for (String shaded : List.of("a/b", "c/d")) { // two pom.properties: the jar does not say which it is
                out.putNextEntry(new java.util.jar.JarEntry("META-INF/maven/" + shaded + "/pom.properties"));
                out.write(("groupId=" + shaded.replace('/', '.') + "\nartifactId=x\n").getBytes());
                out.closeEntry();
            }
        }
        assertTrue(GuestClasspath.artifactOf(jar).isEmpty(), "precondition: no name from the jar or a 'repository' root");
        assertTrue(GuestClasspath.isHostOnly(jar, java.util.Set.of("org.testcontainers:testcontainers")));
        assertFalse(GuestClasspath.isHostOnly(jar, java.util.Set.of("org.testcontainers:other", "org.other:testcontainers")));
    }

    /**
     * The assembled hmm command's lib/ (a flat folder): a jar that names no artifact is known by its
     * file name; before, Testcontainers went into every hmm bench / demo / run guest from there.
     */
    /** A list Maven wrote with the console's colours (TERM=xterm) reads as one without. */
    @Test
    void aListWrittenWithColoursReadsAsOneWithout() {
        String coloured = "   org.testcontainers:testcontainers:jar:2.0.5\u001B[36m -- module testcontainers\u001B[0;1;33m (auto)\u001B[m";
        assertEquals(List.of("org.testcontainers", "testcontainers", "jar", "2.0.5"),
                List.of(GuestClasspath.coordinates(coloured)));
        assertEquals(List.of("a", "b", "jar", "1"), List.of(GuestClasspath.coordinates("   a:b:jar:1 -- module b")));
    }

    @Test
    void aHostOnlyJarInAFlatFolderIsKnownByItsFileName(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        Path jar = tmp.resolve("hmm/lib/testcontainers-2.0.5.jar");
        java.nio.file.Files.createDirectories(jar.getParent());
        try (var out = new java.util.jar.JarOutputStream(java.nio.file.Files.newOutputStream(jar))) {
            out.putNextEntry(new java.util.jar.JarEntry("org/testcontainers/X.class"));
            out.closeEntry();
        }
        assertTrue(GuestClasspath.artifactOf(jar).isEmpty(), "precondition: the jar does not name itself");
        assertTrue(GuestClasspath.isHostOnlyFile(jar, java.util.Set.of("testcontainers-2.0.5")));
        assertFalse(GuestClasspath.isHostOnlyFile(jar, java.util.Set.of("testcontainers-2.0.4", "containers-2.0.5")));
        assertTrue(GuestClasspath.versioned(GuestClasspath.HOST_LIST).contains("org.testcontainers:testcontainers:2.0.5"),
                "precondition: Testcontainers 2.0.5 is on a host-side list");
        assertTrue(GuestClasspath.forGuest(List.of(jar)).isEmpty(), "staged from a flat folder");
    }
}
