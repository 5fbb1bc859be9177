package dev.hmmmirror.suite;

import static dev.hmmmirror.suite.Html.a;
import static dev.hmmmirror.suite.Html.el;
import static dev.hmmmirror.suite.Runs.KERNELS;
import static dev.hmmmirror.suite.Runs.OURS;
import static dev.hmmmirror.suite.Runs.PEER;
import static dev.hmmmirror.suite.Runs.cell;
import static dev.hmmmirror.suite.Runs.count;
import static dev.hmmmirror.suite.Runs.differing;
import static dev.hmmmirror.suite.Runs.exitCode;
import static dev.hmmmirror.suite.Runs.isBad;
import static dev.hmmmirror.suite.Runs.parityRows;
import static dev.hmmmirror.suite.Runs.testNames;

import dev.hmmmirror.suite.Html.Element;
import dev.hmmmirror.vm.coverage.Coverage;
import dev.hmmmirror.vm.coverage.CoverageReport;
import dev.hmmmirror.vm.result.TestOutcome;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/** {@code index.html}: the suite's results as one page, built with {@link Html} (escaped by construction). */
final class ReportPage {
    private static final String CSS = "body{font-family:sans-serif;margin:1em 2em}table{border-collapse:collapse;"
            + "margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top}"
            + "td{white-space:nowrap}th{font-size:90%}td.n{text-align:right}.pass{background:#dfd}"
            + ".FAIL,.SPLAT,.NOBOOT{background:#fdd}.skip{background:#eee}small{color:#555}"
            + "pre{background:#f6f6f6;font-size:11px;max-height:20em;overflow:auto}";

    private ReportPage() {}

    /**
     * One self-contained page (no script, no external file) that leads with what a reader of a big
     * matrix wants first: the totals per kernel (with boot and guest-JVM-ready times and the
     * kernel's own selftests beside ours), then the tests whose result differs between kernels,
     * then the failures with their console lines, then every test with its duration, the kernel's
     * own selftests, the upstream parity table and the module's line coverage.
     */
    static String of(List<KernelRun> runs, UpstreamParity parity, Path dir) throws IOException {
        long bad = runs.stream().mapToLong(r -> r.outcomes().stream().filter(Runs::isBad).count()).sum();
        List<String> differing = differing(runs, OURS);
        boolean mixed = ArchDifferences.applies(runs);
        ArchDifferences arch = mixed ? ArchDifferences.of(runs) : null;
        Element body = el("body").add(
                el("h1", "hmm-mirror guest suite: exit code " + exitCode(runs)).id("verdict"),
                el("p", runs.size() + " kernel(s)" + (mixed ? " on " + ArchDifferences.platforms(runs) : "") + "; "
                        + (bad == 0 ? "no failures" : bad + " failure(s)") + "; "
                        + (mixed ? arch.count() + " test(s) with different results between architectures; " : "")
                        + differing.size() + " test(s) with different results between kernels."));
        if (mixed) {
            body.add(archDifferences(arch));
        }
        body.add(totals(runs),
                el("h2", "Tests whose result differs between kernels (" + differing.size() + ")").id("differences"),
                differing.isEmpty() ? el("p", "None: every test has the same result on every kernel.")
                        : table(runs, OURS, differing),
                el("h2", "Failures (" + bad + ")").id("failures"));
        if (bad == 0 && runs.stream().allMatch(r -> concat(r.kernelSelftests(), r.peerSuite()).stream()
                .noneMatch(Runs::isBad))) {
            body.add(el("p", "None."));
        }
        for (KernelRun r : runs) {
            String folder = r.reportDir().getFileName().toString();
            for (TestOutcome o : concat(concat(r.outcomes(), r.kernelSelftests()), r.peerSuite())) {
                if (isBad(o)) {
                    body.add(el("h3", r.profile() + ": " + o.name() + " " + o.status()).id(anchor(r, o)),
                            el("p").text(o.message() + " (").add(a(folder + "/console.log", "console.log"))
                                    .text(" lines " + o.consoleLines() + ")"),
                            el("pre", consoleExcerpt(dir.resolve(folder).resolve("console.log"), o.consoleLines())));
                }
            }
        }
        body.add(el("h2", "Every test, with its duration").id("all"), table(runs, OURS, testNames(runs, OURS)));
        if (runs.stream().anyMatch(r -> !r.kernelSelftests().isEmpty())) {
            body.add(el("h2", "The kernel's own hmm selftests (test_hmm + hmm-tests, same guest; not counted in the "
                    + "exit code)").id("kselftests"), table(runs, KERNELS, testNames(runs, KERNELS)));
        }
        if (runs.stream().anyMatch(r -> !r.peerSuite().isEmpty())) {
            body.add(el("h2", "rdma-core ODP tests (pyverbs tests.test_odp against rxe, same guest; not counted in the "
                    + "exit code unless a kernel splat)").id("rdma-core"), table(runs, PEER, testNames(runs, PEER)));
        }
        if (!parity.entries().isEmpty()) {
            Element table = el("table");
            for (String[] row : parityRows(runs, parity)) {
                table.add(el("tr").add(Arrays.stream(row).map(c -> el("td", c.strip())).toList()));
            }
            body.add(el("h2", "Upstream hmm-tests and ours (per kernel: the kernel's own result, device-private / "
                    + "device-coherent variant | our mapped tests)").id("parity"), table);
        }
        body.add(coverage(runs));
        return Html.page(el("html").attr("lang", "en").add(
                el("head").add(el("meta").attr("charset", "utf-8"),
                        el("title", "hmm-mirror suite: exit code " + exitCode(runs)), new Html.Style(CSS)),
                body));
    }

    /**
     * The section a matrix of several architectures (or page sizes) leads with: per kernel family, the tests whose
     * outcome differs between its platforms ({@link ArchDifferences}), then the kernels not compared and why.
     */
    private static List<Element> archDifferences(ArchDifferences d) {
        List<Element> out = new ArrayList<>();
        out.add(el("h2", "Differences between architectures (" + d.count() + ")").id("arch-differences"));
        out.add(el("p", "The same kernel compared with itself across architectures and page sizes (stock debian-sid "
                + "with debian-sid-arm64, built-7.2 with built-7.2-arm64 and built-7.2-arm64-64k): a test (ours or the "
                + "kernel's own hmm selftests) is listed when two of them ran it with different outcomes; two skips "
                + "differ when their reasons do (numbers aside). Different kernels are compared in the next sections."));
        for (ArchDifferences.Group g : d.groups()) {
            out.add(el("h3", g.family() + ": " + String.join(" vs ", g.kernels().stream()
                    .map(r -> r.profile() + " (" + r.platform().describe() + ")").toList())));
            if (g.rows().isEmpty()) {
                out.add(el("p", "None: every test both ran has the same outcome."));
                continue;
            }
            Element table = el("table").cls("arch").add(el("tr").add(el("th", "test"))
                    .add(g.kernels().stream().map(ReportPage::kernelHeader).toList()));
            for (ArchDifferences.Row row : g.rows()) {
                Element tr = el("tr").add(el("td", row.test()));
                for (String c : row.outcomes()) {
                    String status = c.startsWith("skip") ? "skip" : c;
                    tr.add(el("td", c).cls(status.equals("-") ? "" : status));
                }
                table.add(tr);
            }
            out.add(table);
        }
        if (!d.notBooted().isEmpty() || !d.unpaired().isEmpty()) {
            Element ul = el("ul");
            d.notBooted().forEach(k -> ul.add(el("li", "Not compared, did not boot: " + k)));
            d.unpaired().forEach(k -> ul.add(el("li", "Not compared: " + k)));
            out.add(ul);
        }
        return out;
    }

    /** A kernel's column head: the profile, its architecture and page size below. */
    private static Element kernelHeader(KernelRun r) {
        return el("th").text(r.profile()).add(el("br"), el("small", r.platform().label()));
    }

    /** Each run's line coverage of the module (kernels with gcov), from its {@code coverage/summary.tsv}. */
    private static List<Element> coverage(List<KernelRun> runs) {
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

    private static Element totals(List<KernelRun> runs) {
        Element head = el("tr").add(el("th", "kernel"), el("th", "release"), el("th").text("arch").add(el("br"),
                el("small", "page size")));
        for (TestOutcome.Status s : TestOutcome.Status.values()) {
            head.add(el("th", s.symbol()));
        }
        head.add(el("th").text("kernel's selftests").add(el("br"), el("small", "pass / FAIL / skip")),
                el("th").text("rdma-core ODP tests").add(el("br"), el("small", "pass / FAIL / skip")),
                el("th", "QEMU start to /init"), el("th", "guest JVM ready"), el("th", "whole run"),
                el("th", "exit code"), el("th", "files"));
        Element table = el("table").id("totals").add(head);
        for (KernelRun r : runs) {
            String folder = r.reportDir().getFileName().toString();
            Element row = el("tr").add(el("td", r.profile()), el("td", r.kernelRelease()),
                    el("td", r.platform().label()).attr("title", r.platform().describe()));
            for (TestOutcome.Status s : TestOutcome.Status.values()) {
                long n = count(r.outcomes(), s);
                row.add(el("td", String.valueOf(n)).cls(n > 0 && s != TestOutcome.Status.PASSED
                        && s != TestOutcome.Status.SKIPPED ? "n " + s.symbol() : "n"));
            }
            List<TestOutcome> k = r.kernelSelftests();
            row.add(el("td", k.isEmpty() ? "not run" : count(k, TestOutcome.Status.PASSED) + " / "
                    + count(k, TestOutcome.Status.FAILED) + " / " + count(k, TestOutcome.Status.SKIPPED)).cls("n"),
                    peerCell(r.peerSuite()),
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

    /** The totals cell of the peer suite: counts, or "skipped" with why (its only row), or "not run". */
    private static Element peerCell(List<TestOutcome> p) {
        if (p.isEmpty()) {
            return el("td", "not run").cls("n");
        }
        if (p.size() == 1 && p.getFirst().test().startsWith("(") && p.getFirst().status() == TestOutcome.Status.SKIPPED) {
            return el("td", "skipped").cls("n skip").attr("title", p.getFirst().message());
        }
        return el("td", count(p, TestOutcome.Status.PASSED) + " / " + count(p, TestOutcome.Status.FAILED) + " / "
                + count(p, TestOutcome.Status.SKIPPED)).cls("n");
    }

    private static String secs(double s) {
        return s < 0 ? "?" : String.format(Locale.ROOT, "%.1f s", s);
    }

    private static Element table(List<KernelRun> runs, Function<KernelRun, List<TestOutcome>> which,
            List<String> tests) {
        Element table = el("table").add(el("tr").add(el("th", "test"))
                .add(runs.stream().map(ReportPage::kernelHeader).toList()));
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
