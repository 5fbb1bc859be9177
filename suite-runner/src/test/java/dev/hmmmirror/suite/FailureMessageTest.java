package dev.hmmmirror.suite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hmmmirror.vm.result.TestOutcome;
import java.io.ByteArrayInputStream;
import java.util.List;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Element;

/** A failed test's whole message reaches the reports, not only its first line. */
class FailureMessageTest {
    @Test
    void everyLineOfAFailureMessageIsKept() {
        AssertionError e = new AssertionError("hmm_mirror and rxe ODP differ:\n  write to an unmapped page: DIFFERENT");
        assertEquals("hmm_mirror and rxe ODP differ:\n  write to an unmapped page: DIFFERENT", SuiteRunner.message(e));
    }

    @Test
    void aLongMessageIsCutAndSaysHowMuchIsLeft() {
        String m = SuiteRunner.message(new AssertionError("x".repeat(SuiteRunner.MESSAGE_LIMIT + 25)));
        assertTrue(m.startsWith("x".repeat(SuiteRunner.MESSAGE_LIMIT) + " [... 25 more characters]"), m);
    }

    @Test
    void theJunitXmlKeepsTheMessagesLines() throws Exception {
        String message = "hmm_mirror and rxe ODP differ:\n  write to an unmapped page: DIFFERENT";
        byte[] xml = JunitXml.of("built-7.2", "7.2.13", List.of(
                new TestOutcome("RxeDifferentialIT", "teardownMunmapThenAccess", TestOutcome.Status.FAILED, message, "")));
        Element failure = (Element) DocumentBuilderFactory.newInstance().newDocumentBuilder()
                .parse(new ByteArrayInputStream(xml)).getElementsByTagName("failure").item(0);
        assertEquals(message, failure.getAttribute("message"));
    }
}
