package dev.hmmmirror.vm.build;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hmmmirror.vm.config.Settings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The BOM a user's project imports names every artifact we publish, at our version, with our JUnit. */
class BomTest {
    private static final Path ROOT = Settings.fromEnvironment().projectRoot().orElseThrow();

    private static String tag(String pom, String name) {
        Matcher m = Pattern.compile("<" + Pattern.quote(name) + ">([^<]*)</").matcher(pom);
        assertTrue(m.find(), "no <" + name + ">");
        return m.group(1);
    }

    @Test
    void theBomNamesEveryPublishedModuleAtTheParentsVersions() throws IOException {
        String parent = Files.readString(ROOT.resolve("pom.xml"));
        String bom = Files.readString(ROOT.resolve("bom/pom.xml"));
        String version = tag(parent.substring(parent.indexOf("<artifactId>hmm-mirror-parent")), "version");
        assertEquals(version, tag(bom, "hmm-mirror.version"), "bom/pom.xml's hmm-mirror.version");
        assertEquals(version, tag(bom.substring(bom.indexOf("<artifactId>hmm-mirror-bom")), "version"));
        assertEquals(tag(parent, "junit.version"), tag(bom, "junit.version"), "bom/pom.xml's junit.version");
        Matcher modules = Pattern.compile("<module>([^<]+)</module>").matcher(parent);
        while (modules.find()) {
            String module = modules.group(1);
            if (module.equals("bom") || module.equals("guest-tests")) {
                continue; // the BOM itself; our own suite is not a library
            }
            String artifact = tag(Files.readString(ROOT.resolve(module).resolve("pom.xml"))
                    .replaceFirst("(?s)<parent>.*?</parent>", ""), "artifactId");
            assertTrue(bom.contains("<artifactId>" + artifact + "</artifactId>"), "the BOM lacks " + artifact);
        }
    }
}
