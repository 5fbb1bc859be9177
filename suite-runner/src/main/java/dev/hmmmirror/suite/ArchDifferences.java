package dev.hmmmirror.suite;

import dev.hmmmirror.vm.image.KernelProfile;
import dev.hmmmirror.vm.result.TestOutcome;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The tests of a matrix whose outcome differs between architectures (or page sizes): what a matrix that mixes
 * them leads with.
 *
 * <p>The rule: the same kernel is compared with itself across architectures and page sizes, never two different
 * kernels. Kernels are grouped by {@link KernelRun.Platform#family()} (stock {@code debian-sid},
 * {@code debian-sid-arm64} and {@code debian-sid-arm64-16k} are one group; {@code built-7.2},
 * {@code built-7.2-arm64} and {@code built-7.2-arm64-64k} another); in a group holding more than one platform
 * ({@link KernelRun.Platform#label()}: architecture and page size), a test (ours, or one of the kernel's own hmm
 * selftests) is listed when two of its kernels on
 * different platforms both ran it and its outcomes differ: pass, FAIL, skip, kernel splat, no boot; two skips
 * count as different when their reasons differ once numbers are set aside (a skip for want of a 512 MiB THP and
 * one for want of a 2 MiB THP is the same reason). Comparing every kernel with every other would list what
 * separates Linux 6.12 from 7.2 or a stock config from ours as an architecture difference. A kernel that did not
 * boot is not compared (its tests did not run); a kernel with no counterpart on another platform in the matrix
 * is named, with the profiles that would give it one.
 *
 * @param groups    the families with more than one platform in the matrix, in the order their first kernel ran
 * @param unpaired  kernels (of a matrix of several platforms) whose family has no other platform in it, each
 *                  with why and the profiles to add
 * @param notBooted kernels of a compared family left out because they did not boot
 */
record ArchDifferences(List<Group> groups, List<String> unpaired, List<String> notBooted) {

    /**
     * One kernel family across platforms.
     *
     * @param family  the family ({@code debian-sid}, {@code built-7.2})
     * @param kernels the family's kernels that booted, in the matrix's order
     * @param rows    the tests whose outcome differs between two of them on different platforms
     */
    record Group(String family, List<KernelRun> kernels, List<Row> rows) {}

    /**
     * One listed test.
     *
     * @param test     {@code Class.method}
     * @param outcomes per kernel of the group (same order): {@code pass}, {@code FAIL}, {@code skip: reason},
     *                 {@code -} where the kernel did not run it
     */
    record Row(String test, List<String> outcomes) {}

    /** Whether {@code runs} hold more than one platform (architecture or page size): then the report leads with this. */
    static boolean applies(List<KernelRun> runs) {
        return runs.stream().map(r -> r.platform().label()).distinct().count() > 1;
    }

    /** The architectures of {@code runs}, for a reader: {@code x86-64, 4 KiB pages; arm64, 64 KiB pages}. */
    static String platforms(List<KernelRun> runs) {
        return String.join("; ", runs.stream().map(r -> r.platform().describe()).distinct().toList());
    }

    /** The differences of {@code runs} (see the class comment for the rule). */
    static ArchDifferences of(List<KernelRun> runs) {
        Map<String, List<KernelRun>> families = new LinkedHashMap<>();
        runs.forEach(r -> families.computeIfAbsent(r.platform().family(), f -> new ArrayList<>()).add(r));
        List<Group> groups = new ArrayList<>();
        List<String> unpaired = new ArrayList<>();
        List<String> notBooted = new ArrayList<>();
        for (var e : families.entrySet()) {
            List<KernelRun> booted = e.getValue().stream().filter(ArchDifferences::booted).toList();
            long platforms = booted.stream().map(r -> r.platform().label()).distinct().count();
            long all = e.getValue().stream().map(r -> r.platform().label()).distinct().count();
            if (platforms > 1) {
                e.getValue().stream().filter(r -> !booted(r))
                        .forEach(r -> notBooted.add(r.profile() + " (" + r.platform().describe() + ")"));
                groups.add(new Group(e.getKey(), booted, rows(booted)));
            } else if (all > 1) {
                e.getValue().stream().filter(r -> !booted(r)).forEach(r -> notBooted.add(r.profile() + " ("
                        + r.platform().describe() + ")"));
                booted.forEach(r -> unpaired.add(unpaired(r, "the others of its kernel did not boot")));
            } else {
                e.getValue().forEach(r -> unpaired.add(unpaired(r, "no other architecture or page size of the same "
                        + "kernel (" + e.getKey() + ") in this matrix")));
            }
        }
        return new ArchDifferences(groups, unpaired, notBooted);
    }

    /** How many tests are listed, over all groups. */
    int count() {
        return groups.stream().mapToInt(g -> g.rows().size()).sum();
    }

    private static boolean booted(KernelRun r) {
        return r.count(TestOutcome.Status.BOOT_FAILED) == 0;
    }

    private static String unpaired(KernelRun r, String why) {
        List<String> others = Stream.of(KernelProfile.stock(), KernelProfile.builtProfiles(), KernelProfile.arm64())
                .flatMap(List::stream)
                .filter(p -> p.kernelFamily().equals(r.platform().family()) && !p.name().equals(r.profile())
                        && !KernelRun.Platform.of(p).label().equals(r.platform().label()))
                .map(KernelProfile::name).toList();
        return r.profile() + " (" + r.platform().describe() + "): " + why
                + (others.isEmpty() ? "" : "; add " + String.join(" or ", others) + " to compare it");
    }

    /** What is compared of a run: our tests, then the kernel's own hmm selftests (where both kernels ran them). */
    private static List<TestOutcome> compared(KernelRun r) {
        List<TestOutcome> all = new ArrayList<>(r.outcomes());
        all.addAll(r.kernelSelftests());
        return all;
    }

    private static List<Row> rows(List<KernelRun> kernels) {
        Set<String> tests = new LinkedHashSet<>();
        kernels.forEach(r -> compared(r).forEach(o -> tests.add(o.name())));
        List<Row> rows = new ArrayList<>();
        for (String t : tests) {
            List<TestOutcome> of = kernels.stream().map(r -> outcome(r, t)).toList();
            boolean differs = false;
            for (int i = 0; i < of.size() && !differs; i++) {
                for (int j = i + 1; j < of.size() && !differs; j++) {
                    differs = of.get(i) != null && of.get(j) != null
                            && !kernels.get(i).platform().label().equals(kernels.get(j).platform().label())
                            && !key(of.get(i)).equals(key(of.get(j)));
                }
            }
            if (differs) {
                rows.add(new Row(t, of.stream().map(ArchDifferences::cell).toList()));
            }
        }
        return rows;
    }

    private static TestOutcome outcome(KernelRun r, String test) {
        return compared(r).stream().filter(o -> o.name().equals(test)).findFirst().orElse(null);
    }

    /** What is compared: the status, and a skip's reason with its numbers set aside. */
    static String key(TestOutcome o) {
        return o.status() == TestOutcome.Status.SKIPPED
                ? "skip: " + o.message().replaceAll("(0x)?[0-9][0-9a-fA-F.,]*", "#").strip()
                : o.status().symbol();
    }

    /** A kernel's cell: the status symbol, a skip with its reason (first line, at most 120 characters). */
    static String cell(TestOutcome o) {
        if (o == null) {
            return "-";
        }
        if (o.status() != TestOutcome.Status.SKIPPED || o.message().isBlank()) {
            return o.status().symbol();
        }
        String why = o.message().strip().lines().findFirst().orElse("");
        return "skip: " + (why.length() > 120 ? why.substring(0, 117) + "..." : why);
    }
}
