package dev.hmmmirror.vm.coverage;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Line coverage of the module's source files, per part of a run (the suite, the explorer) and joined.
 *
 * @param files per {@code kmod/*.c}: its text, lines with code, and the lines each part ran
 */
public record Coverage(Map<String, FileCoverage> files) {
    /** The files of the fault, invalidation, migration and exclusive code: the explorer's coverage goal. */
    public static final List<String> CORE = List.of("mirror.c", "events.c", "dmem.c", "exclusive.c");

    /**
     * One source file.
     *
     * @param source     its lines (index 0 is line 1)
     * @param executable the lines gcov counts (lines with code)
     * @param covered    per part, the lines that ran
     */
    public record FileCoverage(List<String> source, Set<Integer> executable, Map<String, Set<Integer>> covered) {
        /** Lines any part ran. */
        public Set<Integer> all() {
            Set<Integer> all = new TreeSet<>();
            covered.values().forEach(all::addAll);
            return all;
        }

        /** Lines {@code part} ran. */
        public Set<Integer> by(String part) {
            return covered.getOrDefault(part, Set.of());
        }
    }

    /** No files yet. */
    public static Coverage empty() {
        return new Coverage(Map.of());
    }

    /** This coverage with the lines one dump of {@code part} ran added. */
    Coverage with(String part, Map<String, Gcov.FileLines> dump) {
        Map<String, FileCoverage> out = new TreeMap<>(files);
        dump.forEach((name, lines) -> {
            FileCoverage old = out.get(name);
            Map<String, Set<Integer>> covered = new LinkedHashMap<>(old == null ? Map.of() : old.covered());
            Set<Integer> mine = new TreeSet<>(covered.getOrDefault(part, Set.of()));
            mine.addAll(lines.covered());
            covered.put(part, Set.copyOf(mine));
            Set<Integer> executable = new TreeSet<>(lines.executable());
            if (old != null) {
                executable.addAll(old.executable());
            }
            out.put(name, new FileCoverage(lines.source(), Set.copyOf(executable), Map.copyOf(covered)));
        });
        return new Coverage(Map.copyOf(new TreeMap<>(out)));
    }

    /** The parts that ran, in a fixed order: the suite, then the explorer, then any other. */
    public List<String> parts() {
        Set<String> seen = new TreeSet<>();
        files.values().forEach(f -> seen.addAll(f.covered().keySet()));
        List<String> out = new ArrayList<>();
        for (String p : List.of(ModuleCoverage.SUITE, ModuleCoverage.EXPLORER)) {
            if (seen.remove(p)) {
                out.add(p);
            }
        }
        out.addAll(seen);
        return out;
    }

    /** Lines with code in {@code names} (every file when null). */
    public int executable(List<String> names) {
        return files.entrySet().stream().filter(e -> names == null || names.contains(e.getKey()))
                .mapToInt(e -> e.getValue().executable().size()).sum();
    }

    /** Lines of {@code names} (every file when null) that {@code part} ran (any part when null). */
    public int covered(List<String> names, String part) {
        return files.entrySet().stream().filter(e -> names == null || names.contains(e.getKey()))
                .mapToInt(e -> (part == null ? e.getValue().all() : e.getValue().by(part)).size()).sum();
    }

    /** {@code covered / executable} as a percentage with one decimal, e.g. {@code 91.3 %}. */
    public static String percent(int covered, int executable) {
        return executable == 0 ? "-" : String.format("%.1f %%", 100.0 * covered / executable);
    }

    /** One line: each part's share and the joined share, of every file and of the core files. */
    public String summary() {
        if (files.isEmpty()) {
            return "no counters";
        }
        StringBuilder b = new StringBuilder();
        for (String p : parts()) {
            b.append(p).append(' ').append(percent(covered(null, p), executable(null))).append(", ");
        }
        b.append("both ").append(percent(covered(null, null), executable(null))).append(" of ")
                .append(executable(null)).append(" lines; fault, invalidation, migration and exclusive code (")
                .append(String.join(", ", CORE)).append("): ")
                .append(percent(covered(CORE, null), executable(CORE)));
        return b.toString();
    }
}
