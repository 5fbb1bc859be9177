package dev.hmmmirror.mutate;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A campaign's report: the mutation score of each detector alone and of all together (killed /
 * mutants that built, booted and are not equivalent), the mutant x detector table led by the
 * survivors, each killed mutant with its first failing assertion, and the time per mutant (rebuild,
 * boot, detectors). Printed, and written as {@code report.json} and {@code report.html}.
 */
public final class Report {
    private Report() {}

    /** The order of the table: what needs attention first. */
    private static final List<Verdict> ORDER = List.of(Verdict.SURVIVED, Verdict.TIMEOUT, Verdict.BOOT_FAILURE,
            Verdict.BUILD_FAILURE, Verdict.KILLED, Verdict.EQUIVALENT, Verdict.BASELINE);

    /** A score: mutants killed of those that count. */
    public record Score(long killed, long of) {
        public double percent() {
            return of == 0 ? 0 : 100.0 * killed / of;
        }

        @Override
        public String toString() {
            return of == 0 ? "-" : String.format(Locale.ROOT, "%d/%d = %.0f %%", killed, of, percent());
        }
    }

    /** The mutants in table order: survivors first, the baseline last. */
    static List<MutantResult> ordered(Map<String, MutantResult> results) {
        List<MutantResult> rows = new ArrayList<>(results.values());
        rows.sort(Comparator.comparingInt((MutantResult r) -> ORDER.indexOf(r.verdict())).thenComparing(MutantResult::name));
        return rows;
    }

    /** Mutants that count in a score: they built, booted, and are not equivalent (a timeout counts as not killed). */
    static boolean counts(MutantResult r) {
        return r.verdict() == Verdict.KILLED || r.verdict() == Verdict.SURVIVED || r.verdict() == Verdict.TIMEOUT;
    }

    /** The score of detector {@code d} alone (mutants it ran on), or of all together when {@code d} is null. */
    public static Score score(Map<String, MutantResult> results, Detector d) {
        long killed = 0;
        long of = 0;
        for (MutantResult r : results.values()) {
            if (!counts(r)) {
                continue;
            }
            if (d == null) {
                of++;
                killed += r.verdict() == Verdict.KILLED ? 1 : 0;
            } else if (r.detectors().containsKey(d) && r.detectors().get(d).status() != Verdict.BOOT_FAILURE) {
                of++;
                killed += r.detectors().get(d).killed() ? 1 : 0;
            }
        }
        return new Score(killed, of);
    }

    /** Prints the table and writes report.json and report.html into {@code dir}. */
    public static void write(Path dir, Map<String, MutantResult> results, PrintStream out) {
        List<MutantResult> rows = ordered(results);
        out.println();
        out.printf(Locale.ROOT, "%-44s %-13s %-10s %-10s %-10s %8s %8s  %s%n", "mutant", "verdict", "selftests", "suite",
                "explorer", "build", "total", "first failure / reason");
        for (MutantResult r : rows) {
            out.printf(Locale.ROOT, "%-44s %-13s %-10s %-10s %-10s %8s %8s  %s%n", cut(r.name(), 44), r.verdict().label(),
                    cell(r, Detector.SELFTESTS), cell(r, Detector.SUITE), cell(r, Detector.EXPLORER),
                    Campaign.secs(r.buildSeconds()), Campaign.secs(r.seconds()),
                    cut(r.verdict() == Verdict.KILLED ? r.firstFailure() : r.reason(), 100).replace('\n', ' '));
        }
        out.println();
        out.println("mutation score (killed / mutants that built, booted and are not equivalent):");
        for (Detector d : List.of(Detector.SELFTESTS, Detector.SUITE, Detector.EXPLORER)) {
            out.printf(Locale.ROOT, "  %-28s %s%n", d == Detector.SELFTESTS ? "kernel hmm-tests alone" : d == Detector.SUITE
                    ? "our suite alone" : "the explorer alone", score(results, d));
        }
        out.printf(Locale.ROOT, "  %-28s %s%n", "together", score(results, null));
        files(dir, results);
        out.println("report: " + dir.resolve("report.html") + " (report.json; per mutant: results.json)");
    }

    /** Writes report.json and report.html into {@code dir}. */
    static void files(Path dir, Map<String, MutantResult> results) {
        List<MutantResult> rows = ordered(results);
        try {
            Files.writeString(dir.resolve("report.json"), Json.write(json(rows, results)), StandardCharsets.UTF_8);
            Files.writeString(dir.resolve("report.html"), html(rows, results), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the report into " + dir, e);
        }
    }

    private static String cell(MutantResult r, Detector d) {
        DetectorResult x = r.detectors().get(d);
        return x == null ? "-" : x.status().label();
    }

    static Map<String, Object> json(List<MutantResult> rows, Map<String, MutantResult> results) {
        Map<String, Object> doc = new LinkedHashMap<>();
        Map<String, Object> scores = new LinkedHashMap<>();
        for (Detector d : Detector.values()) {
            scores.put(d.label(), scoreJson(score(results, d)));
        }
        scores.put("together", scoreJson(score(results, null)));
        doc.put("scores", scores);
        Map<String, Object> counts = new LinkedHashMap<>();
        for (Verdict v : ORDER) {
            counts.put(v.label(), results.values().stream().filter(r -> r.verdict() == v).count());
        }
        doc.put("counts", counts);
        List<Object> table = new ArrayList<>();
        for (MutantResult r : rows) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("mutant", r.name());
            row.put("description", r.description());
            row.put("verdict", r.verdict().label());
            for (Detector d : Detector.values()) {
                row.put(d.label(), cell(r, d));
            }
            row.put("killedBy", r.killers().stream().map(Detector::label).toList());
            row.put("firstFailure", r.firstFailure());
            row.put("reason", r.reason());
            row.put("buildSeconds", r.buildSeconds());
            row.put("compiled", r.compiled());
            row.put("imageSeconds", r.imageSeconds());
            row.put("bootSeconds", r.detectors().values().stream().mapToDouble(DetectorResult::bootSeconds)
                    .filter(b -> b > 0).average().orElse(-1));
            row.put("detectorSeconds", r.detectors().values().stream().mapToDouble(DetectorResult::seconds).sum());
            row.put("seconds", r.seconds());
            row.put("memoryCorrupting", r.memoryCorrupting());
            table.add(row);
        }
        doc.put("table", table);
        return doc;
    }

    private static Map<String, Object> scoreJson(Score s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("killed", s.killed());
        m.put("of", s.of());
        m.put("percent", s.percent());
        return m;
    }

    static String html(List<MutantResult> rows, Map<String, MutantResult> results) {
        StringBuilder b = new StringBuilder("""
                <!DOCTYPE html><html><head><meta charset="utf-8"><title>hmm mutate: mutation campaign</title><style>
                body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse}td,th{border:1px solid #ccc;
                padding:.25em .5em;vertical-align:top}.killed{background:#cfc}.survived{background:#fcc}
                .timeout,.boot-failure,.build-failure{background:#ffd}.equivalent,.baseline{background:#eee}
                .n{text-align:right}pre{margin:0;white-space:pre-wrap;font-size:85%}</style></head><body>
                <h1>Mutation campaign</h1><h2>Mutation score</h2><table><tr><th>detector</th><th>killed</th></tr>
                """);
        for (Detector d : List.of(Detector.SELFTESTS, Detector.SUITE, Detector.EXPLORER)) {
            b.append("<tr><td>").append(d == Detector.SELFTESTS ? "the kernel's hmm-tests alone" : d == Detector.SUITE
                    ? "our guest suite alone" : "the explorer alone").append("</td><td class=\"n\">")
                    .append(x(score(results, d).toString())).append("</td></tr>\n");
        }
        b.append("<tr><th>together</th><th class=\"n\">").append(x(score(results, null).toString()))
                .append("</th></tr></table>\n<h2>Mutants (survivors first)</h2><table><tr><th>mutant</th><th>verdict</th>"
                        + "<th>hmm-tests</th><th>suite</th><th>explorer</th><th>rebuild</th><th>image</th><th>boot</th><th>total</th>"
                        + "<th>first failing assertion / reason</th></tr>\n");
        for (MutantResult r : rows) {
            b.append("<tr><td><b>").append(x(r.name())).append("</b><br>").append(x(r.description())).append("</td>")
                    .append("<td class=\"").append(r.verdict().label()).append("\">").append(r.verdict().label()).append("</td>");
            for (Detector d : List.of(Detector.SELFTESTS, Detector.SUITE, Detector.EXPLORER)) {
                String c = cell(r, d);
                b.append("<td class=\"").append(c).append("\">").append(c).append("</td>");
            }
            double boot = r.detectors().values().stream().mapToDouble(DetectorResult::bootSeconds).filter(s -> s > 0)
                    .average().orElse(-1);
            b.append("<td class=\"n\">").append(Campaign.secs(r.buildSeconds())).append(r.compiled() > 0 ? "<br>"
                    + r.compiled() + " files" : "").append("</td><td class=\"n\">").append(Campaign.secs(r.imageSeconds()))
                    .append("</td><td class=\"n\">").append(Campaign.secs(boot))
                    .append("</td><td class=\"n\">").append(Campaign.secs(r.seconds())).append("</td><td><pre>")
                    .append(x(r.verdict() == Verdict.KILLED ? r.firstFailure() + "\n(" + r.reason() + ")" : r.reason()));
            r.detectors().values().stream().flatMap(d -> d.splats().stream()).findFirst()
                    .ifPresent(s -> b.append("\n\nfirst kernel report:\n").append(x(s)));
            b.append("</pre></td></tr>\n");
        }
        return b.append("</table></body></html>\n").toString();
    }

    private static String cut(String s, int n) {
        String one = s == null ? "" : s.lines().findFirst().orElse("");
        return one.length() <= n ? one : one.substring(0, n - 1) + "…";
    }

    private static String x(String s) {
        return s == null ? "" : s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
