package dev.hmmmirror.vm.image;

import dev.hmmmirror.vm.config.Settings;
import dev.hmmmirror.vm.host.SetupException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Finds the Debian mirror this machine's apt already uses, so that no mirror host is ever
 * written into the project. {@code HMM_DEBIAN_MIRROR} overrides it.
 */
public final class AptSources {
    private AptSources() {}

    /** The Debian archive URL to build guest roots from. */
    public static String debianMirror(Settings settings) {
        if (settings.debianMirror().isPresent()) {
            return settings.debianMirror().get();
        }
        return fromDirectory(Path.of("/etc/apt")).orElseThrow(() -> new SetupException(
                "no Debian mirror found in /etc/apt/sources.list or /etc/apt/sources.list.d: "
                        + "set HMM_DEBIAN_MIRROR to the URL of a Debian archive (the one ending in /debian)"));
    }

    /** The first Debian archive (not a security or third-party archive) configured under {@code aptDir}. */
    static Optional<String> fromDirectory(Path aptDir) {
        List<String> texts = new ArrayList<>();
        List<Boolean> deb822 = new ArrayList<>();
        Path list = aptDir.resolve("sources.list");
        try {
            if (Files.isRegularFile(list)) {
                texts.add(Files.readString(list));
                deb822.add(false);
            }
            Path d = aptDir.resolve("sources.list.d");
            if (Files.isDirectory(d)) {
                try (Stream<Path> files = Files.list(d).sorted()) {
                    for (Path f : files.toList()) {
                        String name = f.getFileName().toString();
                        if (name.endsWith(".sources") || name.endsWith(".list")) {
                            texts.add(Files.readString(f));
                            deb822.add(name.endsWith(".sources"));
                        }
                    }
                }
            }
        } catch (IOException e) {
            return Optional.empty();
        }
        for (int i = 0; i < texts.size(); i++) {
            Optional<String> m = deb822.get(i) ? fromDeb822(texts.get(i)) : fromOneLine(texts.get(i));
            if (m.isPresent()) {
                return m;
            }
        }
        return Optional.empty();
    }

    /** Parses deb822 {@code .sources} text. */
    static Optional<String> fromDeb822(String text) {
        for (String stanza : text.split("\\n\\s*\\n")) {
            String types = "", uris = "", suites = "", components = "";
            boolean enabled = true;
            for (String line : stanza.split("\\n")) {
                String l = line.strip();
                if (l.startsWith("#") || !l.contains(":")) {
                    continue;
                }
                String key = l.substring(0, l.indexOf(':')).strip().toLowerCase();
                String value = l.substring(l.indexOf(':') + 1).strip();
                switch (key) {
                    case "types" -> types = value;
                    case "uris" -> uris = value;
                    case "suites" -> suites = value;
                    case "components" -> components = value;
                    case "enabled" -> enabled = !value.equalsIgnoreCase("no");
                    default -> { }
                }
            }
            if (!enabled || !List.of(types.split("\\s+")).contains("deb")) {
                continue;
            }
            for (String uri : uris.split("\\s+")) {
                if (isDebianArchive(uri, List.of(suites.split("\\s+")), components)) {
                    return Optional.of(trimSlash(uri));
                }
            }
        }
        return Optional.empty();
    }

    /** Parses one-line-style {@code sources.list} text. */
    static Optional<String> fromOneLine(String text) {
        for (String line : text.split("\\n")) {
            String l = line.strip();
            if (!l.startsWith("deb ")) {
                continue;
            }
            String[] f = l.replaceAll("\\[[^]]*]", " ").strip().split("\\s+");
            if (f.length < 4) {
                continue;
            }
            String components = String.join(" ", List.of(f).subList(3, f.length));
            if (isDebianArchive(f[1], List.of(f[2]), components)) {
                return Optional.of(trimSlash(f[1]));
            }
        }
        return Optional.empty();
    }

    private static boolean isDebianArchive(String uri, List<String> suites, String components) {
        String u = trimSlash(uri);
        boolean plainSuite = suites.stream().anyMatch(s -> !s.isEmpty() && !s.contains("-") && !s.contains("/"));
        return (u.startsWith("http://") || u.startsWith("https://") || u.startsWith("file:"))
                && u.endsWith("/debian") && plainSuite && List.of(components.split("\\s+")).contains("main");
    }

    private static String trimSlash(String s) {
        return s.endsWith("/") ? s.substring(0, s.length() - 1) : s;
    }
}
