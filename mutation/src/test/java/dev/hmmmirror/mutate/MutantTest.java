package dev.hmmmirror.mutate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hmmmirror.vm.host.SetupException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The catalogue's file format: header lines, "---", a unified diff; plain patches and series too. */
class MutantTest {
    static Path devMutants() throws Exception {
        return Path.of(MutantTest.class.getResource("dev-mutants").toURI());
    }

    @Test
    void theDevelopmentMutantsParseWithEveryRequiredHeader() throws Exception {
        List<Mutant> all = Mutant.catalogue(devMutants());
        assertEquals(List.of("01-hmm-write-fault-dropped", "02-hmm-device-private-write-lost", "03-hmm-comment-equivalent"),
                all.stream().map(Mutant::name).toList());
        for (Mutant m : all) {
            assertEquals(List.of(), m.missingHeaders(), m.name());
            assertEquals(List.of("mm/hmm.c"), m.files(), m.name());
            assertTrue(m.diff().startsWith("--- a/mm/hmm.c\n+++ b/mm/hmm.c\n@@ "), m.name());
            assertFalse(m.memoryCorrupting());
        }
        Mutant first = all.getFirst();
        assertEquals("hmm_pte_need_fault", first.header("Function").orElseThrow());
        assertEquals("narrow", first.header("Rebuild").orElseThrow());
        assertTrue(first.equivalence().isEmpty());
        assertTrue(all.get(2).equivalence().orElseThrow().contains("only a comment changes"));
    }

    @Test
    void aPlainPatchIsAMutantNamedAfterItsFile(@TempDir Path dir) throws Exception {
        Path p = Files.writeString(dir.resolve("0001-mm-hmm-fix.patch"), """
                From 1234 Mon Sep 17 00:00:00 2001
                Subject: [PATCH] mm/hmm: fix

                ---
                 mm/hmm.c | 2 +-
                diff --git a/mm/hmm.c b/mm/hmm.c
                --- a/mm/hmm.c
                +++ b/mm/hmm.c
                @@ -1 +1 @@
                -a
                +b
                """);
        Mutant m = Mutant.read(p);
        assertEquals("0001-mm-hmm-fix", m.name());
        assertEquals(List.of(), m.missingHeaders(), "no header: nothing to check");
        assertEquals(List.of("mm/hmm.c"), m.files());
        assertTrue(m.diff().contains("Subject: [PATCH] mm/hmm: fix"), "the whole file goes to patch");
    }

    @Test
    void aSeriesIsOneMutantAppliedInOrder(@TempDir Path dir) throws Exception {
        Path a = Files.writeString(dir.resolve("0001-a.patch"), "--- a/mm/a.c\n+++ b/mm/a.c\n@@ -1 +1 @@\n-a\n+b\n");
        Path b = Files.writeString(dir.resolve("0002-b.patch"), "--- a/mm/b.c\n+++ b/mm/b.c\n@@ -1 +1 @@\n-a\n+b\n");
        Mutant m = Mutant.series("mine", List.of(a, b));
        assertEquals("mine", m.name());
        assertEquals(List.of("mm/a.c", "mm/b.c"), m.files());
        assertEquals("the series 0001-a.patch 0002-b.patch", m.describe());
    }

    @Test
    void aHeaderWithoutADiffIsRefused(@TempDir Path dir) throws Exception {
        Path p = Files.writeString(dir.resolve("x.patch"), "Mutant: nothing\nFile: mm/hmm.c\n---\n\n");
        SetupException e = assertThrows(SetupException.class, () -> Mutant.read(p));
        assertTrue(e.getMessage().contains("no unified diff"), e.getMessage());
    }

    @Test
    void missingHeadersAreNamed(@TempDir Path dir) throws Exception {
        Path p = Files.writeString(dir.resolve("x.patch"), "Mutant: m\nFile: mm/hmm.c\n---\n--- a/mm/hmm.c\n+++ b/mm/hmm.c\n");
        assertEquals(List.of("Function", "Kind", "Breaks", "User-visible", "Memory-corrupting", "Rebuild"),
                Mutant.read(p).missingHeaders());
    }
}
