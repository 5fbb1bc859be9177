package dev.hmmmirror.explorer.check;

import dev.hmmmirror.HmmException;
import dev.hmmmirror.Invalidation;
import dev.hmmmirror.PageFrame;
import dev.hmmmirror.PageState;
import dev.hmmmirror.Snapshot;
import dev.hmmmirror.explorer.engine.Invariant;
import dev.hmmmirror.explorer.engine.Violation;
import dev.hmmmirror.explorer.model.Model;
import dev.hmmmirror.explorer.model.PageModel;
import dev.hmmmirror.explorer.model.RegionModel;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * Every page an mm operation had to take from a device is covered by an invalidation event of a
 * fitting reason (unless the mirror's event ring overflowed): the step says which pages before it
 * acts ({@link #held}, {@link #require}); the check runs after {@link EventSequence} read the events.
 */
public final class InvalidationsReported implements Invariant<Subject> {
    public static final Set<Invalidation.Reason> UNMAP = EnumSet.of(Invalidation.Reason.UNMAP,
            Invalidation.Reason.CLEAR);
    public static final Set<Invalidation.Reason> PROTECT = EnumSet.of(Invalidation.Reason.PROTECTION_VMA,
            Invalidation.Reason.PROTECTION_PAGE, Invalidation.Reason.CLEAR);
    public static final Set<Invalidation.Reason> MIGRATED = EnumSet.of(Invalidation.Reason.CLEAR);
    public static final Set<Invalidation.Reason> FORK = EnumSet.of(Invalidation.Reason.PROTECTION_PAGE,
            Invalidation.Reason.PROTECTION_VMA, Invalidation.Reason.CLEAR);

    private static final int PAGE = PageModel.SIZE;

    /**
     * What each mirror's device held of a range before an mm operation: per mirror, address runs
     * {mirror, from, to} of the pages it mapped, and of those it mapped writable.
     */
    public record Held(List<long[]> mapped, List<long[]> writable) {}

    @Override
    public String name() {
        return "invalidation-reported";
    }

    @Override
    public void check(Subject s) {
        for (Observed.Required r : s.observed().takeRequired()) {
            cover(s, r.operation(), r.pages(), r.reasons());
        }
    }

    /** What each mirror's device maps (and maps writable) of pages [first, end) of region {@code region}. */
    public static Held held(Subject s, int region, int first, int end) throws HmmException {
        RegionModel r = s.model().region(region);
        List<long[]> mapped = new ArrayList<>();
        List<long[]> writable = new ArrayList<>();
        for (int i = 0; i < Model.MIRRORS; i++) {
            List<PageFrame> frames = s.driver().pageFrames(i, r.address(first), end - first);
            Snapshot snap = s.driver().snapshot(i, r.address(first), end - first);
            for (int p = first; p < end; p++) {
                long a = r.address(p);
                if (frames.get(p - first).deviceMapped()) {
                    mapped.add(new long[] {i, a, a + PAGE});
                    if (snap.page(p - first).contains(PageState.DEVICE_WRITE)) {
                        writable.add(new long[] {i, a, a + PAGE});
                    }
                }
            }
        }
        return new Held(mapped, writable);
    }

    /** After this step, {@code pages} must be covered by events of {@code reasons}. */
    public static void require(Subject s, String operation, List<long[]> pages, Set<Invalidation.Reason> reasons) {
        s.observed().require(new Observed.Required(operation, List.copyOf(pages), reasons));
    }

    /** Checks now (in the middle of a step, after {@link EventSequence#drain}) that {@code pages} are covered. */
    public static void cover(Subject s, String operation, List<long[]> pages, Set<Invalidation.Reason> reasons) {
        Observed o = s.observed();
        for (long[] need : pages) {
            int slot = (int) need[0];
            if (o.overflowed(slot)) {
                continue; // events were lost to a full ring: nothing to judge
            }
            List<Invalidation> events = o.events(slot);
            for (long a = need[1]; a < need[2]; a += PAGE) {
                long page = a;
                boolean covered = events.stream()
                        .anyMatch(e -> e.overlaps(page, page + PAGE) && reasons.contains(e.reason()));
                s.driver().stats().checks++;
                if (!covered) {
                    throw new Violation("invalidation-reported", operation + ": mirror " + need[0] + " (device "
                            + s.driver().device(slot) + ") had the page at 0x" + Long.toHexString(page)
                            + " mapped, but no invalidation event with a reason in " + reasons
                            + " covers it; events of this step: " + events);
                }
            }
        }
    }
}
