package dev.hmmmirror.vm.coverage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.hmmmirror.vm.build.ModuleCoverageBuild;
import dev.hmmmirror.vm.host.Toolchain;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Line coverage from real gcov output: a C file built with {@code --coverage} on this host, run
 * twice with different arguments (two "parts"), each run's counters turned into lines by {@link Gcov}
 * exactly as for the module (scratch directory at the build's path, kept notes and sources).
 */
class CoverageTest {
    private static final String SOURCE = """
            #include <stdlib.h>
            int main(int argc, char **argv)
            {
            \tif (argc > 1) {
            \t\treturn atoi(argv[1]) ? 1 : 2;
            \t}
            \treturn 0;
            }
            """;

    @TempDir
    Path tmp;

    @Test
    void partOfFollowsTheTestClassesPackage() {
        assertEquals(ModuleCoverage.EXPLORER,
                ModuleCoverage.partOf("[engine:junit-jupiter]/[class:dev.hmmmirror.guest.explore.ExplorerIT]/[method:a()]"));
        assertEquals(ModuleCoverage.SUITE,
                ModuleCoverage.partOf("[engine:junit-jupiter]/[class:dev.hmmmirror.guest.mm.ReclaimIT]/[method:a()]"));
        assertEquals(ModuleCoverage.SUITE, ModuleCoverage.partOf("[engine:junit-jupiter]/[class:Explorer]/[method:a()]"));
    }

    @Test
    void twoRunsOfARealProgramGiveEachPartsLinesAndTheirUnion() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/gcc")) && Files.isExecutable(Path.of("/usr/bin/gcov")),
                "needs gcc and gcov on this host (Debian: gcc)");
        Toolchain host = Toolchain.host();
        String scratch = "hmm-coverage-test-" + ProcessHandle.current().pid();
        // "build": compile in the scratch directory, keep notes + sources, as ModuleBuild does for the module
        Path work = host.scratch(scratch);
        Files.createDirectories(work.resolve("kmod"));
        Files.createDirectories(work.resolve("native-headers"));
        Files.writeString(work.resolve("kmod/prog.c"), SOURCE);
        Path log = tmp.resolve("build.log");
        host.run(log, 60, "cd " + work.resolve("kmod") + " && gcc --coverage -O0 -c prog.c -o prog.o"
                + " && gcc --coverage prog.o -o prog");
        Path entry = Files.createDirectories(tmp.resolve("entry"));
        ModuleCoverageBuild.keep(work, scratch, work.resolve("kmod").toString(), entry);
        // the "guest": run the program, copy its counters away and reset (delete) them, as the dumps do
        Path suite = run(work, "", "suite");
        Path explorer = run(work, "7", "explorer");
        host.run(log, 30, "rm -rf " + work);

        ModuleCoverageBuild build = ModuleCoverageBuild.of(entry.resolve("hmm_mirror.ko")).orElseThrow();
        Gcov gcov = new Gcov(host, build, tmp.resolve("report"));
        Coverage c = Coverage.empty().with(ModuleCoverage.SUITE, gcov.lines(suite))
                .with(ModuleCoverage.EXPLORER, gcov.lines(explorer));
        Coverage.FileCoverage f = c.files().get("prog.c");
        assertTrue(f.executable().containsAll(Set.of(2, 4, 5, 7)), "lines with code: " + f.executable());
        assertTrue(f.by(ModuleCoverage.SUITE).containsAll(Set.of(4, 7)) && !f.by(ModuleCoverage.SUITE).contains(5),
                "no argument: the if is false: " + f.by(ModuleCoverage.SUITE));
        assertTrue(f.by(ModuleCoverage.EXPLORER).contains(5) && !f.by(ModuleCoverage.EXPLORER).contains(7),
                "an argument: line 5 returns: " + f.by(ModuleCoverage.EXPLORER));
        assertEquals(f.executable(), f.all(), "together every line with code ran");
        assertEquals("\treturn 0;", f.source().get(6));
        assertEquals(List.of(ModuleCoverage.SUITE, ModuleCoverage.EXPLORER), c.parts());

        CoverageReport.write(c, tmp.resolve("report"));
        List<List<String>> rows = CoverageReport.read(tmp.resolve("report").resolve(CoverageReport.SUMMARY));
        assertEquals(List.of("file", "lines", "suite", "explorer", "all"), rows.getFirst());
        assertEquals("prog.c", rows.get(1).getFirst());
        assertEquals(rows.get(1).get(1), rows.get(1).get(4), "all lines covered by both: " + rows.get(1));
        assertEquals("module", rows.getLast().getFirst());
        String html = Files.readString(tmp.resolve("report/index.html"));
        assertTrue(html.contains("<span class=explorer>    5  "), "line 5 marked as the explorer's only");
        assertTrue(html.contains("<span class=suite>    7  "), "line 7 marked as the suite's only");
    }

    @Test
    void aListingWithoutCountsIsEmpty() {
        Gcov.FileLines l = Gcov.parse(List.of("        -:    0:Source:x.c", "    #####:    2:int x;",
                "       3*:    3:y();", "        -:    4:}"));
        assertEquals(Set.of(2, 3), l.executable());
        assertEquals(Set.of(3), l.covered());
        assertEquals(List.of("", "int x;", "y();", "}"), l.source());
        assertEquals(Map.of(), Coverage.empty().files());
    }

    private Path run(Path work, String arg, String part) throws IOException {
        Path out = Files.createDirectories(tmp.resolve("dump-" + part));
        Toolchain.host().run(tmp.resolve("run.log"), 30, "cd " + work.resolve("kmod") + " && { ./prog " + arg
                + " || true; } && mv prog.gcda " + out + "/");
        return out;
    }
}
