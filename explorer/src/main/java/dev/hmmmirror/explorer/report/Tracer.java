package dev.hmmmirror.explorer.report;

import dev.hmmmirror.explorer.engine.StateFactory;
import dev.hmmmirror.explorer.engine.Step;
import dev.hmmmirror.explorer.model.World;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Replays a shrunk program once more on a fresh world, recording every page's state after each
 * step (the failing one too) for the {@link PageMap}. Rows: every page of a small region; of a huge
 * region (THP, hugetlb) only the pages a device touched or an event covered.
 */
public final class Tracer {
    private Tracer() {}

    public static PageMap.Trace trace(StateFactory<World> factory, List<Step<World>> steps, String title)
            throws Exception {
        List<Map<String, PageMap.State>> columns = new ArrayList<>();
        List<Set<String>> covered = new ArrayList<>();
        Set<String> huge = new HashSet<>();
        try (World w = factory.create()) {
            for (Step<World> step : steps) {
                w.traceBegin();
                try {
                    step.apply(w);
                } catch (Exception | AssertionError e) {
                    // the failing step: its column shows what it left
                }
                Map<String, PageMap.State> col = new HashMap<>();
                Set<String> cov = new HashSet<>();
                w.traceNow(col, cov);
                for (int g = 0; g < World.REGIONS; g++) {
                    if (w.hugeRegion(g)) {
                        huge.add("region " + g + " ");
                    }
                }
                columns.add(col);
                covered.add(cov);
            }
        }
        Set<String> rows = new LinkedHashSet<>();
        for (int s = 0; s < columns.size(); s++) {
            for (Map.Entry<String, PageMap.State> e : columns.get(s).entrySet()) {
                boolean inHuge = huge.stream().anyMatch(e.getKey()::startsWith);
                if (!inHuge || e.getValue().ordinal() > PageMap.State.CPU_ONLY.ordinal()
                        || covered.get(s).contains(e.getKey())) {
                    rows.add(e.getKey());
                }
            }
        }
        List<String> sorted = new ArrayList<>(rows);
        sorted.sort(Comparator.comparingInt((String k) -> Integer.parseInt(k.split(" ")[1]))
                .thenComparingInt(k -> Integer.parseInt(k.split(" ")[3])));
        PageMap.Builder b = new PageMap.Builder();
        for (int s = 0; s < columns.size(); s++) {
            List<PageMap.State> col = new ArrayList<>();
            Set<Integer> cov = new HashSet<>();
            for (int r = 0; r < sorted.size(); r++) {
                col.add(columns.get(s).getOrDefault(sorted.get(r), PageMap.State.NOT_MAPPED));
                if (covered.get(s).contains(sorted.get(r))) {
                    cov.add(r);
                }
            }
            b.step(steps.get(s).java(), col, cov);
        }
        return b.build(title, sorted);
    }
}
