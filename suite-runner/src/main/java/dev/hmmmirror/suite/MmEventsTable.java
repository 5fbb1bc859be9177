package dev.hmmmirror.suite;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The event x kernel table of the mm-event guest tests: each test appends a row
 * ({@code kernel, event, invalidation reasons, outcome}) to {@code out/mm-events.tsv} of its guest
 * run; this collects the rows of every run folder under the given roots into one Markdown table,
 * one column per kernel. docs/mm-events.md's table is this output.
 *
 * <pre>java -cp suite-runner/target/classes dev.hmmmirror.suite.MmEventsTable ROOT... &gt; table.md</pre>
 */
public final class MmEventsTable {
    /** The file the guest tests write, relative to a run folder. */
    public static final String FILE = "out/mm-events.tsv";

    private MmEventsTable() {}

    /** One observation. */
    public record Row(String kernel, String event, String reasons, String outcome) {
        static Row parse(String line) {
            String[] f = line.split("\t", -1);
            if (f.length != 4) {
                throw new IllegalArgumentException("not a kernel/event/reasons/outcome row: " + line);
            }
            return new Row(f[0], f[1], f[2], f[3]);
        }
    }

    /** Every row of every {@code mm-events.tsv} under {@code roots} (the last row wins per kernel and event). */
    public static List<Row> collect(List<Path> roots) {
        Map<String, Row> rows = new LinkedHashMap<>();
        for (Path root : roots) {
            if (!Files.isDirectory(root)) {
                continue;
            }
            try (Stream<Path> s = Files.walk(root)) {
                for (Path p : s.filter(p -> p.endsWith(Path.of(FILE))).sorted().toList()) {
                    for (String line : Files.readAllLines(p, StandardCharsets.UTF_8)) {
                        if (!line.isBlank()) {
                            Row r = Row.parse(line);
                            rows.put(r.kernel() + "\t" + r.event(), r);
                        }
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return List.copyOf(rows.values());
    }

    /** The Markdown table: one row per event, one column per kernel; a cell is "reasons: outcome". */
    public static String markdown(List<Row> rows) {
        List<String> kernels = rows.stream().map(Row::kernel).distinct().sorted().toList();
        Map<String, Map<String, Row>> byEvent = new TreeMap<>();
        for (Row r : rows) {
            byEvent.computeIfAbsent(r.event(), e -> new LinkedHashMap<>()).put(r.kernel(), r);
        }
        StringBuilder b = new StringBuilder("| event |");
        List<String> sep = new ArrayList<>(List.of("---"));
        for (String k : kernels) {
            b.append(' ').append(k).append(" |");
            sep.add("---");
        }
        b.append("\n|").append(String.join("|", sep)).append("|\n");
        byEvent.forEach((event, cells) -> {
            b.append("| ").append(event).append(" |");
            for (String k : kernels) {
                Row r = cells.get(k);
                b.append(' ').append(r == null ? "(not run)" : cell(r)).append(" |");
            }
            b.append('\n');
        });
        return b.toString();
    }

    private static String cell(Row r) {
        return (r.reasons().equals("none") ? "" : r.reasons() + ": ") + r.outcome().replace("|", "/");
    }

    public static void main(String[] args) {
        if (args.length == 0) {
            System.err.println("usage: MmEventsTable ROOT...   (folders holding guest runs with " + FILE + ")");
            System.exit(2);
        }
        List<Row> rows = collect(Stream.of(args).map(Path::of).toList());
        if (rows.isEmpty()) {
            System.err.println("no " + FILE + " under " + String.join(" ", args) + ": run the mm-event guest tests first");
            System.exit(1);
        }
        System.out.print(markdown(rows));
    }
}
