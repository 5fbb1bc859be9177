package dev.hmmmirror.vm.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.hmmmirror.vm.config.Settings;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The mutant catalogue of issue 22 ({@code mutants/linux-7.2}, read by {@code hmm mutate}): every patch
 * has the header the campaign parses, names are unique and equal to the file names, the README lists
 * every mutant, and every patch applies to the pinned linux-source-7.2 (the source root of the built-7.2
 * kernels in the image cache, or the tree named by {@code -Dhmm.mutants.tree=DIR}). The apply check
 * skips, saying why, while no such tree exists (CI builds built-7.2 after the host tests and runs
 * {@code ci/check-mutants.sh} then).
 */
class MutantCatalogueTest {
    /** Header fields every mutant has, in this order (Upstream-fix and Equivalent where they apply). */
    static final List<String> REQUIRED = List.of("Mutant", "File", "Function", "Kind", "Breaks", "User-visible",
            "Memory-corrupting", "Rebuild");
    static final Set<String> FIELDS = Set.of("Mutant", "File", "Function", "Kind", "Breaks", "User-visible",
            "Upstream-fix", "Memory-corrupting", "Rebuild", "Equivalent");
    static final Set<String> KINDS = Set.of("dropped-check", "off-by-one", "wrong-event", "wrong-owner",
            "skipped-invalidation", "lost-bit", "refcount", "race", "revert");
    static final Pattern NAME = Pattern.compile("\\d{2}-[a-z0-9]+(-[a-z0-9]+)*");
    static final Pattern UPSTREAM = Pattern.compile("[0-9a-f]{12,40} \\(\"[^\"]+\"\\)");
    static final Pattern HUNK = Pattern.compile("@@ -(\\d+)(?:,(\\d+))? \\+(\\d+)(?:,(\\d+))? @@.*");

    record Mutant(String fileName, Map<String, String> header, List<String> diff) {
        String name() {
            return fileName.substring(0, fileName.length() - ".patch".length());
        }
    }

    static Path catalogueDir() {
        return Path.of(System.getProperty("basedir", ".")).toAbsolutePath().resolve("../mutants/linux-7.2").normalize();
    }

    static List<Mutant> catalogue() {
        try (Stream<Path> files = Files.list(catalogueDir())) {
            List<Mutant> all = new ArrayList<>();
            for (Path p : files.filter(f -> f.getFileName().toString().endsWith(".patch")).sorted().toList()) {
                all.add(parse(p.getFileName().toString(), Files.readAllLines(p, StandardCharsets.UTF_8)));
            }
            return all;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Header lines {@code Field: value} up to a line {@code ---}, then the diff. */
    static Mutant parse(String fileName, List<String> lines) {
        Map<String, String> header = new LinkedHashMap<>();
        int i = 0;
        for (; i < lines.size() && !lines.get(i).equals("---"); i++) {
            String l = lines.get(i);
            int colon = l.indexOf(": ");
            assertTrue(colon > 0, fileName + ": header line without 'Field: value': " + l);
            String key = l.substring(0, colon);
            assertTrue(FIELDS.contains(key), fileName + ": unknown header field " + key);
            assertTrue(header.put(key, l.substring(colon + 2).strip()) == null, fileName + ": " + key + " twice");
        }
        assertTrue(i < lines.size(), fileName + ": no '---' line between the header and the diff");
        return new Mutant(fileName, header, lines.subList(i + 1, lines.size()));
    }

    @Test
    void everyMutantHasTheRequiredFieldsWithValidValues() {
        for (Mutant m : catalogue()) {
            for (String f : REQUIRED) {
                assertFalse(m.header().getOrDefault(f, "").isBlank(), m.fileName() + ": no " + f);
            }
            assertTrue(KINDS.contains(m.header().get("Kind")), m.fileName() + ": Kind " + m.header().get("Kind"));
            assertTrue(Set.of("yes", "no").contains(m.header().get("Memory-corrupting")), m.fileName());
            assertTrue(Set.of("narrow", "wide").contains(m.header().get("Rebuild")), m.fileName());
            boolean revert = m.header().get("Kind").equals("revert");
            assertEquals(revert, m.header().containsKey("Upstream-fix"),
                    m.fileName() + ": a revert names its Upstream-fix, and only a revert does");
            if (revert) {
                assertTrue(UPSTREAM.matcher(m.header().get("Upstream-fix")).matches(),
                        m.fileName() + ": Upstream-fix is '<12-40 hex> (\"subject\")': " + m.header().get("Upstream-fix"));
            }
            if (m.header().get("File").endsWith(".h")) {
                assertEquals("wide", m.header().get("Rebuild"), m.fileName() + ": a header mutant rebuilds widely");
            }
        }
    }

    @Test
    void namesAreUniqueAndEqualTheFileNames() {
        Set<String> numbers = new HashSet<>();
        Set<String> names = new HashSet<>();
        for (Mutant m : catalogue()) {
            assertTrue(NAME.matcher(m.name()).matches(), m.fileName() + ": not NN-lowercase-with-dashes");
            assertEquals(m.name(), m.header().get("Mutant"), m.fileName() + ": Mutant header differs from the file name");
            assertTrue(numbers.add(m.name().substring(0, 2)), m.fileName() + ": number used twice");
            assertTrue(names.add(m.name().substring(3)), m.fileName() + ": name used twice");
        }
    }

    @Test
    void theCatalogueHasFortyMutantsOfWhichEightAreRevertsOfUpstreamFixes() {
        List<Mutant> all = catalogue();
        long reverts = all.stream().filter(m -> m.header().containsKey("Upstream-fix")).count();
        long ids = all.stream().map(m -> m.header().get("Upstream-fix")).filter(u -> u != null)
                .map(u -> u.substring(0, 12)).distinct().count();
        assertTrue(all.size() >= 40, "mutants: " + all.size());
        assertTrue(reverts >= 8 && ids == reverts, "reverts: " + reverts + ", distinct commits: " + ids);
    }

    @Test
    void eachDiffChangesOnlyTheFileItsHeaderNames() {
        for (Mutant m : catalogue()) {
            String file = m.header().get("File");
            assertFalse(m.diff().isEmpty(), m.fileName() + ": empty diff");
            assertEquals("diff --git a/" + file + " b/" + file, m.diff().getFirst(), m.fileName());
            assertEquals(1, m.diff().stream().filter(l -> l.startsWith("diff --git ")).count(), m.fileName());
            assertTrue(m.diff().contains("--- a/" + file) && m.diff().contains("+++ b/" + file), m.fileName());
            assertTrue(m.diff().stream().anyMatch(l -> HUNK.matcher(l).matches()), m.fileName() + ": no hunk");
        }
    }

    @Test
    void theReadmeHasARowForEveryMutantAndNamesEveryRevertedCommit() throws IOException {
        String readme = Files.readString(catalogueDir().resolveSibling("README.md"));
        for (Mutant m : catalogue()) {
            assertTrue(readme.contains("| " + m.name() + " | " + m.header().get("File") + " | "),
                    "mutants/README.md has no row '| " + m.name() + " | " + m.header().get("File") + " | ...'");
            String fix = m.header().get("Upstream-fix");
            if (fix != null) {
                assertTrue(readme.contains(fix.substring(0, 12)), "mutants/README.md does not name " + fix);
            }
        }
    }

    @Test
    void everyPatchAppliesToThePinnedLinuxSource() throws IOException {
        List<Path> trees = trees();
        Assumptions.assumeFalse(trees.isEmpty(), "no linux-source-7.2 tree: neither -Dhmm.mutants.tree=DIR nor a "
                + "complete ksrc-7.2-* source root in " + Settings.fromEnvironment().cacheDir()
                + " (built with the built-7.2 image; ci/check-mutants.sh checks after that)");
        List<Mutant> all = catalogue();
        for (Path tree : trees) {
            List<String> failures = new ArrayList<>();
            for (Mutant m : all) {
                Path file = tree.resolve(m.header().get("File"));
                try {
                    String before = Files.readString(file, StandardCharsets.ISO_8859_1);
                    assertNotEquals(before, apply(before, m.diff()), m.fileName() + ": changes nothing");
                } catch (IOException | IllegalStateException e) {
                    failures.add(m.fileName() + ": " + e.getMessage());
                }
            }
            if (!failures.isEmpty()) {
                fail(failures.size() + " of " + all.size() + " patches do not apply to " + tree + version(tree) + ":\n  "
                        + String.join("\n  ", failures));
            }
        }
    }

    /** The tree of -Dhmm.mutants.tree, else every complete linux-source-7.2 source root in the cache. */
    static List<Path> trees() throws IOException {
        String given = System.getProperty("hmm.mutants.tree", "");
        if (!given.isBlank()) {
            Path tree = Path.of(given);
            assertTrue(Files.isRegularFile(tree.resolve("mm/hmm.c")), "-Dhmm.mutants.tree=" + given + " has no mm/hmm.c");
            return List.of(tree);
        }
        Path cache = Settings.fromEnvironment().cacheDir();
        if (!Files.isDirectory(cache)) {
            return List.of();
        }
        try (Stream<Path> entries = Files.list(cache)) {
            return entries.filter(d -> d.getFileName().toString().startsWith("ksrc-7.2-"))
                    .filter(d -> Files.isRegularFile(d.resolve(ImageCache.COMPLETE)))
                    .map(d -> d.resolve("root/usr/src/linux-source-7.2"))
                    .filter(t -> Files.isRegularFile(t.resolve("mm/hmm.c")))
                    .sorted().toList();
        }
    }

    /**
     * Applies a unified diff to a file's text the way {@code patch -p1} does without fuzz: every hunk's
     * context and removed lines must appear, in order, at its line or at any offset after the previous hunk.
     */
    static String apply(String text, List<String> diff) {
        List<String> lines = new ArrayList<>(List.of(text.split("\n", -1)));
        int floor = 0;
        int offset = 0;
        for (int i = 0; i < diff.size(); i++) {
            Matcher h = HUNK.matcher(diff.get(i));
            if (!h.matches()) {
                continue;
            }
            List<String> oldLines = new ArrayList<>();
            List<String> newLines = new ArrayList<>();
            int j = i + 1;
            for (; j < diff.size() && !diff.get(j).startsWith("@@") && !diff.get(j).startsWith("diff --git"); j++) {
                String l = diff.get(j);
                if (l.startsWith("\\")) {
                    continue; // "\ No newline at end of file"
                }
                char c = l.isEmpty() ? ' ' : l.charAt(0);
                String body = l.isEmpty() ? "" : l.substring(1);
                if (c == ' ' || c == '-') {
                    oldLines.add(body);
                }
                if (c == ' ' || c == '+') {
                    newLines.add(body);
                }
            }
            int expected = Math.max(floor, Integer.parseInt(h.group(1)) - 1 + offset);
            int at = find(lines, oldLines, expected, floor);
            if (at < 0) {
                throw new IllegalStateException("hunk '" + diff.get(i) + "' does not match (context changed)");
            }
            lines.subList(at, at + oldLines.size()).clear();
            lines.addAll(at, newLines);
            offset = at - (Integer.parseInt(h.group(1)) - 1) + newLines.size() - oldLines.size();
            floor = at + newLines.size();
            i = j - 1;
        }
        return String.join("\n", lines);
    }

    /** The match of {@code want} in {@code lines} nearest to {@code expected}, not before {@code floor}. */
    static int find(List<String> lines, List<String> want, int expected, int floor) {
        for (int d = 0; d <= lines.size(); d++) {
            for (int at : new int[] {expected - d, expected + d}) {
                if (at >= floor && at + want.size() <= lines.size() && lines.subList(at, at + want.size()).equals(want)) {
                    return at;
                }
            }
        }
        return -1;
    }

    @Test
    void theApplyCheckRefusesAPatchWhoseContextChanged() {
        String text = "a\nb\nc\nd\n";
        List<String> diff = List.of("diff --git a/f b/f", "--- a/f", "+++ b/f", "@@ -2,2 +2,2 @@", " b", "-c", "+C");
        assertEquals("a\nb\nC\nd\n", apply(text, diff));
        assertEquals("x\na\nb\nC\nd\n", apply("x\n" + text, diff), "an offset is allowed, as patch allows it");
        IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                () -> apply("a\nB\nc\nd\n", diff));
        assertTrue(e.getMessage().contains("does not match"), e.getMessage());
    }

    /** " (source root linux-source-7.2 VERSION)" for a cached source root, from its cache entry; else "". */
    static String version(Path tree) {
        Path entry = tree.toAbsolutePath();
        for (int up = 0; up < 4 && entry != null; up++) {
            entry = entry.getParent();
        }
        if (entry == null || !Files.isRegularFile(entry.resolve(ImageCache.COMPLETE))) {
            return "";
        }
        Properties p = new Properties();
        try (InputStream in = Files.newInputStream(entry.resolve(ImageCache.COMPLETE))) {
            p.load(in);
        } catch (IOException e) {
            return "";
        }
        return " (" + p.getProperty("what", "?") + ")";
    }
}
