package dev.hmmmirror.suite;

import static dev.hmmmirror.suite.Html.a;
import static dev.hmmmirror.suite.Html.el;

import dev.hmmmirror.suite.Html.Element;
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
import java.util.Arrays;
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
            Files.write(dir.resolve("summary.json"), json(runs, parity));
            for (KernelRun r : runs) {
                String name = r.reportDir().getFileName().toString();
                Files.write(dir.resolve("junit-" + name + ".xml"), junitXml(r, OURS));
                if (!r.kernelSelftests().isEmpty()) {
                    Files.write(dir.resolve("junit-" + name + "-kselftest.xml"), junitXml(r, KERNELS));
                }
            }
            Files.writeString(dir.resolve("index.html"), html(runs, parity, dir), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** summary.json, UTF-8. */
    static byte[] json(List<KernelRun> runs, UpstreamParity parity) {
        return Summary.write(summary(runs, parity));
    }

    static Summary summary(List<KernelRun> runs, UpstreamParity parity) {
        List<Summary.Kernel> kernels = new ArrayList<>();
        for (KernelRun r : runs) {
            Summary.Outcomes ours = Summary.Outcomes.of(r.outcomes());
            List<Summary.Parity> rows = parity.entries().isEmpty() ? null : parity.entries().stream()
                    .map(e -> new Summary.Parity(e.upstream(), kernelCell(r, e.upstream()), oursCell(r, e), e.tests(),
                            e.note()))
                    .toList();
            kernels.add(new Summary.Kernel(r.profile(), r.kernelRelease(), r.exitCode(),
                    Summary.rounded(r.timing().init()), Summary.rounded(r.timing().agentReady()),
                    r.timing() == KernelRun.Timing.NONE ? null : Summary.rounded(r.timing().wall().toMillis() / 1000.0),
                    ours.totals(), ours.tests(),
                    r.kernelSelftests().isEmpty() ? null : Summary.Outcomes.of(r.kernelSelftests()), rows));
        }
        return new Summary(exitCode(runs), kernels);
    }

    /** A JUnit XML report (UTF-8) of one run's outcomes: ours or the kernel's own selftests. */
    static byte[] junitXml(KernelRun r, Function<KernelRun, List<TestOutcome>> which) {
        return JunitXml.of((which == OURS ? "hmm-mirror guest suite" : "kernel hmm selftests") + " (" + r.profile() + ")",
                r.kernelRelease(), which.apply(r));
    }

    private static final String CSS = "body{font-family:sans-serif;margin:1em 2em}table{border-collapse:collapse;"
            + "margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top}"
            + "td{white-space:nowrap}th{font-size:90%}td.n{text-align:right}.pass{background:#dfd}"
            + ".FAIL,.SPLAT,.NOBOOT{background:#fdd}.skip{background:#eee}small{color:#555}"
            + "pre{background:#f6f6f6;font-size:11px;max-height:20em;overflow:auto}";

    /**
     * One self-contained page (no script, no external file) that leads with what a reader of a big
     * matrix wants first: the totals per kernel (with boot and guest-JVM-ready times and the
     * kernel's own selftests beside ours), then the tests whose result differs between kernels,
     * then the failures with their console lines, then every test with its duration, the kernel's
     * own selftests, the upstream parity table and the module's line coverage.
     */
    static String html(List<KernelRun> runs, Path dir) throws IOException {
        return html(runs, UpstreamParity.NONE, dir);
    }

    /** As {@link #html(List, Path)}, with the upstream parity table after the kernel's own selftests. */
    static String html(List<KernelRun> runs, UpstreamParity parity, Path dir) throws IOException {
        long bad = runs.stream().mapToLong(r -> r.outcomes().stream().filter(Reports::isBad).count()).sum();
        List<String> differing = differing(runs, OURS);
        Element body = el("body").add(
                el("h1", "hmm-mirror guest suite: exit code " + exitCode(runs)).id("verdict"),
                el("p", runs.size() + " kernel(s); " + (bad == 0 ? "no failures" : bad + " failure(s)") + "; "
                        + differing.size() + " test(s) with different results between kernels."),
                htmlTotals(runs),
                el("h2", "Tests whose result differs between kernels (" + differing.size() + ")").id("differences"),
                differing.isEmpty() ? el("p", "None: every test has the same result on every kernel.")
                        : htmlTable(runs, OURS, differing),
                el("h2", "Failures (" + bad + ")").id("failures"));
        if (bad == 0 && runs.stream().allMatch(r -> r.kernelSelftests().stream().noneMatch(Reports::isBad))) {
            body.add(el("p", "None."));
        }
        for (KernelRun r : runs) {
            String folder = r.reportDir().getFileName().toString();
            for (TestOutcome o : concat(r.outcomes(), r.kernelSelftests())) {
                if (isBad(o)) {
                    body.add(el("h3", r.profile() + ": " + o.name() + " " + o.status()).id(anchor(r, o)),
                            el("p").text(o.message() + " (").add(a(folder + "/console.log", "console.log"))
                                    .text(" lines " + o.consoleLines() + ")"),
                            el("pre", consoleExcerpt(dir.resolve(folder).resolve("console.log"), o.consoleLines())));
                }
            }
        }
        body.add(el("h2", "Every test, with its duration").id("all"), htmlTable(runs, OURS, testNames(runs, OURS)));
        if (runs.stream().anyMatch(r -> !r.kernelSelftests().isEmpty())) {
            body.add(el("h2", "The kernel's own hmm selftests (test_hmm + hmm-tests, same guest; not counted in the "
                    + "exit code)").id("kselftests"), htmlTable(runs, KERNELS, testNames(runs, KERNELS)));
        }
        if (!parity.entries().isEmpty()) {
            Element table = el("table");
            for (String[] row : parityRows(runs, parity)) {
                table.add(el("tr").add(Arrays.stream(row).map(c -> el("td", c.strip())).toList()));
            }
            body.add(el("h2", "Upstream hmm-tests and ours (per kernel: the kernel's own result, device-private / "
                    + "device-coherent variant | our mapped tests)").id("parity"), table);
        }
        body.add(htmlCoverage(runs));
        return Html.page(el("html").attr("lang", "en").add(
                el("head").add(el("meta").attr("charset", "utf-8"),
                        el("title", "hmm-mirror suite: exit code " + exitCode(runs)), new Html.Style(CSS)),
                body));
    }

    /** Each run's line coverage of the module (kernels with gcov), from its {@code coverage/summary.tsv}. */
    private static List<Element> htmlCoverage(List<KernelRun> runs) {
        List<Element> out = new ArrayList<>();
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
            Element table = el("table").add(el("tr").add(rows.getFirst().stream().map(h -> el("th", h)).toList()));
            for (List<String> row : rows.subList(1, rows.size())) {
                Element tr = el("tr").add(el("td", row.getFirst()), el("td", row.get(1)).cls("n"));
                int lines = Integer.parseInt(row.get(1));
                for (String c : row.subList(2, row.size())) {
                    tr.add(el("td", Coverage.percent(Integer.parseInt(c), lines)).cls("n"));
                }
                table.add(tr);
            }
            out.add(el("h2").id("coverage-" + folder).text(r.profile() + ": line coverage of hmm_mirror.ko (")
                    .add(a(folder + "/coverage/index.html", "every line")).text(")"));
            out.add(table);
        }
        return out;
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

    private static Element htmlTotals(List<KernelRun> runs) {
        Element head = el("tr").add(el("th", "kernel"), el("th", "release"));
        for (TestOutcome.Status s : TestOutcome.Status.values()) {
            head.add(el("th", s.symbol()));
        }
        head.add(el("th").text("kernel's selftests").add(el("br"), el("small", "pass / FAIL / skip")),
                el("th", "QEMU start to /init"), el("th", "guest JVM ready"), el("th", "whole run"),
                el("th", "exit code"), el("th", "files"));
        Element table = el("table").id("totals").add(head);
        for (KernelRun r : runs) {
            String folder = r.reportDir().getFileName().toString();
            Element row = el("tr").add(el("td", r.profile()), el("td", r.kernelRelease()));
            for (TestOutcome.Status s : TestOutcome.Status.values()) {
                long n = count(r.outcomes(), s);
                row.add(el("td", String.valueOf(n)).cls(n > 0 && s != TestOutcome.Status.PASSED
                        && s != TestOutcome.Status.SKIPPED ? "n " + s.symbol() : "n"));
            }
            List<TestOutcome> k = r.kernelSelftests();
            row.add(el("td", k.isEmpty() ? "not run" : count(k, TestOutcome.Status.PASSED) + " / "
                    + count(k, TestOutcome.Status.FAILED) + " / " + count(k, TestOutcome.Status.SKIPPED)).cls("n"),
                    el("td", secs(r.timing().init())).cls("n"),
                    el("td", secs(r.timing().agentReady())).cls("n"),
                    el("td", r.timing() == KernelRun.Timing.NONE ? "?" : secs(r.timing().wall().toMillis() / 1000.0))
                            .cls("n"),
                    el("td", String.valueOf(r.exitCode())).cls("n"),
                    el("td").add(a(folder + "/console.log", "console")).text(" ").add(a(folder + "/dmesg.txt", "dmesg")));
            table.add(row);
        }
        return table;
    }

    private static String secs(double s) {
        return s < 0 ? "?" : String.format(Locale.ROOT, "%.1f s", s);
    }

    private static Element htmlTable(List<KernelRun> runs, Function<KernelRun, List<TestOutcome>> which,
            List<String> tests) {
        Element table = el("table").add(el("tr").add(el("th", "test"))
                .add(runs.stream().map(r -> el("th", r.profile())).toList()));
        for (String t : tests) {
            Element row = el("tr").add(el("td", t));
            for (KernelRun r : runs) {
                String s = cell(which.apply(r), t);
                TestOutcome o = which.apply(r).stream().filter(c -> c.name().equals(t)).findFirst().orElse(null);
                Element td = el("td").cls(s).attr("title", o == null ? "" : o.message());
                td.add(o != null && isBad(o) ? a("#" + anchor(r, o), s) : new Html.Text(s));
                if (o != null && o.seconds() >= 0 && o.status() != TestOutcome.Status.SKIPPED) {
                    td.text(" ").add(el("small", String.format(Locale.ROOT, "%.1f s", o.seconds())));
                }
                row.add(td);
            }
            table.add(row);
        }
        return table;
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
}
