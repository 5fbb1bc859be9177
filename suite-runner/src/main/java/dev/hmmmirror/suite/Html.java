package dev.hmmmirror.suite;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A small HTML tree for the report page. Element and attribute names are this code's own (checked
 * against a plain-name pattern); every text and attribute value is escaped when the page is
 * written, so no test name, message or console line can change the page's structure. The one
 * unescaped content, a {@link #style} sheet, refuses anything that could close its element.
 */
final class Html {
    private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9-]*");
    private static final Set<String> VOID = Set.of("br", "meta");

    private Html() {}

    /** A part of a page. */
    sealed interface Node permits Element, Text, Style {
        void write(StringBuilder out);
    }

    /** Text, escaped when written. */
    record Text(String text) implements Node {
        @Override
        public void write(StringBuilder out) {
            escape(text, out);
        }
    }

    /** A style sheet (the page's own constant), written as it is. */
    record Style(String css) implements Node {
        Style {
            if (css.contains("<")) {
                throw new IllegalArgumentException("a style sheet with '<' could close its element: " + css);
            }
        }

        @Override
        public void write(StringBuilder out) {
            out.append("<style>").append(css).append("</style>");
        }
    }

    /** An element: a tag, attributes in the order set, children in the order added. */
    static final class Element implements Node {
        private final String tag;
        private final Map<String, String> attributes = new LinkedHashMap<>();
        private final List<Node> children = new ArrayList<>();

        private Element(String tag) {
            this.tag = name(tag);
        }

        /** Sets an attribute ({@code null} value: leaves it out). */
        Element attr(String name, String value) {
            if (value != null) {
                attributes.put(name(name), value);
            }
            return this;
        }

        Element id(String id) {
            return attr("id", id);
        }

        /** The class attribute; an empty one is left out. */
        Element cls(String cls) {
            return attr("class", cls == null || cls.isEmpty() ? null : cls);
        }

        Element add(Node... nodes) {
            return add(List.of(nodes));
        }

        Element add(List<? extends Node> nodes) {
            if (VOID.contains(tag) && !nodes.isEmpty()) {
                throw new IllegalStateException("<" + tag + "> has no content");
            }
            children.addAll(nodes);
            return this;
        }

        /** Adds text (a {@code null} one as empty). */
        Element text(String text) {
            return add(new Text(text == null ? "" : text));
        }

        @Override
        public void write(StringBuilder out) {
            out.append('<').append(tag);
            attributes.forEach((n, v) -> {
                out.append(' ').append(n).append("=\"");
                escape(v, out);
                out.append('"');
            });
            out.append('>');
            if (VOID.contains(tag)) {
                return;
            }
            children.forEach(c -> c.write(out));
            out.append("</").append(tag).append('>');
        }
    }

    /** A new element. */
    static Element el(String tag) {
        return new Element(tag);
    }

    /** A new element holding {@code text}. */
    static Element el(String tag, String text) {
        return new Element(tag).text(text);
    }

    /** A link to {@code href} reading {@code text}. */
    static Element a(String href, String text) {
        return el("a", text).attr("href", href);
    }

    /** A whole document: the doctype, then {@code html}. */
    static String page(Element html) {
        if (!html.tag.equals("html")) {
            throw new IllegalArgumentException("a page is an <html> element, not <" + html.tag + ">");
        }
        StringBuilder out = new StringBuilder("<!DOCTYPE html>");
        html.write(out);
        return out.append('\n').toString();
    }

    private static String name(String name) {
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("not a plain element or attribute name: " + name);
        }
        return name;
    }

    /**
     * Text or an attribute value: {@code & < > "} as references, a lone UTF-16 surrogate (which no
     * encoding can write) as U+FFFD, everything else as it is.
     */
    private static void escape(String s, StringBuilder out) {
        s.codePoints().forEach(c -> {
            switch (c) {
                case '&' -> out.append("&amp;");
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '"' -> out.append("&quot;");
                default -> out.appendCodePoint(Character.getType(c) == Character.SURROGATE ? '\uFFFD' : c);
            }
        });
    }
}
