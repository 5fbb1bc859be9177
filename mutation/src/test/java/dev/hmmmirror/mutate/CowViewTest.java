package dev.hmmmirror.mutate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.hmmmirror.vm.host.Exec;
import dev.hmmmirror.vm.host.Prerequisites;
import dev.hmmmirror.vm.host.SetupException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A mutant's copy-on-write view on a toy "kernel tree" (a Makefile that "compiles" one file): the patch
 * and the rebuild land in the view, the tree itself never changes, only what the patch touches is
 * rebuilt, and closing the view leaves no mount behind. Needs root (overlayfs), make and patch.
 */
class CowViewTest {
    private static final String MAKEFILE = """
            vmlinux: prog
            prog: prog.c
            \t@echo "  CC      prog.o"
            \tcp prog.c prog
            modules:
            \t@true
            """;

    private static Path tree(Path dir) throws Exception {
        Path t = Files.createDirectories(dir.resolve("linux"));
        Files.writeString(t.resolve("Makefile"), MAKEFILE);
        Files.writeString(t.resolve("prog.c"), "int x = 1;\n");
        Exec.run(dir.resolve("base.log"), 60, List.of("make", "-C", t.toString(), "vmlinux"));
        return t;
    }

    private static Map<String, String> checksums(Path dir) throws Exception {
        Map<String, String> out = new TreeMap<>();
        try (var s = Files.walk(dir)) {
            for (Path f : s.filter(Files::isRegularFile).toList()) {
                out.put(dir.relativize(f).toString(), HexFormat.of().formatHex(java.security.MessageDigest
                        .getInstance("SHA-256").digest(Files.readAllBytes(f))) + " " + Files.getLastModifiedTime(f));
            }
        }
        return out;
    }

    private static Mutant mutant(String name, String diff) {
        return new Mutant(name, Path.of(name + ".patch"), Map.of("Mutant", name), diff);
    }

    private static boolean mounted(Path under) throws Exception {
        return Files.readAllLines(Path.of("/proc/self/mounts")).stream().anyMatch(l -> l.contains(" " + under));
    }

    @Test
    void theMutantChangesTheViewOnlyAndOnlyItsFileIsRebuilt(@TempDir Path dir) throws Exception {
        assumeTrue(Prerequisites.isRoot(), "overlayfs mounts need root");
        assumeTrue(Prerequisites.which("make").isPresent() && Prerequisites.which("patch").isPresent(), "needs make, patch");
        Path tree = tree(dir);
        Map<String, String> before = checksums(tree);
        BaseKernel base = BaseKernel.tree(tree, null);
        Path slot = dir.resolve("slot");
        try (CowView v = CowView.open(base, slot)) {
            CowView.Cost nothing = v.build(dir.resolve("baseline.log"), 1, Duration.ofMinutes(1));
            assertEquals(0, nothing.compiled(), "nothing changed: nothing compiled");
            v.apply(mutant("m1", "--- a/prog.c\n+++ b/prog.c\n@@ -1 +1 @@\n-int x = 1;\n+int x = 2;\n"), dir.resolve("m1.log"));
            CowView.Cost cost = v.build(dir.resolve("m1.log"), 1, Duration.ofMinutes(1));
            assertEquals(1, cost.compiled());
            assertEquals("int x = 2;\n", Files.readString(v.tree().resolve("prog")));
            assertTrue(Files.isRegularFile(slot.resolve("upper/main/prog.c")), "the change is in the upper layer");
            assertEquals(v.tree(), v.profile().tree());
        }
        assertEquals(before, checksums(tree), "the tree itself changed");
        assertFalse(mounted(slot), "a mount was left behind");
        try (CowView v = CowView.open(base, slot)) {
            assertEquals("int x = 1;\n", Files.readString(v.source().resolve("prog.c")), "a fresh view for the next mutant");
            SetupException e = assertThrows(SetupException.class, () -> v.apply(
                    mutant("m2", "--- a/prog.c\n+++ b/prog.c\n@@ -1 +1 @@\n-int y = 1;\n+int y = 2;\n"), dir.resolve("m2.log")));
            assertTrue(e.getMessage().contains("patch failed"), e.getMessage());
        }
        assertFalse(mounted(slot));
    }

    @Test
    void aBuildErrorNamesItsFailingLines(@TempDir Path dir) throws Exception {
        assumeTrue(Prerequisites.isRoot(), "overlayfs mounts need root");
        assumeTrue(Prerequisites.which("make").isPresent() && Prerequisites.which("patch").isPresent(), "needs make, patch");
        Path tree = tree(dir);
        Files.writeString(tree.resolve("Makefile"), MAKEFILE.replace("\tcp prog.c prog", "\t@grep -q 'x = 1' prog.c || "
                + "{ echo 'prog.c:1:5: error: x must be 1'; exit 1; }\n\tcp prog.c prog"));
        try (CowView v = CowView.open(BaseKernel.tree(tree, null), dir.resolve("slot"))) {
            v.apply(mutant("m", "--- a/prog.c\n+++ b/prog.c\n@@ -1 +1 @@\n-int x = 1;\n+int x = 3;\n"), dir.resolve("m.log"));
            SetupException e = assertThrows(SetupException.class, () -> v.build(dir.resolve("m.log"), 1,
                    Duration.ofMinutes(1)));
            assertTrue(e.getMessage().contains("prog.c:1:5: error: x must be 1"), e.getMessage());
        }
    }
}
