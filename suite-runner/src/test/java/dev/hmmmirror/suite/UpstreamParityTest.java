package dev.hmmmirror.suite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hmmmirror.vm.config.Settings;
import dev.hmmmirror.vm.result.TestOutcome;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The map from the kernel's own hmm selftests to our guest tests covers every upstream test, and
 * every guest test it names exists (a {@code @Test} method of a {@code @GuestTest} class in
 * guest-tests' sources).
 */
class UpstreamParityTest {
    /** The 38 tests of hmm-tests.c in Linux 7.2 (each runs in a device-private and a device-coherent variant). */
    static final List<String> UPSTREAM = List.of("open_close", "anon_read", "anon_read_prot", "anon_write",
            "anon_write_prot", "anon_write_child", "anon_write_child_shared", "anon_write_huge", "anon_write_hugetlbfs",
            "file_read", "file_write", "migrate", "migrate_file_private", "migrate_fault", "migrate_release",
            "migrate_shared", "migrate_mixed", "migrate_multiple", "anon_read_multiple", "anon_teardown", "mixedmap",
            "snapshot", "compound", "double_map", "exclusive", "exclusive_mprotect", "exclusive_cow", "hmm_gup_test",
            "hmm_cow_in_device", "migrate_anon_huge_empty", "migrate_anon_huge_zero", "migrate_anon_huge_free",
            "migrate_anon_huge_fault", "migrate_partial_unmap_fault", "migrate_remap_fault", "migrate_anon_huge_err",
            "migrate_anon_huge_zero_err", "benchmark_thp_migration");

    private static final Path GUEST_TESTS = Path.of("guest-tests/src/test");
    private static final String PACKAGE = "dev/hmmmirror/guest";

    private static Path root() {
        return Settings.fromEnvironment().projectRoot().orElseThrow();
    }

    private static UpstreamParity shipped() throws IOException {
        return UpstreamParity.parse(Files.readAllLines(root().resolve(GUEST_TESTS).resolve("resources").resolve(PACKAGE)
                .resolve(UpstreamParity.FILE)));
    }

    @Test
    void everyUpstreamTestIsMappedOnce() throws IOException {
        List<String> mapped = shipped().entries().stream().map(UpstreamParity.Entry::upstream).toList();
        List<String> missing = UPSTREAM.stream().filter(n -> !mapped.contains(n)).toList();
        assertEquals(List.of(), missing, "upstream hmm-tests without a test of ours in " + UpstreamParity.FILE);
        List<String> unknown = mapped.stream().filter(n -> !UPSTREAM.contains(n)).toList();
        assertEquals(List.of(), unknown, "names in " + UpstreamParity.FILE + " that hmm-tests does not have");
        assertEquals(mapped.size(), Set.copyOf(mapped).size(), "an upstream name mapped twice: " + mapped);
        assertTrue(shipped().entries().stream().allMatch(e -> !e.tests().isEmpty()));
    }

    @Test
    void everyMappedTestExistsInTheGuestSuite() throws IOException {
        List<String> problems = new ArrayList<>();
        Set<String> seen = new LinkedHashSet<>();
        for (UpstreamParity.Entry e : shipped().entries()) {
            for (String t : e.tests()) {
                seen.add(t);
                String cls = t.substring(0, t.indexOf('#'));
                String method = t.substring(t.indexOf('#') + 1);
                Path src = root().resolve(GUEST_TESTS).resolve("java").resolve(PACKAGE).resolve(cls + ".java");
                if (!Files.isRegularFile(src)) {
                    problems.add(e.upstream() + ": " + t + ": no class " + src);
                    continue;
                }
                String text = Files.readString(src);
                if (!text.contains("@GuestTest")) {
                    problems.add(e.upstream() + ": " + t + ": " + cls + " is not a @GuestTest class");
                }
                if (!Pattern.compile("@Test\\s+(?:@\\w+(?:\\([^)]*\\))?\\s+)*void\\s+" + Pattern.quote(method) + "\\s*\\(")
                        .matcher(text).find()) {
                    problems.add(e.upstream() + ": " + t + ": no @Test method " + method + "() in " + src);
                }
            }
        }
        assertEquals(List.of(), problems, "tests named in " + UpstreamParity.FILE + " that do not exist");
        assertFalse(seen.isEmpty());
    }

    @Test
    void theShippedMapIsOnTheSuitesClassPathUnderItsPackage() throws IOException {
        // hmm suite loads it from the suite package (hmm.suite.package) through the class loader
        assertEquals("dev.hmmmirror.guest", Settings.fromEnvironment().suitePackage());
        assertEquals(UPSTREAM.size(), shipped().entries().size());
    }

    @Test
    void malformedLinesAreRefusedNamingTheLine() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> UpstreamParity.parse(List.of("# c", "anon_read MirrorAccessIT#x")));
        assertTrue(e.getMessage().contains("line 2"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> UpstreamParity.parse(List.of("anon_read: MirrorAccessIT.x#")));
        assertTrue(e.getMessage().contains("not Class#method"), e.getMessage());
    }

    @Test
    void theReportShowsTheKernelsResultNextToOursAndFlagsNewUpstreamTests() throws Exception {
        UpstreamParity parity = UpstreamParity.parse(List.of(
                "anon_read: MirrorAccessIT#a, MirrorAccessIT#b  # a note",
                "migrate: DeviceMemoryIT#m"));
        KernelRun run = new KernelRun("built-7.2", "7.2.13",
                List.of(new TestOutcome("MirrorAccessIT", "a", TestOutcome.Status.PASSED, "", ""),
                        new TestOutcome("MirrorAccessIT", "b", TestOutcome.Status.SKIPPED, "why", ""),
                        new TestOutcome("DeviceMemoryIT", "m", TestOutcome.Status.FAILED, "boom", "")),
                Path.of("/nonexistent/built-7.2"),
                List.of(new TestOutcome("hmm-tests", "hmm.hmm_device_private.anon_read", TestOutcome.Status.PASSED, "", ""),
                        new TestOutcome("hmm-tests", "hmm.hmm_device_coherent.anon_read", TestOutcome.Status.SKIPPED, "", ""),
                        new TestOutcome("hmm-tests", "hmm2.hmm2_device_private.migrate", TestOutcome.Status.PASSED, "", ""),
                        new TestOutcome("hmm-tests", "hmm.hmm_device_private.brand_new", TestOutcome.Status.PASSED, "", "")));
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        Reports.printTable(List.of(run), parity, new PrintStream(buf, true, StandardCharsets.UTF_8));
        List<String> lines = buf.toString(StandardCharsets.UTF_8).lines().toList();
        String anonRead = lines.stream().filter(l -> l.startsWith("anon_read ")).findFirst().orElseThrow();
        String pass = TestOutcome.Status.PASSED.symbol();
        String skip = TestOutcome.Status.SKIPPED.symbol();
        assertTrue(anonRead.contains(pass + "/" + skip + " | " + pass) && anonRead.contains("MirrorAccessIT#a, MirrorAccessIT#b")
                && anonRead.contains("a note"), anonRead);
        String migrate = lines.stream().filter(l -> l.startsWith("migrate ")).findFirst().orElseThrow();
        assertTrue(migrate.contains(pass + "/- | " + TestOutcome.Status.FAILED.symbol()), migrate);
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("brand_new") && l.contains("NOT MAPPED")), lines.toString());
        Summary json = Summary.read(Reports.json(List.of(run), parity));
        assertEquals(new Summary.Parity("anon_read", pass + "/" + skip, pass, List.of("MirrorAccessIT#a", "MirrorAccessIT#b"),
                "a note"), json.kernels().getFirst().upstreamParity().getFirst());
    }
}
