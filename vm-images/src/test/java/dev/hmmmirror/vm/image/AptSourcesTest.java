package dev.hmmmirror.vm.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hmmmirror.vm.config.Settings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AptSourcesTest {
    @Test
    void deb822PicksTheMainArchiveNotSecurityOrThirdParty() {
        String text = """
                Types: deb
                URIs: http://mirror.example/debian-security
                Suites: bookworm-security
                Components: main

                Types: deb
                # a comment
                URIs: http://mirror.example/debian/
                Suites: bookworm bookworm-updates
                Components: main contrib
                Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
                """;
        assertEquals(Optional.of("http://mirror.example/debian"), AptSources.fromDeb822(text));
    }

    @Test
    void disabledStanzasAndSourceOnlyAreIgnored() {
        String text = """
                Types: deb
                URIs: http://a.example/debian
                Suites: bookworm
                Components: main
                Enabled: no

                Types: deb-src
                URIs: http://b.example/debian
                Suites: bookworm
                Components: main
                """;
        assertEquals(Optional.empty(), AptSources.fromDeb822(text));
    }

    @Test
    void oneLineFormatWithOptions() {
        String text = """
                # deb http://old.example/debian bookworm main
                deb https://packages.example.com/apt cloud-sdk main
                deb [arch=amd64 signed-by=/k.gpg] http://c.example/debian/ bookworm main non-free
                """;
        assertEquals(Optional.of("http://c.example/debian"), AptSources.fromOneLine(text));
    }

    @Test
    void directoryScanPrefersSourcesListThenSortedParts(@TempDir Path apt) throws Exception {
        Files.createDirectories(apt.resolve("sources.list.d"));
        Files.writeString(apt.resolve("sources.list.d/a-thirdparty.list"), "deb https://x.example/repo stable main\n");
        Files.writeString(apt.resolve("sources.list.d/debian.sources"),
                "Types: deb\nURIs: http://d.example/debian\nSuites: trixie\nComponents: main\n");
        assertEquals(Optional.of("http://d.example/debian"), AptSources.fromDirectory(apt));
    }

    @Test
    void thisMachineHasAMirror() {
        // the whole pipeline depends on it; the env var overrides the file lookup
        String m = AptSources.debianMirror(Settings.fromEnvironment());
        assertTrue(m.startsWith("http") || m.startsWith("file:"), m);
    }
}
