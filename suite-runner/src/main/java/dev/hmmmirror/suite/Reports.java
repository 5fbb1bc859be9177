package dev.hmmmirror.suite;

import dev.hmmmirror.vm.boot.Console;
import dev.hmmmirror.vm.coverage.Coverage;
import dev.hmmmirror.vm.coverage.CoverageReport;
import dev.hmmmirror.vm.result.TestOutcome;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Function;

/**
 * The results of suite runs as a table (kernel x test) on the console, and as {@code summary.json},
 * {@code junit-<profile>.xml} and {@code index.html} in the report folder. A failing test's HTML
 * row shows the console lines around it.
 */
public final class Reports {
    private Reports() {}

    /** The worst exit code over all runs: 125 no boot, 2 kernel splat, 1 failures, 0 all passed. */
    public static int exitCode(List<KernelRun> runs) {
        int worst = 0;
        for (KernelRun r : runs) {
            int c = r.exitCode();
            worst = c == 125 || worst == 125 ? 125 : Math.max(worst, c);
        }
        return worst;
    }

    /** Our suite's outcomes of a run. */
    static final Function<KernelRun, List<TestOutcome>> OURS = KernelRun::outcomes;

    /** The kernel's own hmm selftests' outcomes of a run. */
    static final Function<KernelRun, List<TestOutcome>> KERNELS = KernelRun::kernelSelftests;

    private static List<String> testNames(List<KernelRun> runs, Function<KernelRun, List<TestOutcome>> which) {
        Set<String> names = new LinkedHashSet<>();
        runs.forEach(r -> which.apply(r).forEach(o -> names.add(o.name())));
        return new ArrayList<>(names);
    }

    private static String cell(List<TestOutcome> outcomes, String test) {
        return outcomes.stream().filter(o -> o.name().equals(test)).map(o -> o.status().symbol()).findFirst()
                .orElse("-");
    }

    private static long count(List<TestOutcome> outcomes, TestOutcome.Status s) {
        return outcomes.stream().filter(o -> o.status() == s).count();
    }

    /** Prints the kernel x test table with totals; then the kernel's own selftests' table where they ran. */
    public static void printTable(List<KernelRun> runs, PrintStream out) {
        printTable(runs, UpstreamParity.NONE, out);
    }

    /**
     * As {@link #printTable(List, PrintStream)}, then, with a {@code parity} map, each upstream
     * hmm-tests name with the kernel's own results (device-private / device-coherent variant) and
     * our mapped tests' result, per kernel.
     */
    public static void printTable(List<KernelRun> runs, UpstreamParity parity, PrintStream out) {
        printTable(runs, OURS, out);
        if (runs.stream().anyMatch(r -> !r.kernelSelftests().isEmpty())) {
            out.println();
            out.println("the kernel's own hmm selftests (test_hmm + hmm-tests, same guest; not counted in the exit code):");
            printTable(runs, KERNELS, out);
        }
        if (!parity.entries().isEmpty()) {
            out.println();
            out.println("upstream hmm-tests and ours (per kernel: the kernel's result private/coherent | ours; "
                    + "map: guest-tests upstream-parity.txt):");
            for (String[] row : parityRows(runs, parity)) {
                out.println(String.join("  ", row));
            }
        }
    }

    /** Rows of the parity table: header, then one per upstream test, then kernel selftests the map lacks. */
    static List<String[]> parityRows(List<KernelRun> runs, UpstreamParity parity) {
        List<String[]> rows = new ArrayList<>();
        int w = Math.max(28, parity.entries().stream().mapToInt(e -> e.upstream().length()).max().orElse(28));
        List<String> head = new ArrayList<>(List.of(String.format(Locale.ROOT, "%-" + w + "s", "upstream test")));
        runs.forEach(r -> head.add(String.format(Locale.ROOT, "%-22s", r.profile())));
        head.add("our tests");
        rows.add(head.toArray(String[]::new));
        for (UpstreamParity.Entry e : parity.entries()) {
            List<String> row = new ArrayList<>(List.of(String.format(Locale.ROOT, "%-" + w + "s", e.upstream())));
            for (KernelRun r : runs) {
                row.add(String.format(Locale.ROOT, "%-22s", kernelCell(r, e.upstream()) + " | " + oursCell(r, e)));
            }
            row.add(String.join(", ", e.tests()) + (e.note().isEmpty() ? "" : "  (" + e.note() + ")"));
            rows.add(row.toArray(String[]::new));
        }
        Set<String> unmapped = new LinkedHashSet<>();
        runs.forEach(r -> r.kernelSelftests().stream().map(UpstreamParity::upstreamName)
                .filter(n -> !n.startsWith("(") && parity.entry(n).isEmpty()).forEach(unmapped::add));
        for (String n : unmapped) {
            rows.add(new String[] {String.format(Locale.ROOT, "%-" + w + "s", n), "NOT MAPPED: a new upstream test; "
                    + "add it to upstream-parity.txt"});
        }
        return rows;
    }

    private static String kernelCell(KernelRun r, String upstream) {
        List<TestOutcome> k = r.kernelSelftests().stream().filter(o -> UpstreamParity.upstreamName(o).equals(upstream)).toList();
        if (k.isEmpty()) {
            return "-";
        }
        String priv = k.stream().filter(o -> UpstreamParity.variant(o).contains("private")).map(o -> o.status().symbol())
                .findFirst().orElse("-");
        String coh = k.stream().filter(o -> UpstreamParity.variant(o).contains("coherent")).map(o -> o.status().symbol())
                .findFirst().orElse("-");
        return priv + "/" + coh;
    }

    private static String oursCell(KernelRun r, UpstreamParity.Entry e) {
        return UpstreamParity.combined(r.outcomes(), e).map(TestOutcome.Status::symbol).orElse("-");
    }

    private static void printTable(List<KernelRun> runs, Function<KernelRun, List<TestOutcome>> which, PrintStream out) {
        List<String> tests = testNames(runs, which);
        int w = Math.max(20, tests.stream().mapToInt(String::length).max().orElse(20));
        int cw = Math.max(16, runs.stream().mapToInt(r -> r.profile().length()).max().orElse(16));
        String col = "  %-" + cw + "s";
        StringBuilder head = new StringBuilder(String.format(Locale.ROOT, "%-" + w + "s", "test"));
        runs.forEach(r -> head.append(String.format(Locale.ROOT, col, r.profile())));
        out.println(head);
        for (String t : tests) {
            StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "%-" + w + "s", t));
            runs.forEach(r -> row.append(String.format(Locale.ROOT, col, cell(which.apply(r), t))));
            out.println(row);
        }
        for (TestOutcome.Status s : TestOutcome.Status.values()) {
            StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "%-" + w + "s", "total " + s.symbol()));
            runs.forEach(r -> row.append(String.format(Locale.ROOT, col, count(which.apply(r), s))));
            out.println(row);
        }
        StringBuilder rel = new StringBuilder(String.format(Locale.ROOT, "%-" + w + "s", "kernel"));
        runs.forEach(r -> rel.append(String.format(Locale.ROOT, col, r.kernelRelease().isEmpty() ? "?" : r.kernelRelease())));
        out.println(rel);
    }

    /** Writes summary.json, junit-&lt;profile&gt;.xml and index.html into {@code dir}. */
    public static void write(List<KernelRun> runs, Path dir) {
        write(runs, UpstreamParity.NONE, dir);
    }

    /** As {@link #write(List, Path)}, with the upstream parity table in index.html and summary.json. */
    public static void write(List<KernelRun> runs, UpstreamParity parity, Path dir) {
        try {
            Files.createDirectories(dir);
            Files.writeString(dir.resolve("summary.json"), json(runs, parity), StandardCharsets.UTF_8);
            for (KernelRun r : runs) {
                String name = r.reportDir().getFileName().toString();
                Files.writeString(dir.resolve("junit-" + name + ".xml"), junitXml(r, OURS), StandardCharsets.UTF_8);
                if (!r.kernelSelftests().isEmpty()) {
                    Files.writeString(dir.resolve("junit-" + name + "-kselftest.xml"), junitXml(r, KERNELS),
                            StandardCharsets.UTF_8);
                }
            }
            Files.writeString(dir.resolve("index.html"), html(runs, parity, dir), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String json(List<KernelRun> runs) {
        return json(runs, UpstreamParity.NONE);
    }

    static String json(List<KernelRun> runs, UpstreamParity parity) {
        StringBuilder b = new StringBuilder("{\n  \"exitCode\": ").append(exitCode(runs)).append(",\n  \"kernels\": [");
        for (int i = 0; i < runs.size(); i++) {
            KernelRun r = runs.get(i);
            b.append(i == 0 ? "\n" : ",\n").append("    {\"profile\": ").append(q(r.profile()))
                    .append(", \"kernel\": ").append(q(r.kernelRelease()))
                    .append(", \"exitCode\": ").append(r.exitCode())
                    .append(", \"initSeconds\": ").append(num(r.timing().init()))
                    .append(", \"agentReadySeconds\": ").append(num(r.timing().agentReady()))
                    .append(", \"wallSeconds\": ").append(r.timing() == KernelRun.Timing.NONE ? "null"
                            : num(r.timing().wall().toMillis() / 1000.0)).append(", ");
            outcomesJson(b, r.outcomes());
            if (!r.kernelSelftests().isEmpty()) {
                b.append(",\n     \"kernelSelftests\": {");
                outcomesJson(b, r.kernelSelftests());
                b.append("}");
            }
            if (!parity.entries().isEmpty()) {
                b.append(",\n     \"upstreamParity\": [");
                for (int e = 0; e < parity.entries().size(); e++) {
                    UpstreamParity.Entry en = parity.entries().get(e);
                    b.append(e == 0 ? "\n" : ",\n").append("       {\"upstream\": ").append(q(en.upstream()))
                            .append(", \"kernel\": ").append(q(kernelCell(r, en.upstream())))
                            .append(", \"ours\": ").append(q(oursCell(r, en))).append(", \"tests\": [");
                    for (int t = 0; t < en.tests().size(); t++) {
                        b.append(t == 0 ? "" : ", ").append(q(en.tests().get(t)));
                    }
                    b.append("], \"note\": ").append(q(en.note())).append("}");
                }
                b.append("]");
            }
            b.append("}");
        }
        return b.append("\n  ]\n}\n").toString();
    }

    private static void outcomesJson(StringBuilder b, List<TestOutcome> outcomes) {
        b.append("\"totals\": {");
        TestOutcome.Status[] all = TestOutcome.Status.values();
        for (int s = 0; s < all.length; s++) {
            b.append(s == 0 ? "" : ", ").append(q(all[s].name().toLowerCase(Locale.ROOT))).append(": ")
                    .append(count(outcomes, all[s]));
        }
        b.append("},\n     \"tests\": [");
        for (int t = 0; t < outcomes.size(); t++) {
            TestOutcome o = outcomes.get(t);
            b.append(t == 0 ? "\n" : ",\n").append("       {\"class\": ").append(q(o.testClass()))
                    .append(", \"test\": ").append(q(o.test())).append(", \"status\": ")
                    .append(q(o.status().name().toLowerCase(Locale.ROOT))).append(", \"message\": ")
                    .append(q(o.message())).append(", \"consoleLines\": ").append(q(o.consoleLines()))
                    .append(", \"seconds\": ").append(num(o.seconds())).append("}");
        }
        b.append("]");
    }

    private static String num(double v) {
        return v < 0 ? "null" : String.format(Locale.ROOT, "%.3f", v);
    }

    static String junitXml(KernelRun r, Function<KernelRun, List<TestOutcome>> which) {
        List<TestOutcome> outcomes = which.apply(r);
        StringBuilder b = new StringBuilder("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        long failures = count(outcomes, TestOutcome.Status.FAILED);
        long errors = count(outcomes, TestOutcome.Status.KERNEL_SPLAT) + count(outcomes, TestOutcome.Status.BOOT_FAILED);
        b.append("<testsuite name=\"").append(which == OURS ? "hmm-mirror guest suite" : "kernel hmm selftests")
                .append(" (").append(x(r.profile())).append(")\" tests=\"")
                .append(outcomes.size()).append("\" failures=\"").append(failures).append("\" errors=\"").append(errors)
                .append("\" skipped=\"").append(count(outcomes, TestOutcome.Status.SKIPPED)).append("\">\n");
        b.append("  <properties><property name=\"kernel\" value=\"").append(x(r.kernelRelease())).append("\"/></properties>\n");
        for (TestOutcome o : outcomes) {
            b.append("  <testcase classname=\"").append(x(o.testClass())).append("\" name=\"").append(x(o.test()))
                    .append("\" time=\"").append(o.seconds() < 0 ? "0" : String.format(Locale.ROOT, "%.3f", o.seconds()))
                    .append("\"");
            switch (o.status()) {
                case PASSED -> b.append("/>\n");
                case SKIPPED -> b.append("><skipped message=\"").append(x(o.message())).append("\"/></testcase>\n");
                case FAILED -> b.append("><failure message=\"").append(x(o.message())).append("\"/></testcase>\n");
                case KERNEL_SPLAT, BOOT_FAILED -> b.append("><error type=\"").append(o.status()).append("\" message=\"")
                        .append(x(o.message())).append("\"/></testcase>\n");
            }
        }
        return b.append("</testsuite>\n").toString();
    }

    /**
     * One self-contained page (no script, no external file) that leads with what a reader of a big
     * matrix wants first: the totals per kernel (with boot and guest-JVM-ready times and the
     * kernel's own selftests beside ours), then the tests whose result differs between kernels,
     * then the failures with their console lines, then every test with its duration.
     */
    static String html(List<KernelRun> runs, Path dir) throws IOException {
        return html(runs, UpstreamParity.NONE, dir);
    }

    /** As {@link #html(List, Path)}, with the upstream parity table after the kernel's own selftests. */
    static String html(List<KernelRun> runs, UpstreamParity parity, Path dir) throws IOException {
        StringBuilder b = new StringBuilder("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
                + "<title>hmm-mirror suite: exit code " + exitCode(runs) + "</title>"
                + "<style>body{font-family:sans-serif;margin:1em 2em}table{border-collapse:collapse;margin:.5em 0 1.5em}"
                + "td,th{border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top}td{white-space:nowrap}th{font-size:90%}td.n{text-align:right}"
                + ".pass{background:#dfd}.FAIL,.SPLAT,.NOBOOT{background:#fdd}.skip{background:#eee}"
                + "small{color:#555}pre{background:#f6f6f6;font-size:11px;max-height:20em;overflow:auto}</style></head><body>");
        long bad = runs.stream().mapToLong(r -> r.outcomes().stream().filter(Reports::isBad).count()).sum();
        List<String> differing = differing(runs, OURS);
        b.append("<h1 id=\"verdict\">hmm-mirror guest suite: exit code ").append(exitCode(runs)).append("</h1><p>")
                .append(runs.size()).append(" kernel(s); ").append(bad == 0 ? "no failures" : bad + " failure(s)")
                .append("; ").append(differing.size()).append(" test(s) with different results between kernels.</p>");
        htmlTotals(b, runs);
        b.append("<h2 id=\"differences\">Tests whose result differs between kernels (").append(differing.size())
                .append(")</h2>");
        if (differing.isEmpty()) {
            b.append("<p>None: every test has the same result on every kernel.</p>");
        } else {
            htmlTable(b, runs, OURS, differing);
        }
        b.append("<h2 id=\"failures\">Failures (").append(bad).append(")</h2>");
        if (bad == 0 && runs.stream().allMatch(r -> r.kernelSelftests().stream().noneMatch(Reports::isBad))) {
            b.append("<p>None.</p>");
        }
        if (!parity.entries().isEmpty()) {
            b.append("<h2>Upstream hmm-tests and ours (per kernel: the kernel's own result, device-private / "
                    + "device-coherent variant | our mapped tests)</h2><table>");
            for (String[] row : parityRows(runs, parity)) {
                b.append("<tr>");
                for (String c : row) {
                    b.append("<td>").append(x(c.strip())).append("</td>");
                }
                b.append("</tr>");
            }
            b.append("</table>");
        }
        for (KernelRun r : runs) {
            String folder = r.reportDir().getFileName().toString();
            for (TestOutcome o : concat(r.outcomes(), r.kernelSelftests())) {
                if (!isBad(o)) {
                    continue;
                }
                b.append("<h3 id=\"").append(x(anchor(r, o))).append("\">").append(x(r.profile())).append(": ")
                        .append(x(o.name())).append(" ").append(o.status()).append("</h3><p>").append(x(o.message()))
                        .append(" (<a href=\"").append(x(folder)).append("/console.log\">console.log</a> lines ")
                        .append(x(o.consoleLines())).append(")</p>");
                b.append("<pre>").append(x(consoleExcerpt(dir.resolve(folder).resolve("console.log"), o.consoleLines())))
                        .append("</pre>");
            }
        }
        b.append("<h2 id=\"all\">Every test, with its duration</h2>");
        htmlTable(b, runs, OURS, testNames(runs, OURS));
        if (runs.stream().anyMatch(r -> !r.kernelSelftests().isEmpty())) {
            b.append("<h2 id=\"kselftests\">The kernel's own hmm selftests (test_hmm + hmm-tests, same guest; not counted "
                    + "in the exit code)</h2>");
            htmlTable(b, runs, KERNELS, testNames(runs, KERNELS));
        }
        if (!parity.entries().isEmpty()) {
            b.append("<h2 id=\"parity\">Upstream hmm-tests and ours (per kernel: the kernel's own result, device-private / "
                    + "device-coherent variant | our mapped tests)</h2><table>");
            for (String[] row : parityRows(runs, parity)) {
                b.append("<tr>");
                for (String c : row) {
                    b.append("<td>").append(x(c.strip())).append("</td>");
                }
                b.append("</tr>");
            }
            b.append("</table>");
        }
        htmlCoverage(b, runs);
        return b.append("</body></html>\n").toString();
    }

    /** Each run's line coverage of the module (kernels with gcov), from its {@code coverage/summary.tsv}. */
    private static void htmlCoverage(StringBuilder b, List<KernelRun> runs) {
        for (KernelRun r : runs) {
            Path tsv = r.reportDir().resolve("coverage").resolve(CoverageReport.SUMMARY);
            if (!Files.isRegularFile(tsv)) {
                continue;
            }
            String folder = r.reportDir().getFileName().toString();
            List<List<String>> rows;
            try {
                rows = CoverageReport.read(tsv);
            } catch (IOException e) {
                continue;
            }
            b.append("<h2 id=\"coverage-").append(x(folder)).append("\">").append(x(r.profile()))
                    .append(": line coverage of hmm_mirror.ko (<a href=\"").append(x(folder))
                    .append("/coverage/index.html\">every line</a>)</h2><table><tr>");
            for (String h : rows.getFirst()) {
                b.append("<th>").append(x(h)).append("</th>");
            }
            b.append("</tr>");
            for (List<String> row : rows.subList(1, rows.size())) {
                b.append("<tr><td>").append(x(row.getFirst())).append("</td><td class=\"n\">").append(x(row.get(1)))
                        .append("</td>");
                int lines = Integer.parseInt(row.get(1));
                for (String c : row.subList(2, row.size())) {
                    b.append("<td class=\"n\">").append(Coverage.percent(Integer.parseInt(c), lines)).append("</td>");
                }
                b.append("</tr>");
            }
            b.append("</table>");
        }
    }

    private static boolean isBad(TestOutcome o) {
        return o.status() != TestOutcome.Status.PASSED && o.status() != TestOutcome.Status.SKIPPED;
    }

    /** Tests (of {@code which}) whose status is not the same on every kernel that ran them; a missing one counts as "-". */
    static List<String> differing(List<KernelRun> runs, Function<KernelRun, List<TestOutcome>> which) {
        List<String> out = new ArrayList<>();
        if (runs.size() < 2) {
            return out;
        }
        for (String t : testNames(runs, which)) {
            if (runs.stream().map(r -> cell(which.apply(r), t)).distinct().count() > 1) {
                out.add(t);
            }
        }
        return out;
    }

    private static void htmlTotals(StringBuilder b, List<KernelRun> runs) {
        b.append("<table id=\"totals\"><tr><th>kernel</th><th>release</th>");
        for (TestOutcome.Status s : TestOutcome.Status.values()) {
            b.append("<th>").append(s.symbol()).append("</th>");
        }
        b.append("<th>kernel's selftests<br><small>pass / FAIL / skip</small></th><th>QEMU start to /init</th>"
                + "<th>guest JVM ready</th><th>whole run</th><th>exit code</th><th>files</th></tr>");
        for (KernelRun r : runs) {
            String folder = r.reportDir().getFileName().toString();
            b.append("<tr><td>").append(x(r.profile())).append("</td><td>").append(x(r.kernelRelease())).append("</td>");
            for (TestOutcome.Status s : TestOutcome.Status.values()) {
                long n = count(r.outcomes(), s);
                b.append("<td class=\"n").append(n > 0 && s != TestOutcome.Status.PASSED && s != TestOutcome.Status.SKIPPED
                        ? " " + s.symbol() : "").append("\">").append(n).append("</td>");
            }
            List<TestOutcome> k = r.kernelSelftests();
            b.append("<td class=\"n\">").append(k.isEmpty() ? "not run" : count(k, TestOutcome.Status.PASSED) + " / "
                    + count(k, TestOutcome.Status.FAILED) + " / " + count(k, TestOutcome.Status.SKIPPED)).append("</td>")
                    .append("<td class=\"n\">").append(secs(r.timing().init())).append("</td><td class=\"n\">")
                    .append(secs(r.timing().agentReady())).append("</td><td class=\"n\">")
                    .append(r.timing() == KernelRun.Timing.NONE ? "?" : secs(r.timing().wall().toMillis() / 1000.0))
                    .append("</td><td class=\"n\">").append(r.exitCode()).append("</td><td><a href=\"").append(x(folder))
                    .append("/console.log\">console</a> <a href=\"").append(x(folder)).append("/dmesg.txt\">dmesg</a></td></tr>");
        }
        b.append("</table>");
    }

    private static String secs(double s) {
        return s < 0 ? "?" : String.format(Locale.ROOT, "%.1f s", s);
    }

    private static void htmlTable(StringBuilder b, List<KernelRun> runs, Function<KernelRun, List<TestOutcome>> which,
            List<String> tests) {
        b.append("<table><tr><th>test</th>");
        for (KernelRun r : runs) {
            b.append("<th>").append(x(r.profile())).append("</th>");
        }
        b.append("</tr>");
        for (String t : tests) {
            b.append("<tr><td>").append(x(t)).append("</td>");
            for (KernelRun r : runs) {
                String s = cell(which.apply(r), t);
                TestOutcome o = which.apply(r).stream().filter(c -> c.name().equals(t)).findFirst().orElse(null);
                String time = o == null || o.seconds() < 0 || o.status() == TestOutcome.Status.SKIPPED ? ""
                        : String.format(Locale.ROOT, " <small>%.1f s</small>", o.seconds());
                b.append("<td class=\"").append(s).append("\" title=\"").append(o == null ? "" : x(o.message())).append("\">")
                        .append(o != null && isBad(o) ? "<a href=\"#" + x(anchor(r, o)) + "\">" + s + "</a>" : s)
                        .append(time).append("</td>");
            }
            b.append("</tr>");
        }
        b.append("</table>");
    }

    private static String anchor(KernelRun r, TestOutcome o) {
        return (r.reportDir().getFileName() + "-" + o.name()).replaceAll("[^A-Za-z0-9_.-]", "_");
    }

    private static List<TestOutcome> concat(List<TestOutcome> a, List<TestOutcome> b) {
        List<TestOutcome> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }

    /** Console lines {@code from-to} (1-based, inclusive), with 20 lines before, capped at 300. */
    static String consoleExcerpt(Path console, String range) throws IOException {
        if (!Files.isRegularFile(console)) {
            return "(no console log)";
        }
        List<String> lines = Files.readAllLines(console, StandardCharsets.ISO_8859_1);
        int from = 1;
        int to = lines.size();
        if (range.matches("\\d+-\\d+")) {
            from = Integer.parseInt(range.substring(0, range.indexOf('-')));
            to = Integer.parseInt(range.substring(range.indexOf('-') + 1));
        } else {
            from = Math.max(1, to - 60);
        }
        from = Math.max(1, from - 20);
        to = Math.min(lines.size(), Math.min(to, from + 300));
        return String.join("\n", lines.subList(from - 1, Math.max(from - 1, to)));
    }

    private static String q(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : (s == null ? "" : s).toCharArray()) {
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString();
    }

    private static String x(String s) {
        return (s == null ? "" : s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
