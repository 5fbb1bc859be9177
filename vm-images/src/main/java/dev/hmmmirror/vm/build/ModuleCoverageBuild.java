package dev.hmmmirror.vm.build;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.stream.Stream;

/**
 * What a gcov build of {@code hmm_mirror.ko} leaves in its cache entry for line coverage: the
 * compiler's notes files ({@code *.gcno}), the sources they describe, and where the build ran. gcov
 * finds a source by the absolute path the compiler saw, so coverage is computed in a scratch
 * directory of the same name, in the same toolchain ({@link #scratchName}).
 *
 * @param dir     {@code <entry>/gcov}: {@code kmod/} (sources + notes) and {@code native-headers/}
 * @param scratch the toolchain scratch directory's name the module was built in
 * @param objdir  the module's object directory as the toolchain saw it (the kernel keeps the
 *                counters under {@code /sys/kernel/debug/gcov<objdir>/})
 */
public record ModuleCoverageBuild(Path dir, String scratch, String objdir) {
    private static final String PROPERTIES = "build.properties";

    /** Whether the kernel of {@code config} (its .config) has gcov support for modules. */
    public static boolean kernelHasGcov(Path config) {
        if (config == null || !Files.isRegularFile(config)) {
            return false;
        }
        try (Stream<String> lines = Files.lines(config)) {
            return lines.anyMatch("CONFIG_GCOV_KERNEL=y"::equals);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + config, e);
        }
    }

    /** The scratch directory's name for a module build with cache key {@code key}. */
    static String scratchName(String key) {
        return "hmm-kmod-" + ProcessHandle.current().pid() + "-" + key;
    }

    /**
     * Copies the notes and sources of the build in {@code work} ({@code kmod/}, {@code native-headers/}) into
     * {@code entry/gcov}, with the scratch directory's name and the object directory the toolchain saw.
     */
    public static void keep(Path work, String scratch, String objdir, Path entry) throws IOException {
        Path dir = entry.resolve("gcov");
        for (String sub : List.of("kmod", "native-headers")) {
            Files.createDirectories(dir.resolve(sub));
            try (Stream<Path> files = Files.list(work.resolve(sub))) {
                for (Path f : files.filter(ModuleCoverageBuild::kept).toList()) {
                    Files.copy(f, dir.resolve(sub).resolve(f.getFileName()));
                }
            }
        }
        Properties p = new Properties();
        p.setProperty("scratch", scratch);
        p.setProperty("objdir", objdir);
        try (var out = Files.newBufferedWriter(dir.resolve(PROPERTIES))) {
            p.store(out, "hmm_mirror.ko built with GCOV_PROFILE");
        }
    }

    /** The gcov build kept next to {@code ko}, if the module was built with gcov. */
    public static Optional<ModuleCoverageBuild> of(Path ko) {
        Path dir = ko.toAbsolutePath().getParent().resolve("gcov");
        if (!Files.isRegularFile(dir.resolve(PROPERTIES))) {
            return Optional.empty();
        }
        Properties p = new Properties();
        try (var in = Files.newBufferedReader(dir.resolve(PROPERTIES))) {
            p.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + dir.resolve(PROPERTIES), e);
        }
        return Optional.of(new ModuleCoverageBuild(dir, p.getProperty("scratch"), p.getProperty("objdir")));
    }

    private static boolean kept(Path f) {
        String n = f.getFileName().toString();
        return n.endsWith(".gcno") || n.endsWith(".c") || n.endsWith(".h");
    }
}
