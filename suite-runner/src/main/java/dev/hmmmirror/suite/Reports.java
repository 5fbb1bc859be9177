package dev.hmmmirror.suite;

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
 * The results of suite runs as a table (kernel x test) on the console, and as {@code summary.json}
 * ({@link Summary}, written by Jackson), {@code junit-<profile>.xml} ({@link JunitXml}, by the JDK's
 * XML serializer) and {@code index.html} ({@link ReportPage}) in the report folder.
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

    static List<String> testNames(List<KernelRun> runs, Function<KernelRun, List<TestOutcome>> which) {
        Set<String> names = new LinkedHashSet<>();
        runs.forEach(r -> which.apply(r).forEach(o -> names.add(o.name())));
        return new ArrayList<>(names);
    }

    static String cell(List<TestOutcome> outcomes, String test) {
        return outcomes.stream().filter(o -> o.name().equals(test)).map(o -> o.status().symbol()).findFirst()
                .orElse("-");
    }

    static long count(List<TestOutcome> outcomes, TestOutcome.Status s) {
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
            Files.writeString(dir.resolve("index.html"), ReportPage.of(runs, parity, dir), StandardCharsets.UTF_8);
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

    /** Neither passed nor skipped. */
    static boolean isBad(TestOutcome o) {
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

}
