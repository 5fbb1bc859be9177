package dev.hmmmirror.explorer.report;

import dev.hmmmirror.HmmException;
import dev.hmmmirror.PageState;
import dev.hmmmirror.Snapshot;
import dev.hmmmirror.explorer.action.World;
import dev.hmmmirror.explorer.engine.Programs;
import dev.hmmmirror.explorer.engine.StateFactory;
import dev.hmmmirror.explorer.engine.Step;
import dev.hmmmirror.explorer.model.Model;
import dev.hmmmirror.explorer.model.PageModel;
import dev.hmmmirror.explorer.model.RegionModel;
import java.util.Arrays;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Replays a shrunk program once more on a fresh world, as the engine runs it (the invariants
 * after every step), recording every page's state after each step (the failing one too) for the
 * {@link PageMap}. Rows: every page of a small region; of a huge
 * region (THP, hugetlb) only the pages a device touched or an event covered.
 */
public final class Tracer {
    private Tracer() {}

    /** The page map of {@code steps} run on a world of {@code factory} (one the engine drives). */
    public static PageMap.Trace trace(StateFactory<World> factory, List<Step<World>> steps, String title)
            throws Exception {
        List<Map<String, PageMap.State>> columns = new ArrayList<>();
        List<Set<String>> covered = new ArrayList<>();
        Set<String> huge = new HashSet<>();
        try (World w = factory.create()) {
            Programs.check(w, World.INVARIANTS);
            for (Step<World> step : steps) {
                w.observed().forgetEvents();
                try {
                    Programs.apply(step, w, World.INVARIANTS);
                } catch (Exception | AssertionError e) {
                    // the failing step: its column shows what it left
                }
                Map<String, PageMap.State> col = new HashMap<>();
                Set<String> cov = new HashSet<>();
                now(w, col, cov);
                for (int g = 0; g < Model.REGIONS; g++) {
                    if (w.model().hugeRegion(g)) {
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

    /**
     * Every region page's state now, as the map colours it (the strongest over the mirrors:
     * exclusive, device memory, device write, device read, CPU only, not mapped), keyed
     * {@code "region R page P"}, and the keys an invalidation event of this step covered. Reads
     * without checking anything: it also runs after a step that failed.
     */
    private static void now(World w, Map<String, PageMap.State> states, Set<String> covered) {
        for (int i = 0; i < Model.MIRRORS; i++) {
            try {
                w.observed().moreEvents(i, w.driver().invalidations(i));
            } catch (HmmException e) {
                // a closed mirror: nothing more to mark
            }
        }
        for (int g = 0; g < Model.REGIONS; g++) {
            RegionModel r = w.model().region(g);
            if (r == null) {
                continue;
            }
            PageMap.State[] best = new PageMap.State[r.size()];
            Arrays.fill(best, PageMap.State.NOT_MAPPED);
            for (int i = 0; i < Model.MIRRORS; i++) {
                Snapshot snap;
                try {
                    snap = w.driver().snapshotOnce(i, r.base(), r.size());
                } catch (HmmException e) {
                    continue;
                }
                for (int p = 0; p < r.size(); p++) {
                    PageMap.State x = state(snap.page(p));
                    if (x.ordinal() > best[p].ordinal()) {
                        best[p] = x;
                    }
                }
            }
            for (int p = 0; p < r.size(); p++) {
                String key = "region " + r.slot() + " page " + p;
                states.put(key, best[p]);
                long a = r.address(p);
                for (int i = 0; i < Model.MIRRORS; i++) {
                    if (w.observed().events(i).stream().anyMatch(e -> e.overlaps(a, a + PageModel.SIZE))) {
                        covered.add(key);
                    }
                }
            }
        }
    }

    private static PageMap.State state(Set<PageState> st) {
        return st.contains(PageState.EXCLUSIVE) ? PageMap.State.EXCLUSIVE
                : st.contains(PageState.DEVICE_PRIVATE) || st.contains(PageState.DEVICE_PRIVATE_REMOTE)
                ? PageMap.State.DEVICE_PRIVATE
                : st.contains(PageState.DEVICE_WRITE) ? PageMap.State.DEVICE_WRITE
                : st.contains(PageState.DEVICE_READ) ? PageMap.State.DEVICE_READ
                : st.contains(PageState.CPU_READ) ? PageMap.State.CPU_ONLY : PageMap.State.NOT_MAPPED;
    }
}
