package dev.hmmmirror.suite;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.hmmmirror.vm.result.TestOutcome;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What {@code summary.json} holds, as records that Jackson writes (and reads back). Durations are
 * seconds rounded to the millisecond, {@code null} where unknown.
 *
 * @param exitCode         the worst exit code over all kernels ({@link Runs#exitCode})
 * @param archDifferences  the tests whose outcome differs between architectures or page sizes of the same kernel
 *                         ({@link ArchDifferences}); absent unless the matrix holds more than one
 * @param kernels          one entry per kernel run, in the runs' order
 */
record Summary(int exitCode, @JsonInclude(JsonInclude.Include.NON_NULL) ArchDiffs archDifferences,
        List<Kernel> kernels) {
    /** Jackson, as every report of the suite uses it (a character outside the BMP as itself, not two escapes). */
    static final ObjectMapper MAPPER = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT)
            .enable(JsonWriteFeature.COMBINE_UNICODE_SURROGATES_IN_UTF8).build();

    /** Indented, {@code "name": value} (no space before the colon: what a reader greps for). */
    static final ObjectWriter WRITER = MAPPER.writer(printer());

    private static DefaultPrettyPrinter printer() {
        DefaultPrettyPrinter p = new DefaultPrettyPrinter()
                .withSeparators(Separators.createDefaultInstance().withObjectFieldValueSpacing(Separators.Spacing.AFTER));
        p.indentArraysWith(new DefaultIndenter("  ", "\n"));
        p.indentObjectsWith(new DefaultIndenter("  ", "\n"));
        return p;
    }

    /** The summary of {@code runs}, with the upstream parity rows where {@code parity} maps any. */
    static Summary of(List<KernelRun> runs, UpstreamParity parity) {
        List<Kernel> kernels = new ArrayList<>();
        for (KernelRun r : runs) {
            Outcomes ours = Outcomes.of(r.outcomes());
            List<Parity> rows = parity.entries().isEmpty() ? null : parity.entries().stream()
                    .map(e -> new Parity(e.upstream(), Runs.kernelCell(r, e.upstream()), Runs.oursCell(r, e), e.tests(),
                            e.note()))
                    .toList();
            kernels.add(new Kernel(r.profile(), r.kernelRelease(), r.platform().arch(),
                    r.platform().pageSizeKiB() == 0 ? null : r.platform().pageSizeKiB(), r.platform().family(),
                    r.exitCode(),
                    rounded(r.timing().init()), rounded(r.timing().agentReady()),
                    r.timing() == KernelRun.Timing.NONE ? null : rounded(r.timing().wall().toMillis() / 1000.0),
                    ours.totals(), ours.tests(),
                    r.kernelSelftests().isEmpty() ? null : Outcomes.of(r.kernelSelftests()), rows,
                    r.peerSuite().isEmpty() ? null : Outcomes.of(r.peerSuite())));
        }
        return new Summary(Runs.exitCode(runs), ArchDifferences.applies(runs) ? ArchDiffs.of(ArchDifferences.of(runs))
                : null, kernels);
    }

    /**
     * The differences between architectures, as {@code summary.json} holds them.
     *
     * @param groups    per kernel family with more than one platform, its kernels and differing tests
     * @param unpaired  kernels not compared: no other platform of their kernel in the matrix (and what to add)
     * @param notBooted kernels of a compared family that did not boot
     */
    record ArchDiffs(List<ArchGroup> groups, List<String> unpaired, List<String> notBooted) {
        static ArchDiffs of(ArchDifferences d) {
            return new ArchDiffs(d.groups().stream().map(g -> new ArchGroup(g.family(),
                    g.kernels().stream().map(r -> new ArchKernel(r.profile(), r.platform().arch(),
                            r.platform().pageSizeKiB())).toList(),
                    g.rows().stream().map(row -> new ArchRow(row.test(), row.outcomes())).toList())).toList(),
                    d.unpaired(), d.notBooted());
        }
    }

    /**
     * One kernel family across platforms.
     *
     * @param tests the tests whose outcome differs, each with one outcome per kernel (the kernels' order)
     */
    record ArchGroup(String family, List<ArchKernel> kernels, List<ArchRow> tests) {}

    /** A kernel of an {@link ArchGroup}. */
    record ArchKernel(String profile, String arch, int pageSizeKiB) {}

    /**
     * A differing test.
     *
     * @param outcomes per kernel of its group: {@code pass}, {@code FAIL}, {@code skip: reason}, {@code -}
     */
    record ArchRow(String test, List<String> outcomes) {}

    /** The summary as UTF-8 JSON. */
    static byte[] write(Summary summary) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            WRITER.writeValue(out, summary);
            out.write('\n');
            return out.toByteArray();
        } catch (IOException e) {
            throw new IllegalStateException("Jackson could not write the summary", e);
        }
    }

    /** A summary.json read back. */
    static Summary read(byte[] json) throws IOException {
        return MAPPER.readValue(json, Summary.class);
    }

    /**
     * One kernel's run.
     *
     * @param arch            the guest's Debian architecture ({@code amd64}, {@code arm64})
     * @param pageSizeKiB     the guest kernel's base page size, KiB ({@code null}: unknown)
     * @param kernelFamily    the same kernel on any architecture ({@code debian-sid}, {@code built-7.2})
     * @param totals          our tests per status (lower-case status name to count)
     * @param tests           our tests
     * @param kernelSelftests the kernel's own hmm selftests; absent where they did not run
     * @param upstreamParity  each upstream hmm-tests name with the kernel's and our result; absent without a map
     * @param peerSuite       rdma-core's ODP tests against rxe; absent where they did not run
     */
    record Kernel(String profile, String kernel, String arch, Integer pageSizeKiB, String kernelFamily, int exitCode,
            Double initSeconds, Double agentReadySeconds,
            Double wallSeconds, Map<String, Long> totals, List<Test> tests,
            @JsonInclude(JsonInclude.Include.NON_NULL) Outcomes kernelSelftests,
            @JsonInclude(JsonInclude.Include.NON_NULL) List<Parity> upstreamParity,
            @JsonInclude(JsonInclude.Include.NON_NULL) Outcomes peerSuite) {}

    /** A list of outcomes with its totals per status. */
    record Outcomes(Map<String, Long> totals, List<Test> tests) {
        static Outcomes of(List<TestOutcome> outcomes) {
            return new Outcomes(totalsOf(outcomes), outcomes.stream().map(Test::of).toList());
        }
    }

    /**
     * One test's outcome.
     *
     * @param status       lower-case {@link TestOutcome.Status} name
     * @param consoleLines the console lines of the test, e.g. {@code 120-180} (empty if unknown)
     */
    record Test(@JsonProperty("class") String testClass, String test, String status, String message,
            String consoleLines, Double seconds) {
        static Test of(TestOutcome o) {
            return new Test(o.testClass(), o.test(), statusName(o.status()), o.message(), o.consoleLines(),
                    rounded(o.seconds()));
        }
    }

    /**
     * One row of the upstream parity table.
     *
     * @param kernel the kernel's own result, device-private/device-coherent variant
     * @param ours   our mapped tests' combined result
     */
    record Parity(String upstream, String kernel, String ours, List<String> tests, String note) {}

    static Map<String, Long> totalsOf(List<TestOutcome> outcomes) {
        Map<String, Long> totals = new LinkedHashMap<>();
        for (TestOutcome.Status s : TestOutcome.Status.values()) {
            totals.put(statusName(s), Runs.count(outcomes, s));
        }
        return totals;
    }

    static String statusName(TestOutcome.Status s) {
        return s.name().toLowerCase(Locale.ROOT);
    }

    /** Seconds to the millisecond; {@code null} for a negative (unknown) duration. */
    static Double rounded(double s) {
        return s < 0 ? null : Math.round(s * 1000) / 1000.0;
    }
}
