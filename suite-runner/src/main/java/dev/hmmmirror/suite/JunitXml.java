package dev.hmmmirror.suite;

import static dev.hmmmirror.suite.Runs.count;

import dev.hmmmirror.vm.result.TestOutcome;
import java.io.ByteArrayOutputStream;
import java.util.List;
import java.util.Locale;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;
import javax.xml.transform.OutputKeys;
import javax.xml.transform.Transformer;
import javax.xml.transform.TransformerException;
import javax.xml.transform.TransformerFactory;
import javax.xml.transform.dom.DOMSource;
import javax.xml.transform.stream.StreamResult;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;

/**
 * One kernel's outcomes as a JUnit XML report (the Ant/Surefire {@code testsuite} format CI
 * servers read), built as a DOM and written by the JDK's own XML serializer (not whichever a
 * classpath brings). Our outcomes come from a guest, not from a JUnit launcher in this JVM, so the
 * JUnit Platform's own report listener does not apply. Text XML 1.0 cannot hold (control
 * characters other than tab, line feed and carriage return) is written as a visible
 * {@code \\uXXXX}; a lone UTF-16 surrogate as U+FFFD.
 */
final class JunitXml {
    private JunitXml() {}

    /** The report of {@code outcomes}, a test suite named {@code name}, of the kernel {@code release}. */
    static byte[] of(String name, String release, List<TestOutcome> outcomes) {
        return of(name, release, outcomes, java.util.Map.of());
    }

    /**
     * As {@link #of(String, String, List)}, with more {@code property} elements after {@code kernel} (sorted by
     * name): the guest's {@code arch}, {@code pageSizeKiB} and {@code kernelFamily}.
     */
    static byte[] of(String name, String release, List<TestOutcome> outcomes, java.util.Map<String, String> properties) {
        Document doc = newDocument();
        Element suite = add(doc, doc, "testsuite", "name", name, "tests", String.valueOf(outcomes.size()),
                "failures", String.valueOf(count(outcomes, TestOutcome.Status.FAILED)),
                "errors", String.valueOf(count(outcomes, TestOutcome.Status.KERNEL_SPLAT)
                        + count(outcomes, TestOutcome.Status.BOOT_FAILED)),
                "skipped", String.valueOf(count(outcomes, TestOutcome.Status.SKIPPED)));
        Element props = add(doc, suite, "properties");
        add(doc, props, "property", "name", "kernel", "value", release);
        new java.util.TreeMap<>(properties).forEach((k, v) -> add(doc, props, "property", "name", k, "value", v));
        for (TestOutcome o : outcomes) {
            Element test = add(doc, suite, "testcase", "classname", o.testClass(), "name", o.test(), "time",
                    o.seconds() < 0 ? "0" : String.format(Locale.ROOT, "%.3f", o.seconds()));
            switch (o.status()) {
                case PASSED -> { }
                case SKIPPED -> add(doc, test, "skipped", "message", o.message());
                case FAILED -> add(doc, test, "failure", "message", o.message());
                case KERNEL_SPLAT, BOOT_FAILED -> add(doc, test, "error", "type", o.status().name(), "message",
                        o.message());
            }
        }
        return serialize(doc);
    }

    /** A new element {@code tag} under {@code parent}, with attributes as name, value pairs. */
    private static Element add(Document doc, Node parent, String tag, String... attributes) {
        Element e = doc.createElement(tag);
        for (int i = 0; i < attributes.length; i += 2) {
            e.setAttribute(attributes[i], xml10(attributes[i + 1]));
        }
        parent.appendChild(e);
        return e;
    }

    /** {@code s} with what XML 1.0 cannot hold made visible ({@code \\uXXXX}) or replaced (lone surrogates). */
    static String xml10(String s) {
        StringBuilder b = new StringBuilder();
        (s == null ? "" : s).codePoints().forEach(c -> {
            if (c == '\t' || c == '\n' || c == '\r' || c >= 0x20 && c <= 0xD7FF || c >= 0xE000 && c <= 0xFFFD
                    || c >= 0x10000) {
                b.appendCodePoint(c);
            } else if (c >= 0xD800 && c <= 0xDFFF) {
                b.append('\uFFFD');
            } else {
                b.append(String.format(Locale.ROOT, "\\u%04x", c));
            }
        });
        return b.toString();
    }

    private static Document newDocument() {
        try {
            Document doc = DocumentBuilderFactory.newDefaultInstance().newDocumentBuilder().newDocument();
            doc.setXmlStandalone(true);
            return doc;
        } catch (ParserConfigurationException e) {
            throw new IllegalStateException("the JDK's XML implementation is missing", e);
        }
    }

    private static byte[] serialize(Document doc) {
        try {
            TransformerFactory f = TransformerFactory.newDefaultInstance();
            f.setAttribute(XMLConstants.ACCESS_EXTERNAL_DTD, "");
            f.setAttribute(XMLConstants.ACCESS_EXTERNAL_STYLESHEET, "");
            Transformer t = f.newTransformer();
            t.setOutputProperty(OutputKeys.ENCODING, "UTF-8");
            t.setOutputProperty(OutputKeys.INDENT, "yes");
            t.setOutputProperty("{http://xml.apache.org/xslt}indent-amount", "2");
            // the JDK's own serializer: a line break after the declaration of a standalone document too
            t.setOutputProperty("jdk.xml.xsltcIsStandalone", "yes");
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            t.transform(new DOMSource(doc), new StreamResult(out));
            return out.toByteArray();
        } catch (TransformerException e) {
            throw new IllegalStateException("the JDK's XML serializer failed on a report", e);
        }
    }
}
