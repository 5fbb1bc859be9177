package dev.hmmmirror.explorer.check;

import dev.hmmmirror.HmmException;
import dev.hmmmirror.explorer.engine.Invariant;
import dev.hmmmirror.explorer.engine.Violation;
import dev.hmmmirror.explorer.model.MapOrders;
import dev.hmmmirror.explorer.model.Model;
import dev.hmmmirror.explorer.model.RegionModel;
import java.util.Optional;

/**
 * The map orders a device's walk of every region reports ({@code map-order}): each the order of a mapping
 * the running kernel can make (page sizes and the PMD size read from the kernel), the same for every page
 * of the block one mapping covers ({@link MapOrders}). A driver maps what it is told as one large entry: a
 * PMD-mapped THP reported with a smaller order (or a larger one) is a device mapping of the wrong size. Asked
 * through one mirror of each device (device-private PMDs are reported to their owner only); left out where
 * the module cannot report map orders.
 */
public final class MapOrderCheck implements Invariant<Subject> {
    @Override
    public String name() {
        return "map-order";
    }

    @Override
    public void check(Subject s) throws HmmException {
        Optional<MapOrders> rule = s.model().features().mapOrders();
        if (rule.isEmpty()) {
            return;
        }
        boolean[] seen = new boolean[Math.max(2, s.model().features().devices())];
        for (int i = 0; i < Model.MIRRORS; i++) {
            int device = s.driver().device(i);
            if (seen[device]) {
                continue;
            }
            seen[device] = true;
            for (int g = 0; g < Model.REGIONS; g++) {
                RegionModel r = s.model().region(g);
                if (r == null) {
                    continue;
                }
                s.driver().stats().checks++;
                if (wrong(s, rule.get(), i, r).isEmpty()) {
                    continue;
                }
                // the module walks a region in chunks: khugepaged collapsing it between two chunks looks like
                // one block of two orders once; a wrong order stays, so it must be seen on a second read too
                Optional<String> again = wrong(s, rule.get(), i, r);
                if (again.isPresent()) {
                    throw new Violation("map-order", again.get() + ": " + r + ", mirror " + i + " (device " + device
                            + ")");
                }
                s.driver().stats().secondReads++;
            }
        }
    }

    private static Optional<String> wrong(Subject s, MapOrders rule, int slot, RegionModel r) throws HmmException {
        return rule.check(r.base(), s.driver().mapOrders(slot, r.base(), r.size()));
    }
}
