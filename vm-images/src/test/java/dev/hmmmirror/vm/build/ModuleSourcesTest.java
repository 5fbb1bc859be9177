package dev.hmmmirror.vm.build;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hmmmirror.vm.config.Settings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The module's sources travel in the artifact, and a project without a checkout builds from them. */
class ModuleSourcesTest {
    private static final Path ROOT = Settings.fromEnvironment().projectRoot().orElseThrow();

    @Test
    void theShippedSourcesAreTheCheckoutsSources(@TempDir Path tmp) throws IOException {
        Path dir = ModuleSources.extract(tmp.resolve("src"));
        for (String folder : ModuleSources.folders()) {
            try (Stream<Path> files = Files.list(ROOT.resolve(folder))) {
                for (Path f : files.filter(ModuleSourcesTest::isModuleSource).toList()) {
                    Path copy = dir.resolve(folder).resolve(f.getFileName().toString());
                    assertTrue(Files.isRegularFile(copy), "the artifact lacks " + folder + "/" + f.getFileName());
                    assertArrayEquals(Files.readAllBytes(f), Files.readAllBytes(copy), folder + "/" + f.getFileName());
                }
            }
        }
        assertTrue(Files.isRegularFile(dir.resolve("kmod/dkms.conf")));
    }

    @Test
    void withoutACheckoutTheShippedSourcesAreUsed(@TempDir Path tmp) {
        Settings none = Settings.from(Map.<String, String>of()::get, k -> null);
        assertEquals(tmp.resolve("x"), ModuleSources.resolve(none, tmp.resolve("x")));
        Settings checkout = Settings.from(Map.of("hmm.root", ROOT.toString())::get, k -> null);
        assertEquals(ROOT, ModuleSources.resolve(checkout, tmp.resolve("y")));
    }

    private static boolean isModuleSource(Path f) {
        String n = f.getFileName().toString();
        return n.endsWith(".c") || n.endsWith(".h") || n.equals("Kbuild") || n.equals("Makefile");
    }
}
