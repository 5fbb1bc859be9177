package dev.hmmmirror.suite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hmmmirror.vm.result.TestOutcome;
import dev.hmmmirror.vm.result.TestOutcome.Status;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * A matrix that mixes architectures leads with the tests whose outcome differs between the same kernel on
 * different architectures or page sizes (made-up outcomes; the rule is {@link ArchDifferences}'s), and every
 * report names each kernel's architecture and page size.
 */
class ArchDifferencesTest {
    /** A test outcome: {@code name} is {@code Class.method}; a skip's reason follows a colon in {@code how}. */
    private static TestOutcome o(String name, String how) {
        String[] cm = name.split("\\.");
        String[] sr = how.split(": ", 2);
        Status s = switch (sr[0]) {
            case "pass" -> Status.PASSED;
            case "FAIL" -> Status.FAILED;
            case "skip" -> Status.SKIPPED;
            case "NOBOOT" -> Status.BOOT_FAILED;
            default -> throw new IllegalArgumentException(how);
        };
        return new TestOutcome(cm[0], cm[1], s, sr.length > 1 ? sr[1] : "", "");
    }

    /** A run of the known profile {@code profile} (its platform from the profile) with outcomes name, how, ... */
    private static KernelRun run(String profile, String... outcomes) {
        List<TestOutcome> list = new ArrayList<>();
        for (int i = 0; i < outcomes.length; i += 2) {
            list.add(o(outcomes[i], outcomes[i + 1]));
        }
        return new KernelRun(profile, "7.2.13", list, Path.of(profile), List.of());
    }

    private static List<String> tests(ArchDifferences.Group g) {
        return g.rows().stream().map(ArchDifferences.Row::test).toList();
    }

    @Test
    void theSameKernelIsComparedAcrossArchitecturesNeverTwoKernels() {
        KernelRun sid = run("debian-sid", "A.same", "pass", "A.breaks", "pass", "A.thp", "skip: needs a 2 MiB THP",
                "A.why", "skip: no test_hmm.ko", "A.onlyHere", "pass", "A.trixie", "pass");
        KernelRun trixie = run("debian-trixie", "A.same", "pass", "A.breaks", "FAIL", "A.trixie", "skip: 6.12");
        KernelRun arm = run("debian-sid-arm64", "A.same", "pass", "A.breaks", "FAIL",
                "A.thp", "skip: needs a 512 MiB THP", "A.why", "skip: no DEVICE_PRIVATE", "A.trixie", "pass");
        List<KernelRun> runs = List.of(sid, trixie, arm);
        assertTrue(ArchDifferences.applies(runs));
        ArchDifferences d = ArchDifferences.of(runs);
        assertEquals(1, d.groups().size(), "debian-sid with debian-sid-arm64; debian-trixie has no arm64 twin");
        ArchDifferences.Group g = d.groups().getFirst();
        assertEquals("debian-sid", g.family());
        assertEquals(List.of("debian-sid", "debian-sid-arm64"), g.kernels().stream().map(KernelRun::profile).toList());
        assertEquals(List.of("A.breaks", "A.why"), tests(g), "a status that differs, and two skips for different "
                + "reasons; not a skip whose reason differs only in a size, not a test one kernel did not run, and "
                + "not trixie's A.trixie skip (another kernel)");
        assertEquals(List.of("pass", "FAIL"), g.rows().getFirst().outcomes());
        assertEquals(List.of("skip: no test_hmm.ko", "skip: no DEVICE_PRIVATE"), g.rows().get(1).outcomes());
        assertEquals(1, d.unpaired().size());
        assertTrue(d.unpaired().getFirst().startsWith("debian-trixie (x86-64, 4 KiB pages): no other architecture"),
                d.unpaired().getFirst());
        assertEquals(2, d.count());
    }

    @Test
    void pageSizesOfOneArchitectureAreComparedAndAKernelThatDidNotBootIsLeftOut() {
        KernelRun x86 = run("built-7.2", "T.a", "pass", "T.b", "pass", "T.c", "pass");
        KernelRun k4 = run("built-7.2-arm64", "T.a", "pass", "T.b", "pass", "T.c", "pass");
        KernelRun k64 = run("built-7.2-arm64-64k", "T.a", "pass", "T.b", "FAIL", "T.c", "pass");
        ArchDifferences d = ArchDifferences.of(List.of(x86, k4, k64));
        ArchDifferences.Group g = d.groups().getFirst();
        assertEquals(List.of("T.b"), tests(g), "64 KiB pages fail what 4 KiB pages of both architectures pass");
        assertEquals(List.of("pass", "pass", "FAIL"), g.rows().getFirst().outcomes());

        KernelRun k4self = new KernelRun("built-7.2-arm64", "7.2.13", k4.outcomes(), Path.of("k4"),
                List.of(o("hmm-tests.migrate_remap_fault", "pass"), o("hmm-tests.open_close", "pass")));
        KernelRun k64self = new KernelRun("built-7.2-arm64-64k", "7.2.13", k64.outcomes(), Path.of("k64"),
                List.of(o("hmm-tests.migrate_remap_fault", "FAIL"), o("hmm-tests.open_close", "pass")));
        assertEquals(List.of("T.b", "hmm-tests.migrate_remap_fault"),
                tests(ArchDifferences.of(List.of(x86, k4self, k64self)).groups().getFirst()),
                "the kernel's own selftests are compared too, where two kernels ran them (built-7.2 did not here)");

        ArchDifferences onlyArm = ArchDifferences.of(List.of(k4, k64));
        assertTrue(ArchDifferences.applies(List.of(k4, k64)), "arm64/4K and arm64/64K are two platforms");
        assertEquals(List.of("T.b"), tests(onlyArm.groups().getFirst()));

        KernelRun noBoot = run("built-7.2-arm64", "(setup).image and boot", "NOBOOT");
        ArchDifferences d2 = ArchDifferences.of(List.of(x86, noBoot, k64));
        assertEquals(List.of("built-7.2", "built-7.2-arm64-64k"),
                d2.groups().getFirst().kernels().stream().map(KernelRun::profile).toList());
        assertEquals(List.of("built-7.2-arm64 (arm64, 4 KiB pages)"), d2.notBooted());
        assertEquals(List.of("T.b"), tests(d2.groups().getFirst()), "not every test as '-' against a kernel that did not boot");
    }

    @Test
    void aMatrixOfOneArchitectureAndPageSizeHasNoSuchSection(@TempDir Path dir) throws Exception {
        List<KernelRun> runs = List.of(run("debian-sid", "A.x", "pass"), run("built-7.2", "A.x", "FAIL"));
        assertFalse(ArchDifferences.applies(runs));
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        Reports.printTable(runs, new PrintStream(buf, true, StandardCharsets.UTF_8));
        assertFalse(buf.toString(StandardCharsets.UTF_8).contains("differences between architectures"));
        Reports.write(runs, dir);
        assertNull(Summary.read(Files.readAllBytes(dir.resolve("summary.json"))).archDifferences());
        assertFalse(Files.readString(dir.resolve("index.html")).contains("arch-differences"));
    }

    @Test
    void everyReportLeadsWithTheDifferencesAndNamesEachKernelsArchitecture(@TempDir Path dir) throws Exception {
        List<KernelRun> runs = List.of(run("debian-sid", "DeviceOpenIT.opens", "pass", "InvalidationIT.unmap", "pass"),
                run("debian-sid-arm64", "DeviceOpenIT.opens", "pass", "InvalidationIT.unmap", "FAIL"));
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        Reports.printTable(runs, new PrintStream(buf, true, StandardCharsets.UTF_8));
        String text = buf.toString(StandardCharsets.UTF_8);
        assertTrue(text.startsWith("differences between architectures (x86-64, 4 KiB pages; arm64, 4 KiB pages): 1 test(s)"),
                text);
        assertTrue(text.indexOf("InvalidationIT.unmap") < text.indexOf("DeviceOpenIT.opens"), "first: " + text);
        assertTrue(text.lines().anyMatch(l -> l.matches("arch/page size +amd64/4K +arm64/4K")), text);

        Reports.write(runs, dir);
        Summary json = Summary.read(Files.readAllBytes(dir.resolve("summary.json")));
        assertEquals("arm64", json.kernels().get(1).arch());
        assertEquals(4, json.kernels().get(1).pageSizeKiB());
        assertEquals("debian-sid", json.kernels().get(1).kernelFamily());
        Summary.ArchGroup g = json.archDifferences().groups().getFirst();
        assertEquals(List.of(new Summary.ArchKernel("debian-sid", "amd64", 4), new Summary.ArchKernel("debian-sid-arm64",
                "arm64", 4)), g.kernels());
        assertEquals(List.of(new Summary.ArchRow("InvalidationIT.unmap", List.of("pass", "FAIL"))), g.tests());

        String html = Files.readString(dir.resolve("index.html"));
        assertTrue(html.indexOf("id=\"arch-differences\"") > 0
                && html.indexOf("id=\"arch-differences\"") < html.indexOf("id=\"totals\""), "first on the page: " + html);
        assertTrue(html.contains("<td title=\"arm64, 4 KiB pages\">arm64/4K</td>"), "the totals name each kernel's "
                + "architecture and page size");

        Element suite = DocumentBuilderFactory.newDefaultInstance().newDocumentBuilder()
                .parse(dir.resolve("junit-debian-sid-arm64.xml").toFile()).getDocumentElement();
        NodeList props = suite.getElementsByTagName("property");
        List<String> pairs = new ArrayList<>();
        for (int i = 0; i < props.getLength(); i++) {
            Element p = (Element) props.item(i);
            pairs.add(p.getAttribute("name") + "=" + p.getAttribute("value"));
        }
        assertEquals(List.of("kernel=7.2.13", "arch=arm64", "kernelFamily=debian-sid", "pageSizeKiB=4"), pairs);
    }

    @Test
    void theGuestsOwnWordOnArchitectureAndPageSize() {
        assertEquals(Optional.of(new KernelRun.Platform("arm64", 64, "built-7.2")),
                SuiteRunner.reportedPlatform("@@PLATFORM aarch64 65536\n", "built-7.2"));
        assertEquals(Optional.of(new KernelRun.Platform("amd64", 4, "debian-sid")),
                SuiteRunner.reportedPlatform("noise\n@@PLATFORM x86_64 4096\n", "debian-sid"));
        assertEquals(Optional.empty(), SuiteRunner.reportedPlatform("@@PLATFORM aarch64 \n", "x"),
                "no getconf: the profile's word instead");
        assertEquals(Optional.empty(), SuiteRunner.reportedPlatform(null, "x"));
        assertEquals("arm64/16K", KernelRun.Platform.of("debian-sid-arm64-16k").label());
        assertEquals("?/?", KernelRun.Platform.of("tree:/somewhere").label(), "a tree: unknown until its guest says");
    }
}
