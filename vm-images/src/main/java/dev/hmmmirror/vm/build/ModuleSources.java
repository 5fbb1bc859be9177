package dev.hmmmirror.vm.build;

import dev.hmmmirror.vm.config.Settings;
import dev.hmmmirror.vm.host.SetupException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.commons.io.file.PathUtils;

/**
 * Where the module's sources ({@code kmod/} and {@code native-headers/}) come from: a checkout named
 * by {@code hmm.root}, else the copy this artifact ships (resources under {@value #RESOURCE}), so
 * that a project outside this repository needs no checkout.
 */
public final class ModuleSources {
    static final String RESOURCE = "dev/hmmmirror/vm/module-source";

    private ModuleSources() {}

    /**
     * A directory holding {@code kmod/} and {@code native-headers/}: {@code settings}' project root,
     * or the shipped sources extracted into {@code scratch} (emptied first).
     */
    public static Path resolve(Settings settings, Path scratch) {
        return settings.projectRoot().orElseGet(() -> extract(scratch));
    }

    /** Copies the shipped sources into {@code dir} (emptied first) and returns it. */
    public static Path extract(Path dir) {
        URL url = ModuleSources.class.getClassLoader().getResource(RESOURCE + "/kmod/Kbuild");
        if (url == null) {
            throw new SetupException("the hmm_mirror module's sources are missing from the vm-images artifact ("
                    + RESOURCE + "): rebuild it with Maven, or pass -Dhmm.root=/path/to/hmm-mirror (HMM_ROOT)");
        }
        try {
            if (Files.exists(dir)) {
                PathUtils.deleteDirectory(dir);
            }
            Files.createDirectories(dir);
            URI kbuild = url.toURI();
            if ("jar".equals(kbuild.getScheme())) {
                try (FileSystem jar = FileSystems.newFileSystem(kbuild, Map.of())) {
                    copy(jar.getPath("/" + RESOURCE), dir);
                }
            } else {
                copy(Path.of(kbuild).getParent().getParent(), dir);
            }
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot extract the module's sources into " + dir, e);
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void copy(Path from, Path to) throws IOException {
        try (Stream<Path> files = Files.walk(from)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                Path target = to.resolve(from.relativize(f).toString());
                Files.createDirectories(target.getParent());
                Files.copy(f, target);
            }
        }
    }

    /** The folders a module build reads (hashed into its cache key). */
    static List<String> folders() {
        return List.of("kmod", "native-headers");
    }
}
