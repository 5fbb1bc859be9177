package dev.hmmmirror;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/** Fails when native-headers/hmm_mirror.h changed but the jextract bindings were not regenerated. */
class HeaderHashTest {
    @Test
    void bindingsWereGeneratedFromTheCurrentHeader() throws Exception {
        Path root = LayoutProbeTest.ROOT;
        Properties generated = new Properties();
        try (InputStream in = Files.newInputStream(root.resolve("java-bindings/src/generated/GENERATED.properties"))) {
            generated.load(in);
        }
        Path header = root.resolve(generated.getProperty("header"));
        String actual = HexFormat.of().formatHex(
                MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(header)));
        assertEquals(generated.getProperty("sha256"), actual,
                header + " changed since the bindings were generated: run ci/regenerate-bindings.sh "
                        + "with an installed jextract (docs/bindings.md) and commit the result");
    }
}
