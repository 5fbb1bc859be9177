package dev.hmmmirror.explorer.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The page-state map of a reproducer: pages down, steps across, one colour per state, invalidation
 * events marked, the failing step framed. One self-contained HTML file (inline SVG, no scripts),
 * laid out on a fixed grid so that a reader (or a test looking at a screenshot) finds cell (step,
 * page) at {@link #cellX}, {@link #cellY}.
 */
public final class PageMap {
    /** What a page is, as the map colours it. */
    public enum State {
        NOT_MAPPED("#ffffff", "not mapped"),
        CPU_ONLY("#c8c8c8", "CPU only"),
        DEVICE_READ("#3c8cff", "device reads"),
        DEVICE_WRITE("#28b428", "device writes"),
        DEVICE_PRIVATE("#a03cdc", "in device memory"),
        EXCLUSIVE("#ff8c00", "device-exclusive");

        final String colour;
        final String label;

        State(String colour, String label) {
            this.colour = colour;
            this.label = label;
        }

        /** The colour as 0xRRGGBB. */
        public int rgb() {
            return Integer.parseInt(colour.substring(1), 16);
        }
    }

    /** The colour of the mark of a page an invalidation event covered in a step. */
    public static final int INVALIDATED_RGB = 0xe01e1e;

    public static final int CELL = 18;
    public static final int LEFT = 190;
    public static final int TOP = 70;

    /**
     * @param title       what failed
     * @param steps       the steps' statements, in order (the last one failed)
     * @param pages       a label per row
     * @param states      states[step][row]
     * @param invalidated per step, the rows an invalidation event covered
     */
    public record Trace(String title, List<String> steps, List<String> pages, State[][] states,
            List<Set<Integer>> invalidated) {}

    private PageMap() {}

    /** The left edge of the cell of step {@code step}. */
    public static int cellX(int step) {
        return LEFT + step * CELL;
    }

    /** The top edge of the cell of row {@code row}. */
    public static int cellY(int row) {
        return TOP + row * CELL;
    }

    public static String html(Trace t) {
        int width = Math.max(cellX(t.steps().size()) + 40, 24 + 8 * t.title().length());
        int height = cellY(t.pages().size()) + 40;
        StringBuilder svg = new StringBuilder();
        svg.append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"").append(width).append("\" height=\"")
                .append(height).append("\" style=\"position:absolute;left:0;top:0\">\n");
        for (int s = 0; s < t.steps().size(); s++) {
            svg.append("<text x=\"").append(cellX(s) + CELL / 2).append("\" y=\"").append(TOP - 8)
                    .append("\" font-size=\"11\" text-anchor=\"middle\">").append(s + 1).append("</text>\n");
        }
        for (int r = 0; r < t.pages().size(); r++) {
            svg.append("<text x=\"").append(LEFT - 6).append("\" y=\"").append(cellY(r) + CELL - 5)
                    .append("\" font-size=\"11\" text-anchor=\"end\">").append(escape(t.pages().get(r)))
                    .append("</text>\n");
            for (int s = 0; s < t.steps().size(); s++) {
                State st = t.states()[s][r];
                svg.append("<rect x=\"").append(cellX(s)).append("\" y=\"").append(cellY(r)).append("\" width=\"")
                        .append(CELL).append("\" height=\"").append(CELL).append("\" fill=\"").append(st.colour)
                        .append("\" stroke=\"#888\" stroke-width=\"0.5\"><title>step ").append(s + 1).append(", ")
                        .append(escape(t.pages().get(r))).append(": ").append(st.label).append("</title></rect>\n");
                if (t.invalidated().get(s).contains(r)) {
                    svg.append("<rect x=\"").append(cellX(s) + CELL - 6).append("\" y=\"").append(cellY(r))
                            .append("\" width=\"6\" height=\"6\" fill=\"#e01e1e\"/>\n");
                }
            }
        }
        int last = t.steps().size() - 1;
        svg.append("<rect x=\"").append(cellX(last) - 1).append("\" y=\"").append(TOP - 22).append("\" width=\"")
                .append(CELL + 2).append("\" height=\"").append(cellY(t.pages().size()) - TOP + 24)
                .append("\" fill=\"none\" stroke=\"#e01e1e\" stroke-width=\"2\"/>\n");
        svg.append("<text x=\"12\" y=\"24\" font-size=\"13\" font-weight=\"bold\">").append(escape(t.title()))
                .append("</text>\n");
        svg.append("</svg>\n");

        StringBuilder b = new StringBuilder();
        b.append("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>hmm-mirror explorer: page-state map"
                + "</title>\n<style>body{margin:0;font-family:sans-serif}#map{position:relative;height:")
                .append(height).append("px}#legend,#steps{margin:8px 12px}#legend span{display:inline-block;"
                        + "width:12px;height:12px;margin:0 4px 0 14px;border:1px solid #888}</style></head><body>\n");
        b.append("<div id=\"map\">").append(svg).append("</div>\n");
        b.append("<div id=\"legend\">");
        for (State s : State.values()) {
            b.append("<span style=\"background:").append(s.colour).append("\"></span>").append(s.label);
        }
        b.append("<span style=\"background:#e01e1e;width:6px;height:6px\"></span>invalidation event</div>\n");
        b.append("<ol id=\"steps\">\n");
        for (int s = 0; s < t.steps().size(); s++) {
            b.append("<li><code>").append(escape(t.steps().get(s))).append("</code>")
                    .append(s == last ? " <b>(fails)</b>" : "").append("</li>\n");
        }
        b.append("</ol>\n</body></html>\n");
        return b.toString();
    }

    private static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    /** Builds a trace step by step. */
    public static final class Builder {
        private final List<String> steps = new ArrayList<>();
        private final List<List<State>> rows = new ArrayList<>();
        private final List<Set<Integer>> invalidated = new ArrayList<>();

        /** Records one step: its statement, each row's state after it, and the rows an event covered. */
        public void step(String java, List<State> states, Set<Integer> covered) {
            steps.add(java);
            rows.add(List.copyOf(states));
            invalidated.add(Set.copyOf(covered));
        }

        public Trace build(String title, List<String> pages) {
            State[][] st = new State[steps.size()][pages.size()];
            for (int s = 0; s < steps.size(); s++) {
                for (int r = 0; r < pages.size(); r++) {
                    st[s][r] = r < rows.get(s).size() ? rows.get(s).get(r) : State.NOT_MAPPED;
                }
            }
            return new Trace(title, List.copyOf(steps), List.copyOf(pages), st, List.copyOf(invalidated));
        }
    }
}
