package dev.hmmmirror.suite;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hmmmirror.vm.session.GuestClasspath;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.JarFile;
import org.junit.jupiter.api.Test;

/**
 * The libraries only the suite runner uses (Jackson, for summary.json) stay on the host: a guest
 * started from a JVM that has the suite runner on its classpath ({@code hmm suite}) is not staged
 * with them, while it still gets the JUnit launcher and the bindings.
 */
class HostOnlyLibrariesTest {
    private static boolean holds(List<Path> entries, String classFile) {
        return entries.stream().anyMatch(p -> {
            if (Files.isDirectory(p)) {
                return Files.exists(p.resolve(classFile));
            }
            try (JarFile jar = new JarFile(p.toFile())) {
                return jar.getEntry(classFile) != null;
            } catch (IOException e) {
                return false;
            }
        });
    }

    @Test
    void jacksonIsNotStagedIntoAGuest() {
        List<Path> all = GuestClasspath.current();
        assertTrue(holds(all, "com/fasterxml/jackson/databind/ObjectMapper.class"), "precondition: Jackson on the host");
        List<Path> guest = GuestClasspath.forGuest(all);
        for (String hostOnly : List.of("com/fasterxml/jackson/databind/ObjectMapper.class",
                "com/fasterxml/jackson/core/JsonGenerator.class", "com/fasterxml/jackson/annotation/JsonInclude.class")) {
            assertFalse(holds(guest, hostOnly), hostOnly + " staged: " + guest);
        }
        assertTrue(holds(guest, "org/junit/platform/launcher/Launcher.class"), "the JUnit launcher: " + guest);
        assertTrue(holds(guest, "dev/hmmmirror/HmmDevice.class"), "java-bindings: " + guest);
    }
}
