package dev.hmmmirror.suite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hmmmirror.vm.result.TestOutcome;
import dev.hmmmirror.vm.result.TestOutcome.Status;
import dev.hmmmirror.vm.selftest.KernelSelftests;
import dev.hmmmirror.vm.selftest.PeerSuite;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * The report files: the kernel's own selftests are reported next to ours and never change our exit
 * code; summary.json and the JUnit XML, read back by a JSON and an XML parser, hold exactly what
 * the runs held, whatever characters a test's name or message has; the page shows each table once.
 */
class ReportsTest {
    private static TestOutcome ours(String test, Status s) {
        return new TestOutcome("MirrorAccessIT", test, s, s == Status.PASSED ? "" : "boom", "3-4");
    }

    private static TestOutcome kernels(String test, Status s) {
        return new TestOutcome(KernelSelftests.CLASS, test, s, s == Status.FAILED ? "hmm-tests.c:1:x" : "", "7-9");
    }

    @Test
    void kernelSelftestFailuresAreReportedButNotCounted(@TempDir Path dir) throws Exception {
        Files.createDirectories(dir.resolve("built-7.2"));
        Files.writeString(dir.resolve("built-7.2/console.log"), "a\nb\nc\nd\ne\nf\ng\nh\ni\n");
        KernelRun run = new KernelRun("built-7.2", "7.2.13", List.of(ours("readsThroughTheDevice", Status.PASSED)),
                dir.resolve("built-7.2"), List.of(kernels("hmm.hmm_device_private.open_close", Status.PASSED),
                        kernels("hmm.hmm_device_private.exclusive", Status.FAILED)));
        assertEquals(0, Reports.exitCode(List.of(run)), "the kernel's own failures are not ours");

        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        Reports.printTable(List.of(run), new PrintStream(buf, true, StandardCharsets.UTF_8));
        String table = buf.toString(StandardCharsets.UTF_8);
        assertTrue(table.contains("MirrorAccessIT.readsThroughTheDevice") && table.contains("the kernel's own hmm selftests")
                && table.contains("hmm-tests.hmm.hmm_device_private.exclusive"), table);

        Reports.write(List.of(run), dir);
        String text = Files.readString(dir.resolve("summary.json"));
        assertTrue(text.contains("\"exitCode\": 0"), "indented, \"name\": value, as readers grep it: " + text);
        Summary json = Summary.read(text.getBytes(StandardCharsets.UTF_8));
        assertEquals(0, json.exitCode());
        Summary.Kernel k = json.kernels().getFirst();
        assertEquals(Map.of("passed", 1L, "failed", 0L, "skipped", 0L, "kernel_splat", 0L, "boot_failed", 0L), k.totals());
        assertEquals(Map.of("passed", 1L, "failed", 1L, "skipped", 0L, "kernel_splat", 0L, "boot_failed", 0L),
                k.kernelSelftests().totals());
        assertEquals(null, k.upstreamParity(), "no parity map, no parity rows");
        assertFalse(text.contains("upstreamParity"), "left out, not null: " + text);

        Element suite = parse(dir.resolve("junit-built-7.2-kselftest.xml")).getDocumentElement();
        assertEquals("1", suite.getAttribute("failures"));
        Element failed = (Element) suite.getElementsByTagName("testcase").item(1);
        assertEquals("hmm.hmm_device_private.exclusive", failed.getAttribute("name"));
        assertEquals("hmm-tests.c:1:x", ((Element) failed.getElementsByTagName("failure").item(0)).getAttribute("message"));
        assertFalse(Files.readString(dir.resolve("junit-built-7.2.xml")).contains("hmm_device_private"));
        String html = Files.readString(dir.resolve("index.html"));
        assertTrue(html.contains("href=\"#built-7.2-hmm-tests.hmm.hmm_device_private.exclusive\""), "a failure links to its console part");
        assertTrue(html.contains("<pre>a\nb"), "the failing test's console lines are shown");
    }

    @Test
    void thePeerSuiteIsReportedBesideOursNotCountedAndSaysWhyItSkipped(@TempDir Path dir) throws Exception {
        Files.createDirectories(dir.resolve("debian-sid"));
        Files.writeString(dir.resolve("debian-sid/console.log"), "a\nb\nc\nd\n");
        KernelRun sid = new KernelRun("debian-sid", "7.2.13+deb14-amd64", List.of(ours("readsThroughTheDevice",
                Status.PASSED)), dir.resolve("debian-sid"), List.of(), KernelRun.Timing.NONE, List.of(
                        new TestOutcome(PeerSuite.CLASS, "test_odp.OdpTestCase.test_odp_rc_rdma_read", Status.PASSED, "",
                                "2-3"),
                        new TestOutcome(PeerSuite.CLASS, "test_odp.OdpTestCase.test_odp_xrc_traffic", Status.FAILED,
                                "ERROR: PyverbsRDMAError: Failed to create XRCD", "3-4")));
        KernelRun trixie = new KernelRun("debian-trixie", "6.12.117+deb13-amd64", List.of(ours("readsThroughTheDevice",
                Status.PASSED)), dir.resolve("debian-trixie"), List.of(), KernelRun.Timing.NONE, List.of(
                        new TestOutcome(PeerSuite.CLASS, "(suite)", Status.SKIPPED,
                                "rxe0 has no On-Demand Paging on kernel 6.12.117+deb13-amd64", "")));
        List<KernelRun> runs = List.of(sid, trixie);
        assertEquals(0, Reports.exitCode(runs), "rdma-core's failures are not ours");
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        Reports.printTable(runs, new PrintStream(buf, true, StandardCharsets.UTF_8));
        String table = buf.toString(StandardCharsets.UTF_8);
        assertTrue(table.contains("rdma-core's ODP tests") && table.contains("rdma-core.test_odp.OdpTestCase.test_odp_rc_rdma_read"),
                table);

        Reports.write(runs, dir);
        Summary json = Summary.read(Files.readAllBytes(dir.resolve("summary.json")));
        assertEquals(Map.of("passed", 1L, "failed", 1L, "skipped", 0L, "kernel_splat", 0L, "boot_failed", 0L),
                json.kernels().get(0).peerSuite().totals());
        assertEquals("rxe0 has no On-Demand Paging on kernel 6.12.117+deb13-amd64",
                json.kernels().get(1).peerSuite().tests().getFirst().message());
        assertEquals(null, json.kernels().get(0).kernelSelftests());
        Element suite = parse(dir.resolve("junit-debian-sid-rdma-core.xml")).getDocumentElement();
        assertEquals("1", suite.getAttribute("failures"));
        assertTrue(suite.getAttribute("name").startsWith("rdma-core ODP tests"), suite.getAttribute("name"));
        String html = Files.readString(dir.resolve("index.html"));
        assertTrue(html.contains("id=\"rdma-core\""), "its own section");
        assertTrue(html.contains("title=\"rxe0 has no On-Demand Paging on kernel 6.12.117+deb13-amd64\">skipped</td>"),
                "the totals say skipped, and why: " + html);
        assertTrue(html.contains("href=\"#debian-sid-rdma-core.test_odp.OdpTestCase.test_odp_xrc_traffic\""),
                "a failure links to its console part");
    }

    /** Quotes, markup, entities, a CDATA end, control characters, a line break, a tab, a non-BMP character. */
    private static final String HOSTILE = "q\"uo'te <b>bold</b> &amp; ]]> \\back\\ \u0001\u0007\u001b[31m tab\tnew\nline\r "
            + "\uD83D\uDE00 \u00e9\u4e2d \u2028";

    private static List<TestOutcome> hostile(String cls) {
        List<TestOutcome> out = new ArrayList<>();
        for (Status s : Status.values()) {
            out.add(new TestOutcome(cls + HOSTILE, "test " + s + HOSTILE, s, "message " + HOSTILE, "1-2", 0.5));
        }
        return out;
    }

    @Test
    void hostileNamesAndMessagesComeBackUnchanged(@TempDir Path dir) throws Exception {
        Instant t0 = Instant.parse("2026-12-02T06:00:00Z");
        KernelRun run = new KernelRun("sid " + HOSTILE, "7.2 " + HOSTILE, hostile("Our"), dir.resolve("run"),
                hostile("hmm-tests"), new KernelRun.Timing(t0, t0.plusMillis(95_123), 6.4, -1));
        UpstreamParity parity = UpstreamParity.parse(List.of("anon_read: Our#x  # a note <&>\""));
        Reports.write(List.of(run), parity, dir);

        Summary json = Summary.read(Files.readAllBytes(dir.resolve("summary.json")));
        Summary.Kernel k = json.kernels().getFirst();
        assertEquals(run.profile(), k.profile());
        assertEquals(run.kernelRelease(), k.kernel());
        assertEquals(6.4, k.initSeconds());
        assertEquals(null, k.agentReadySeconds(), "unknown is null");
        assertEquals(95.123, k.wallSeconds());
        assertEquals(run.outcomes().stream().map(Summary.Test::of).toList(), k.tests());
        assertEquals(run.outcomes().getFirst().test(), k.tests().getFirst().test(), "the very string, escapes and all");
        assertEquals(run.kernelSelftests().stream().map(Summary.Test::of).toList(), k.kernelSelftests().tests());
        assertEquals("a note <&>\"", k.upstreamParity().getFirst().note());
        assertTrue(Files.readString(dir.resolve("summary.json")).contains("\uD83D\uDE00"),
                "a non-BMP character is written as itself, not as two escapes");

        for (String file : List.of("junit-run.xml", "junit-run-kselftest.xml")) {
            List<TestOutcome> expected = file.contains("kselftest") ? run.kernelSelftests() : run.outcomes();
            Element suite = parse(dir.resolve(file)).getDocumentElement();
            assertTrue(suite.getAttribute("name").endsWith("(sid " + visible(HOSTILE) + ")"), suite.getAttribute("name"));
            assertEquals(visible("7.2 " + HOSTILE),
                    ((Element) suite.getElementsByTagName("property").item(0)).getAttribute("value"));
            assertEquals("1", suite.getAttribute("failures"));
            assertEquals("2", suite.getAttribute("errors"));
            assertEquals("1", suite.getAttribute("skipped"));
            NodeList cases = suite.getElementsByTagName("testcase");
            assertEquals(expected.size(), cases.getLength());
            for (int i = 0; i < cases.getLength(); i++) {
                Element c = (Element) cases.item(i);
                TestOutcome o = expected.get(i);
                assertEquals(visible(o.testClass()), c.getAttribute("classname"));
                assertEquals(visible(o.test()), c.getAttribute("name"));
                assertEquals("0.500", c.getAttribute("time"));
                String tag = switch (o.status()) {
                    case PASSED -> null;
                    case SKIPPED -> "skipped";
                    case FAILED -> "failure";
                    case KERNEL_SPLAT, BOOT_FAILED -> "error";
                };
                assertEquals(tag == null ? 0 : 1, c.getChildNodes().getLength() - blanks(c), o.status() + " children");
                if (tag != null) {
                    assertEquals(visible(o.message()), ((Element) c.getElementsByTagName(tag).item(0)).getAttribute("message"));
                }
            }
        }

        String html = Files.readString(dir.resolve("index.html"));
        for (String markup : List.of("<b>", "</b>", "&amp; ]]>", "\"uo'")) {
            assertFalse(html.contains(markup), "unescaped in the page: " + markup);
        }
        assertTrue(html.contains("q&quot;uo'te &lt;b&gt;bold&lt;/b&gt; &amp;amp; ]]&gt;"), "escaped in the page");
    }

    /** What XML 1.0 cannot hold, as the report shows it: the control characters as {@code \\uXXXX}. */
    private static String visible(String s) {
        return s.replace("\u0001", "\\u0001").replace("\u0007", "\\u0007").replace("\u001b", "\\u001b");
    }

    private static int blanks(Element e) {
        int n = 0;
        for (int i = 0; i < e.getChildNodes().getLength(); i++) {
            n += e.getChildNodes().item(i).getNodeType() == org.w3c.dom.Node.TEXT_NODE
                    && e.getChildNodes().item(i).getTextContent().isBlank() ? 1 : 0;
        }
        return n;
    }

    @Test
    void aLoneSurrogateIsReplacedNotFatal(@TempDir Path dir) throws Exception {
        KernelRun run = new KernelRun("sid", "7.2", List.of(new TestOutcome("A", "b", Status.FAILED, "half \uD83D pair", "")),
                dir.resolve("sid"), List.of());
        Reports.write(List.of(run), dir);
        assertEquals("half \uD83D pair", Summary.read(Files.readAllBytes(dir.resolve("summary.json"))).kernels().getFirst()
                .tests().getFirst().message(), "JSON escapes it and gets it back");
        Element failure = (Element) parse(dir.resolve("junit-sid.xml")).getElementsByTagName("failure").item(0);
        assertEquals("half \uFFFD pair", failure.getAttribute("message"));
        assertTrue(Files.readString(dir.resolve("index.html")).contains("half \uFFFD pair"));
    }

    @Test
    void thePageShowsTheParityTableOnceAfterTheKernelsSelftests(@TempDir Path dir) throws Exception {
        KernelRun run = new KernelRun("built-7.2", "7.2.13", List.of(ours("x", Status.FAILED)), dir.resolve("built-7.2"),
                List.of(kernels("hmm.hmm_device_private.anon_read", Status.PASSED)));
        Reports.write(List.of(run), UpstreamParity.parse(List.of("anon_read: MirrorAccessIT#x")), dir);
        String html = Files.readString(dir.resolve("index.html"));
        String title = "Upstream hmm-tests and ours";
        assertEquals(html.indexOf(title), html.lastIndexOf(title), "the parity table once");
        assertTrue(html.indexOf("id=\"failures\"") < html.indexOf("id=\"kselftests\"")
                && html.indexOf("id=\"kselftests\"") < html.indexOf(title), "after the failures and the kernel's selftests");
    }

    @Test
    void theHtmlBuilderEscapesTextAndAttributesAndRefusesMarkupInNames() {
        String page = Html.page(Html.el("html").add(Html.el("body").add(
                Html.el("p", "<script>alert(1)</script> & \"x\"").attr("title", "\"><img src=x>"),
                Html.el("br"), Html.a("a b/c.log", "it"))));
        assertEquals("<!DOCTYPE html><html><body><p title=\"&quot;&gt;&lt;img src=x&gt;\">&lt;script&gt;alert(1)"
                + "&lt;/script&gt; &amp; &quot;x&quot;</p><br><a href=\"a b/c.log\">it</a></body></html>\n", page);
        assertThrows(IllegalArgumentException.class, () -> Html.el("p onload=x"));
        assertThrows(IllegalArgumentException.class, () -> Html.el("p").attr("x\"", "y"));
        assertThrows(IllegalArgumentException.class, () -> new Html.Style("p{}</style><script>"));
        assertThrows(IllegalStateException.class, () -> Html.el("br").text("x"));
    }

    private static Document parse(Path xml) throws Exception {
        return DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(xml.toFile());
    }
}
