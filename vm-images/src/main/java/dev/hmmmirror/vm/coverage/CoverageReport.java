package dev.hmmmirror.vm.coverage;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes a run's module coverage: {@code summary.tsv} (file, lines with code, lines each part ran,
 * lines any part ran; then the same for the core files and for the whole module; the reports read it) and {@code index.html} (that table, then every file
 * listed with each line marked by who ran it).
 */
public final class CoverageReport {
    /** The table's file name in a run's {@code coverage/} folder. */
    public static final String SUMMARY = "summary.tsv";

    private CoverageReport() {}

    /** Writes {@code summary.tsv} and {@code index.html} into {@code dir}. */
    public static void write(Coverage c, Path dir) throws IOException {
        Files.createDirectories(dir);
        List<String> parts = c.parts();
        StringBuilder tsv = new StringBuilder("file\tlines");
        parts.forEach(p -> tsv.append('\t').append(p));
        tsv.append("\tall\n");
        for (var e : c.files().entrySet()) {
            tsv.append(e.getKey()).append('\t').append(e.getValue().executable().size());
            parts.forEach(p -> tsv.append('\t').append(e.getValue().by(p).size()));
            tsv.append('\t').append(e.getValue().all().size()).append('\n');
        }
        for (var total : List.of(Map.entry("fault+invalidation+migration+exclusive (" + String.join(" ", Coverage.CORE)
                + ")", Coverage.CORE), Map.entry("module", List.<String>of()))) {
            List<String> files = total.getValue().isEmpty() ? null : total.getValue();
            tsv.append(total.getKey()).append('\t').append(c.executable(files));
            parts.forEach(p -> tsv.append('\t').append(c.covered(files, p)));
            tsv.append('\t').append(c.covered(files, null)).append('\n');
        }
        Files.writeString(dir.resolve(SUMMARY), tsv, StandardCharsets.UTF_8);
        Files.writeString(dir.resolve("index.html"), html(c, parts), StandardCharsets.UTF_8);
    }

    /** Reads a {@code summary.tsv}: its header, then one row per file. */
    public static List<List<String>> read(Path summary) throws IOException {
        List<List<String>> rows = new ArrayList<>();
        for (String l : Files.readAllLines(summary)) {
            if (!l.isBlank()) {
                rows.add(List.of(l.split("\t")));
            }
        }
        return rows;
    }

    private static String html(Coverage c, List<String> parts) {
        StringBuilder b = new StringBuilder("<!doctype html><meta charset=utf-8><title>hmm_mirror.ko line coverage"
                + "</title><style>body{font:14px sans-serif;margin:1em}table{border-collapse:collapse}"
                + "td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}td:first-child{text-align:left}"
                + "pre{font:12px monospace;margin:0}pre span{display:block}.both{background:#c8f0c8}"
                + ".suite{background:#d8e8ff}.explorer{background:#ffe8b0}.none{background:#f8c8c8}</style>"
                + "<h1>hmm_mirror.ko: line coverage</h1><p>Lines with code that ran, by part of the run. Listing "
                + "colours: <span class=both>both</span> <span class=suite>suite only</span> "
                + "<span class=explorer>explorer only</span> <span class=none>never</span>.</p><table><tr><th>file"
                + "<th>lines");
        parts.forEach(p -> b.append("<th>").append(p));
        b.append("<th>all</tr>");
        for (var e : c.files().entrySet()) {
            row(b, "<a href=\"#" + e.getKey() + "\">" + e.getKey() + "</a>", c, List.of(e.getKey()), parts);
        }
        row(b, "<b>fault, invalidation, migration, exclusive</b> (" + String.join(", ", Coverage.CORE) + ")", c,
                Coverage.CORE, parts);
        row(b, "<b>module</b>", c, null, parts);
        b.append("</table>");
        for (Map.Entry<String, Coverage.FileCoverage> e : c.files().entrySet()) {
            b.append("<h2 id=\"").append(e.getKey()).append("\">").append(e.getKey()).append("</h2><pre>");
            Coverage.FileCoverage f = e.getValue();
            Set<Integer> all = f.all();
            for (int n = 1; n <= f.source().size(); n++) {
                final int line = n;
                String cls = !f.executable().contains(n) ? "" : !all.contains(n) ? "none"
                        : parts.size() > 1 && parts.stream().allMatch(p -> f.by(p).contains(line)) ? "both"
                        : f.by(ModuleCoverage.SUITE).contains(n) ? "suite" : "explorer";
                b.append(cls.isEmpty() ? "<span>" : "<span class=" + cls + ">")
                        .append(String.format("%5d  ", n)).append(escape(f.source().get(n - 1))).append("</span>");
            }
            b.append("</pre>");
        }
        return b.toString();
    }

    private static void row(StringBuilder b, String label, Coverage c, List<String> files, List<String> parts) {
        int lines = c.executable(files);
        b.append("<tr><td>").append(label).append("<td>").append(lines);
        for (String p : parts) {
            b.append("<td>").append(Coverage.percent(c.covered(files, p), lines));
        }
        b.append("<td>").append(Coverage.percent(c.covered(files, null), lines)).append("</tr>");
    }

    private static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
}
