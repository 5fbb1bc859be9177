package dev.hmmmirror.vm.coverage;

import dev.hmmmirror.vm.build.ModuleCoverageBuild;
import dev.hmmmirror.vm.host.Toolchain;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.commons.io.file.PathUtils;

/**
 * Runs gcov over one copy of the module's counters: in the toolchain that built the module, in a
 * scratch directory at the path the build had (gcov finds sources by the path the compiler saw),
 * with the kept notes and sources and the copied {@code .gcda} files; reads the {@code .c.gcov}
 * listings it writes.
 */
final class Gcov {
    /** {@code count:line:text}: count is {@code -} (no code), {@code #####}/{@code =====} (never run) or a number. */
    private static final Pattern LINE = Pattern.compile("^\\s*([^:]+):\\s*(\\d+):(.*)$");

    private final Toolchain toolchain;
    private final ModuleCoverageBuild build;
    private final Path log;

    /** The lines of one source file: its text, the lines with code, and those that ran. */
    record FileLines(List<String> source, Set<Integer> executable, Set<Integer> covered) {}

    Gcov(Toolchain toolchain, ModuleCoverageBuild build, Path reportDir) throws IOException {
        this.toolchain = toolchain;
        this.build = build;
        this.log = Files.createDirectories(reportDir).resolve("gcov.log");
    }

    /** The lines of each {@code kmod/*.c} that the counters in {@code gcda} (a folder of .gcda files) say ran. */
    Map<String, FileLines> lines(Path gcda) throws IOException {
        Path work = toolchain.scratch(build.scratch());
        try {
            for (String sub : List.of("kmod", "native-headers")) {
                PathUtils.copyDirectory(build.dir().resolve(sub), work.resolve(sub));
            }
            try (Stream<Path> files = Files.list(gcda)) {
                for (Path f : files.filter(f -> f.toString().endsWith(".gcda")).toList()) {
                    Files.copy(f, work.resolve("kmod").resolve(f.getFileName()));
                }
            }
            String kmod = toolchain.path(work.resolve("kmod"));
            toolchain.run(log, 300, "cd " + kmod + " && g=$(command -v gcov || ls /usr/bin/gcov-[0-9]* | head -n 1)"
                    + " && for n in *.gcno; do \"$g\" -o . \"${n%.gcno}.c\" > /dev/null; done");
            Map<String, FileLines> out = new TreeMap<>();
            try (Stream<Path> files = Files.list(work.resolve("kmod"))) {
                for (Path f : files.filter(f -> f.getFileName().toString().endsWith(".c.gcov")).sorted().toList()) {
                    String name = f.getFileName().toString().replaceFirst("\\.gcov$", "");
                    if (Files.isRegularFile(work.resolve("kmod").resolve(name))) { // not a kernel header's listing
                        out.put(name, parse(Files.readAllLines(f)));
                    }
                }
            }
            return out;
        } finally {
            PathUtils.deleteDirectory(work);
        }
    }

    /** Parses a gcov listing. */
    static FileLines parse(List<String> listing) {
        List<String> source = new ArrayList<>();
        Set<Integer> executable = new TreeSet<>();
        Set<Integer> covered = new TreeSet<>();
        for (String l : listing) {
            Matcher m = LINE.matcher(l);
            if (!m.matches()) {
                continue;
            }
            int n = Integer.parseInt(m.group(2));
            if (n == 0) {
                continue;
            }
            String count = m.group(1).trim();
            while (source.size() < n) {
                source.add("");
            }
            source.set(n - 1, m.group(3));
            if (count.equals("-")) {
                continue;
            }
            executable.add(n);
            if (!count.startsWith("#") && !count.startsWith("=") && Long.parseLong(count.replace("*", "")) > 0) {
                covered.add(n);
            }
        }
        return new FileLines(List.copyOf(source), Set.copyOf(executable), Set.copyOf(covered));
    }
}
