package dev.hmmmirror.suite;

import static dev.hmmmirror.suite.Runs.KERNELS;
import static dev.hmmmirror.suite.Runs.OURS;
import static dev.hmmmirror.suite.Runs.PEER;
import static dev.hmmmirror.suite.Runs.cell;
import static dev.hmmmirror.suite.Runs.count;
import static dev.hmmmirror.suite.Runs.parityRows;
import static dev.hmmmirror.suite.Runs.testNames;

import dev.hmmmirror.vm.result.TestOutcome;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
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
        return Runs.exitCode(runs);
    }

    /**
     * Prints the kernel x test table with totals; then the kernel's own selftests' table and the peer
     * suite's (rdma-core's ODP tests) where they ran.
     */
    public static void printTable(List<KernelRun> runs, PrintStream out) {
        printTable(runs, UpstreamParity.NONE, out);
    }

    /**
     * As {@link #printTable(List, PrintStream)}, then, with a {@code parity} map, each upstream
     * hmm-tests name with the kernel's own results (device-private / device-coherent variant) and
     * our mapped tests' result, per kernel.
     */
    public static void printTable(List<KernelRun> runs, UpstreamParity parity, PrintStream out) {
        if (ArchDifferences.applies(runs)) {
            printArchDifferences(ArchDifferences.of(runs), runs, out);
            out.println();
        }
        printTable(runs, OURS, out);
        if (runs.stream().anyMatch(r -> !r.kernelSelftests().isEmpty())) {
            out.println();
            out.println("the kernel's own hmm selftests (test_hmm + hmm-tests, same guest; not counted in the exit code):");
            printTable(runs, KERNELS, out);
        }
        if (runs.stream().anyMatch(r -> !r.peerSuite().isEmpty())) {
            out.println();
            out.println("rdma-core's ODP tests against rxe (pyverbs tests.test_odp, same guest; not counted in the exit "
                    + "code unless a kernel splat):");
            printTable(runs, PEER, out);
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

    /**
     * The differences between architectures (and page sizes) of a matrix that mixes them: per kernel family, the
     * tests whose outcome differs between its platforms ({@link ArchDifferences}).
     */
    static void printArchDifferences(ArchDifferences d, List<KernelRun> runs, PrintStream out) {
        out.println("differences between architectures (" + ArchDifferences.platforms(runs) + "): " + d.count()
                + " test(s); the same kernel compared across architectures and page sizes, docs/arm64.md");
        for (ArchDifferences.Group g : d.groups()) {
            out.println(g.family() + ": " + String.join(" vs ", g.kernels().stream()
                    .map(r -> r.profile() + " (" + r.platform().label() + ")").toList()));
            if (g.rows().isEmpty()) {
                out.println("  none: every test both ran has the same outcome");
                continue;
            }
            int w = Math.max(20, g.rows().stream().mapToInt(r -> r.test().length()).max().orElse(20));
            int cw = Math.max(16, g.kernels().stream().mapToInt(r -> r.profile().length()).max().orElse(16));
            StringBuilder head = new StringBuilder(String.format(Locale.ROOT, "  %-" + w + "s", "test"));
            g.kernels().forEach(r -> head.append(String.format(Locale.ROOT, "  %-" + cw + "s", r.profile())));
            out.println(head);
            for (ArchDifferences.Row row : g.rows()) {
                StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "  %-" + w + "s", row.test()));
                row.outcomes().forEach(c -> line.append(String.format(Locale.ROOT, "  %-" + cw + "s", c)));
                out.println(line.toString().stripTrailing());
            }
        }
        d.notBooted().forEach(k -> out.println("not compared, did not boot: " + k));
        d.unpaired().forEach(k -> out.println("not compared: " + k));
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
        StringBuilder arch = new StringBuilder(String.format(Locale.ROOT, "%-" + w + "s", "arch/page size"));
        runs.forEach(r -> arch.append(String.format(Locale.ROOT, col, r.platform().label())));
        out.println(arch.toString().stripTrailing());
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
                if (!r.peerSuite().isEmpty()) {
                    Files.write(dir.resolve("junit-" + name + "-rdma-core.xml"), junitXml(r, PEER));
                }
            }
            Files.writeString(dir.resolve("index.html"), ReportPage.of(runs, parity, dir), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** summary.json, UTF-8. */
    static byte[] json(List<KernelRun> runs, UpstreamParity parity) {
        return Summary.write(Summary.of(runs, parity));
    }

    /** A JUnit XML report (UTF-8) of one run's outcomes: ours, the kernel's own selftests or the peer suite's. */
    static byte[] junitXml(KernelRun r, Function<KernelRun, List<TestOutcome>> which) {
        String suite = which == OURS ? "hmm-mirror guest suite" : which == PEER ? "rdma-core ODP tests"
                : "kernel hmm selftests";
        return JunitXml.of(suite + " (" + r.profile() + ")",
                r.kernelRelease(), which.apply(r), java.util.Map.of("arch", r.platform().arch(), "pageSizeKiB",
                        String.valueOf(r.platform().pageSizeKiB()), "kernelFamily", r.platform().family()));
    }
}
