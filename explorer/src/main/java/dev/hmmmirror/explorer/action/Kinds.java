package dev.hmmmirror.explorer.action;

import dev.hmmmirror.Access;
import dev.hmmmirror.Memory;
import dev.hmmmirror.explorer.engine.ActionKind;
import dev.hmmmirror.explorer.engine.Step;
import dev.hmmmirror.explorer.model.Features;
import dev.hmmmirror.explorer.model.Kind;
import dev.hmmmirror.explorer.model.Model;
import dev.hmmmirror.explorer.model.PageModel;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.BiFunction;
import java.util.function.Predicate;

/**
 * The action kinds a program is drawn from, each with its precondition, its weight and how it
 * draws parameters from the state (ranges inside an existing region, pages the model says are
 * writable where a CPU write needs that ...). Kinds the kernel cannot do are left out, as
 * {@link Features#missing()} says.
 */
public final class Kinds {
    /** The 64-bit words of a page: where CPU writes and atomics land (512 with 4 KiB pages). */
    private static final int WORDS = PageModel.SIZE / Long.BYTES;

    private Kinds() {}

    /** A kind whose precondition and draw read the model only. */
    private record Simple(String name, int weight, Predicate<Model> applies,
            BiFunction<Model, SplittableRandom, Step<World>> draw) implements ActionKind<World> {
        public boolean applies(World state) {
            return applies.test(state.model());
        }

        public Step<World> draw(World state, SplittableRandom random) {
            return draw.apply(state.model(), random);
        }
    }

    /** Draws a step over a range of region {@code g}. */
    private interface OverRange {
        Step<World> draw(int g, int[] range, SplittableRandom r);
    }

    /** A kind acting on a page range of some existing region. */
    private static Simple ranged(String name, int weight, OverRange draw) {
        return new Simple(name, weight, Model::anyRegion, (w, r) -> {
            int g = w.anyRegion(r);
            return draw.draw(g, range(w, g, r), r);
        });
    }

    /** Every kind this guest supports. */
    public static List<ActionKind<World>> all(Features f) {
        List<ActionKind<World>> k = new ArrayList<>();
        List<Kind> kinds = new ArrayList<>(List.of(Kind.ANONYMOUS, Kind.ANONYMOUS, Kind.SHARED, Kind.MEMFD, Kind.FILE));
        if (f.thp()) {
            kinds.add(Kind.THP);
        }
        if (f.hugetlb()) {
            kinds.add(Kind.HUGETLB);
        }
        k.add(new Simple("map", 3, Model::anyFree, (w, r) -> {
            Kind kind = kinds.get(r.nextInt(kinds.size()));
            if ((kind == Kind.THP || kind == Kind.HUGETLB) && w.hasKind(kind)) {
                kind = Kind.ANONYMOUS; // one huge region of each kind at a time
            }
            // a huge region is one huge page as the kernel sizes it (2 MiB: 512 pages on x86-64)
            int pages = kind == Kind.THP ? (int) (Memory.hugePageSize() / PageModel.SIZE)
                    : kind == Kind.HUGETLB ? (int) (Memory.hugetlbPageSize() / PageModel.SIZE)
                    : 1 + r.nextInt(Model.MAX_PAGES);
            return new Steps.Map(w.freeRegion(r), kind, pages);
        }));
        k.add(new Simple("cpu-write", 4, Model::anyWritable, (w, r) -> {
            int[] at = writablePage(w, r);
            return new Steps.CpuWrite(at[0], at[1], r.nextInt(WORDS), r.nextLong());
        }));
        k.add(new Simple("cpu-read", 3, Model::anyReadable, (w, r) -> {
            int[] at = readablePage(w, r);
            return new Steps.CpuRead(at[0], at[1]);
        }));
        k.add(new Simple("munmap", 1, Model::anyRegion, (w, r) -> {
            int g = w.anyRegion(r);
            int[] range = r.nextInt(3) == 0 ? new int[] {0, w.regionSize(g)} : range(w, g, r);
            return new Steps.Unmap(g, range[0], range[1]);
        }));
        k.add(ranged("mprotect", 2, (g, range, r) -> {
            Memory.Protection[] p = Memory.Protection.values();
            return new Steps.Protect(g, range[0], range[1], p[r.nextInt(p.length)]);
        }));
        k.add(ranged("madvise-dontneed", 2, (g, range, r) -> new Steps.DontNeed(g, range[0], range[1])));
        // drawn with or without swap (without, anonymous pages stay), so that a seed draws the same
        // programs whether or not an earlier test of the run set up swap
        k.add(ranged("madvise-pageout", 1, (g, range, r) -> new Steps.PageOut(g, range[0], range[1])));
        k.add(new Simple("mremap", 1, Model::anyRegion, (w, r) -> {
            int g = w.anyRegion(r);
            boolean keep = w.regionKind(g) == Kind.ANONYMOUS || w.regionKind(g) == Kind.THP ? r.nextBoolean() : false;
            return new Steps.Remap(g, r.nextInt(4) == 0 ? 1 + r.nextInt(4) : 0, keep);
        }));
        k.add(new Simple("fork-child-write", 1, Model::anyWritable, (w, r) -> {
            int[] at = writablePage(w, r);
            return new Steps.ForkChildWrite(at[0], at[1], r.nextInt(WORDS), r.nextLong());
        }));
        k.add(ranged("device-fault", 4, (g, range, r) -> {
            return new Steps.Fault(r.nextInt(Model.MIRRORS), g, range[0], range[1],
                    r.nextBoolean() ? Access.READ : Access.WRITE);
        }));
        k.add(ranged("device-read", 5, (g, range, r) ->
                new Steps.DeviceRead(r.nextInt(Model.MIRRORS), g, range[0], range[1])));
        k.add(ranged("device-write", 4, (g, range, r) ->
                new Steps.DeviceWrite(r.nextInt(Model.MIRRORS), g, range[0], range[1], r.nextLong())));
        if (f.migrate()) {
            k.add(ranged("migrate-to-device", 3, (g, range, r) ->
                    new Steps.MigrateToDevice(r.nextInt(Model.MIRRORS), g, range[0], range[1])));
            k.add(ranged("migrate-to-system", 1, (g, range, r) ->
                    new Steps.MigrateToSystem(r.nextInt(Model.MIRRORS), g, range[0], range[1])));
        }
        if (f.exclusive()) {
            k.add(new Simple("make-exclusive", 2, w -> w.hasKind(Kind.ANONYMOUS), (w, r) -> {
                int g = regionOf(w, Kind.ANONYMOUS, r);
                int[] range = range(w, g, r);
                return new Steps.MakeExclusive(r.nextInt(Model.MIRRORS), g, range[0], range[1]);
            }));
            k.add(new Simple("atomic-add", 2, w -> w.hasKind(Kind.ANONYMOUS), (w, r) -> {
                int g = regionOf(w, Kind.ANONYMOUS, r);
                return new Steps.AtomicAdd(r.nextInt(Model.MIRRORS), g, r.nextInt(w.regionSize(g)), r.nextInt(WORDS),
                        1 + r.nextInt(1000));
            }));
        }
        k.add(new Simple("close-reopen", 1, w -> true, (w, r) -> new Steps.Reopen(r.nextInt(Model.MIRRORS))));
        k.add(new Simple("device-delay", 1, w -> true, (w, r) -> {
            int[] us = {0, 0, 50, 500};
            return new Steps.Delay(r.nextInt(Model.MIRRORS), us[r.nextInt(us.length)]);
        }));
        // drawn on every guest (a guest with one memory node makes it a no-op): seeds stay comparable
        k.add(ranged("move-pages", 1, (g, range, r) -> new Steps.MovePages(g, range[0], range[1])));
        if (f.compact()) {
            k.add(new Simple("compact", 1, Model::anyRegion,
                    (w, r) -> new Steps.Compact()));
        }
        if (f.rdma()) {
            // last, and only with --rdma on a guest with rxe ODP: without them the kinds, and so every
            // seed's programs, are those of before
            k.add(ranged("rdma-read", 3, (g, range, r) -> new Steps.RdmaRead(g, range[0], rdmaPages(range))));
            k.add(ranged("rdma-write", 3, (g, range, r) ->
                    new Steps.RdmaWrite(g, range[0], rdmaPages(range), r.nextLong())));
            k.add(new Simple("rdma-atomic", 2, Model::anyRegion, (w, r) -> {
                int g = w.anyRegion(r);
                return new Steps.RdmaFetchAndAdd(g, r.nextInt(w.regionSize(g)), r.nextInt(WORDS), 1 + r.nextInt(1000));
            }));
        }
        if (f.migrate() && f.thp() && f.devices() >= 2) {
            // last, and drawn only where each device owns its memory (the second-owner phase: applies is false
            // before it, so the programs of a seed until then are those of before): a THP migrated whole is a
            // device-private PMD, and another owner's access to it must bring it back, never map it
            // (campaign mutant 16 survived the explorer: a whole-region draw of migrate-to-device is 1 in 4,
            // and with only the second kind, 4 draws in 300 steps did not kill it)
            // a THP region is rare otherwise (one map in 7, one at a time): 3 programs in 10 never had one
            k.add(new Simple("map-thp", 2, w -> !w.features().sharedOwner() && w.anyFree() && !w.hasKind(Kind.THP),
                    (w, r) -> new Steps.Map(w.freeRegion(r), Kind.THP, (int) (Memory.hugePageSize() / PageModel.SIZE))));
            k.add(new Simple("migrate-thp-whole", 3, Kinds::thpWholeApplies, (w, r) -> {
                int g = regionOf(w, Kind.THP, r);
                return new Steps.MigrateToDevice(r.nextInt(Model.MIRRORS), g, 0, w.regionSize(g));
            }));
        }
        return List.copyOf(k);
    }

    /** Whether {@code migrate-thp-whole} applies: a THP region exists and each device owns its memory. */
    static boolean thpWholeApplies(Model w) {
        return !w.features().sharedOwner() && w.hasKind(Kind.THP);
    }

    /** Pages of an RDMA step over {@code range}: at most {@link World#RDMA_PAGES}. */
    private static int rdmaPages(int[] range) {
        return Math.min(range[1], World.RDMA_PAGES);
    }

    /** A page range inside region {@code g}: mostly a few pages, sometimes a huge region whole. */
    static int[] range(Model w, int g, SplittableRandom r) {
        int size = w.regionSize(g);
        if (size > Model.MAX_PAGES && r.nextInt(4) == 0) {
            return new int[] {0, size};
        }
        int first = r.nextInt(size);
        int max = Math.min(size - first, size > Model.MAX_PAGES ? 32 : Model.MAX_PAGES);
        return new int[] {first, 1 + r.nextInt(max)};
    }

    private static int regionOf(Model w, Kind kind, SplittableRandom r) {
        List<Integer> of = new ArrayList<>();
        for (int i = 0; i < Model.REGIONS; i++) {
            if (w.regionKind(i) == kind) {
                of.add(i);
            }
        }
        return of.get(r.nextInt(of.size()));
    }

    private static int[] writablePage(Model w, SplittableRandom r) {
        return page(w, r, true);
    }

    private static int[] readablePage(Model w, SplittableRandom r) {
        return page(w, r, false);
    }

    private static int[] page(Model w, SplittableRandom r, boolean write) {
        List<int[]> pages = new ArrayList<>();
        for (int i = 0; i < Model.REGIONS; i++) {
            for (int p = 0; p < w.regionSize(i); p++) {
                if (write ? w.writable(i, p) : w.readable(i, p)) {
                    pages.add(new int[] {i, p});
                }
            }
        }
        return pages.get(r.nextInt(pages.size()));
    }
}
