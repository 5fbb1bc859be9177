package dev.hmmmirror.suite;

import dev.hmmmirror.vm.result.TestOutcome;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * The map from the kernel's own hmm selftests ({@code hmm-tests}) to the guest tests of ours that
 * check the same behaviour: {@code upstream-parity.txt} next to the suite's classes, one line per
 * upstream test ({@code name: Class#method, Class#method  # note}).
 *
 * @param entries one per upstream test, in file order
 */
public record UpstreamParity(List<Entry> entries) {
    /** The file's name, in the suite package's folder. */
    public static final String FILE = "upstream-parity.txt";

    /** No map (a suite without one). */
    public static final UpstreamParity NONE = new UpstreamParity(List.of());

    /**
     * One upstream test.
     *
     * @param upstream the upstream test's name (the last part of its TAP name)
     * @param tests    our tests, as {@code Class#method}
     * @param note     what differs, or empty
     */
    public record Entry(String upstream, List<String> tests, String note) {
        /** Our tests' outcome names ({@code Class.method}, as {@link TestOutcome#name()}). */
        public List<String> outcomeNames() {
            return tests.stream().map(t -> t.replace('#', '.')).toList();
        }
    }

    /** Parses the file's lines; a line that is not {@code name: tests} is an error naming it. */
    public static UpstreamParity parse(List<String> lines) {
        List<Entry> out = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int hash = line.indexOf('#', line.indexOf(':') + 1);
            // a '#' inside Class#method is not a note: notes start with " #"
            int note = line.indexOf(" #");
            String body = note < 0 ? line : line.substring(0, note);
            String text = note < 0 ? "" : line.substring(note + 2).strip();
            int colon = body.indexOf(':');
            if (colon <= 0 || hash < 0) {
                throw new IllegalArgumentException(FILE + " line " + (i + 1) + ": expected 'upstream_name: Class#method, ...', got: "
                        + line);
            }
            List<String> tests = Arrays.stream(body.substring(colon + 1).split(",")).map(String::strip)
                    .filter(s -> !s.isEmpty()).toList();
            for (String t : tests) {
                if (!t.matches("[A-Za-z_$][A-Za-z0-9_$]*#[A-Za-z_$][A-Za-z0-9_$]*")) {
                    throw new IllegalArgumentException(FILE + " line " + (i + 1) + ": '" + t + "' is not Class#method");
                }
            }
            out.add(new Entry(body.substring(0, colon).strip(), tests, text));
        }
        return new UpstreamParity(List.copyOf(out));
    }

    /** The map shipped with the suite in {@code suitePackage} (on the class path), or {@link #NONE}. */
    public static UpstreamParity of(String suitePackage) {
        String resource = suitePackage.replace('.', '/') + "/" + FILE;
        try (InputStream in = UpstreamParity.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                return NONE;
            }
            return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().toList());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + resource, e);
        }
    }

    /** The entry of {@code upstream}, if mapped. */
    public Optional<Entry> entry(String upstream) {
        return entries.stream().filter(e -> e.upstream().equals(upstream)).findFirst();
    }

    /** The upstream test name of a kernel selftest outcome ({@code hmm.hmm_device_private.anon_read} -> {@code anon_read}). */
    public static String upstreamName(TestOutcome kernel) {
        String t = kernel.test();
        return t.substring(t.lastIndexOf('.') + 1);
    }

    /** The fixture variant of a kernel selftest outcome ({@code hmm.hmm_device_private.anon_read} -> {@code device_private}). */
    public static String variant(TestOutcome kernel) {
        String[] parts = kernel.test().split("\\.");
        if (parts.length < 3) {
            return "";
        }
        String v = parts[parts.length - 2];
        return v.substring(v.indexOf('_') + 1);
    }

    /**
     * One status for several of our tests: the worst of failed / kernel splat / could not boot,
     * else passed when any passed, else skipped; empty when none of them ran.
     */
    public static Optional<TestOutcome.Status> combined(List<TestOutcome> ours, Entry e) {
        List<TestOutcome> mine = ours.stream().filter(o -> e.outcomeNames().contains(o.name())).toList();
        if (mine.isEmpty()) {
            return Optional.empty();
        }
        for (TestOutcome.Status bad : List.of(TestOutcome.Status.BOOT_FAILED, TestOutcome.Status.KERNEL_SPLAT,
                TestOutcome.Status.FAILED)) {
            if (mine.stream().anyMatch(o -> o.status() == bad)) {
                return Optional.of(bad);
            }
        }
        return Optional.of(mine.stream().anyMatch(o -> o.status() == TestOutcome.Status.PASSED)
                ? TestOutcome.Status.PASSED : TestOutcome.Status.SKIPPED);
    }
}
