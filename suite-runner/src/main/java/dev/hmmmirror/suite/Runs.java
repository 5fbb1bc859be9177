package dev.hmmmirror.suite;

import dev.hmmmirror.vm.result.TestOutcome;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Function;

/** What the reports ask of a list of kernel runs: test names, cells, counts, differences, parity rows. */
final class Runs {
    /** Our suite's outcomes of a run. */
    static final Function<KernelRun, List<TestOutcome>> OURS = KernelRun::outcomes;

    /** The kernel's own hmm selftests' outcomes of a run. */
    static final Function<KernelRun, List<TestOutcome>> KERNELS = KernelRun::kernelSelftests;

    /** The peer suite's outcomes of a run (rdma-core's ODP tests). */
    static final Function<KernelRun, List<TestOutcome>> PEER = KernelRun::peerSuite;

    private Runs() {}

    /** The worst exit code over all runs: 125 no boot, 2 kernel splat, 1 failures, 0 all passed. */
    static int exitCode(List<KernelRun> runs) {
        int worst = 0;
        for (KernelRun r : runs) {
            int c = r.exitCode();
            worst = c == 125 || worst == 125 ? 125 : Math.max(worst, c);
        }
        return worst;
    }

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

    static String kernelCell(KernelRun r, String upstream) {
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

    static String oursCell(KernelRun r, UpstreamParity.Entry e) {
        return UpstreamParity.combined(r.outcomes(), e).map(TestOutcome.Status::symbol).orElse("-");
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
