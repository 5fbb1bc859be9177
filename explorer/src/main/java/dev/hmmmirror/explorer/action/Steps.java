package dev.hmmmirror.explorer.action;

import dev.hmmmirror.Access;
import dev.hmmmirror.Memory;
import dev.hmmmirror.explorer.engine.Step;
import dev.hmmmirror.explorer.model.Kind;
import java.util.ArrayList;
import java.util.List;

/**
 * The vocabulary of programs: one record per action of {@link World}, with its parameters, the
 * statement it is in a reproducer, and its simpler variants for shrinking.
 */
public final class Steps {
    private Steps() {}

    static String hex(long v) {
        return "0x" + Long.toHexString(v) + "L";
    }

    /** A step over a page range, made again with another range. */
    interface Ranged {
        Step<World> of(int first, int count);
    }

    /** A step of a mirror over a page range, made again with another mirror or range. */
    interface OnDevice {
        Step<World> of(int mirror, int first, int count);
    }

    /** The step over each of {@link #smaller} of its range. */
    static List<Step<World>> shrink(int first, int count, Ranged make) {
        return smaller(first, count).stream().map(r -> make.of(r[0], r[1])).toList();
    }

    /** The step over each smaller range, then the whole range through mirror 0. */
    static List<Step<World>> shrink(int mirror, int first, int count, OnDevice make) {
        List<Step<World>> out = new ArrayList<>(shrink(first, count, (f, c) -> make.of(mirror, f, c)));
        if (mirror != 0) {
            out.add(make.of(0, first, count));
        }
        return List.copyOf(out);
    }

    /** Smaller ranges inside [first, first + count): one page at each end, the first half. */
    static List<int[]> smaller(int first, int count) {
        List<int[]> out = new ArrayList<>();
        if (count > 1) {
            out.add(new int[] {first, 1});
            out.add(new int[] {first + count - 1, 1});
            if (count > 2) {
                out.add(new int[] {first, count / 2});
            }
        }
        return out;
    }

    public record Map(int region, Kind kind, int pages) implements Step<World> {
        public boolean apply(World w) throws Exception {
            return w.map(region, kind, pages);
        }

        public String java() {
            return "w.map(" + region + ", Kind." + kind + ", " + pages + ");";
        }

        public List<Step<World>> simpler() {
            List<Step<World>> out = new ArrayList<>();
            if (kind != Kind.ANONYMOUS && kind != Kind.THP && kind != Kind.HUGETLB) {
                out.add(new Map(region, Kind.ANONYMOUS, pages));
            }
            if (pages > 1 && kind != Kind.THP && kind != Kind.HUGETLB) {
                out.add(new Map(region, kind, pages / 2));
            }
            return List.copyOf(out);
        }
    }

    public record CpuWrite(int region, int page, int word, long value) implements Step<World> {
        public boolean apply(World w) throws Exception {
            return w.cpuWrite(region, page, word, value);
        }

        public String java() {
            return "w.cpuWrite(" + region + ", " + page + ", " + word + ", " + hex(value) + ");";
        }

        public List<Step<World>> simpler() {
            return word == 0 && value == 1 ? List.of() : List.of(new CpuWrite(region, page, 0, 1));
        }
    }

    public record CpuRead(int region, int page) implements Step<World> {
        public boolean apply(World w) throws Exception {
            return w.cpuRead(region, page);
        }

        public String java() {
            return "w.cpuRead(" + region + ", " + page + ");";
        }
    }

    public record Unmap(int region, int first, int count) implements Step<World> {
        public boolean apply(World w) throws Exception {
            return w.unmap(region, first, count);
        }

        public String java() {
            return "w.unmap(" + region + ", " + first + ", " + count + ");";
        }

        public List<Step<World>> simpler() {
            return shrink(first, count, (f, c) -> new Unmap(region, f, c));
        }
    }

    public record Protect(int region, int first, int count, Memory.Protection protection) implements Step<World> {
        public boolean apply(World w) throws Exception {
            return w.protect(region, first, count, protection);
        }

        public String java() {
            return "w.protect(" + region + ", " + first + ", " + count + ", Memory.Protection." + protection + ");";
        }

        public List<Step<World>> simpler() {
            return shrink(first, count, (f, c) -> new Protect(region, f, c, protection));
        }
    }

    public record DontNeed(int region, int first, int count) implements Step<World> {
        public boolean apply(World w) throws Exception {
            return w.dontNeed(region, first, count);
        }

        public String java() {
            return "w.dontNeed(" + region + ", " + first + ", " + count + ");";
        }

        public List<Step<World>> simpler() {
            return shrink(first, count, (f, c) -> new DontNeed(region, f, c));
        }
    }

    public record PageOut(int region, int first, int count) implements Step<World> {
        public boolean apply(World w) throws Exception {
            return w.pageOut(region, first, count);
        }

        public String java() {
            return "w.pageOut(" + region + ", " + first + ", " + count + ");";
        }

        public List<Step<World>> simpler() {
            return shrink(first, count, (f, c) -> new PageOut(region, f, c));
        }
    }

    public record MovePages(int region, int first, int count) implements Step<World> {
        public boolean apply(World w) throws Exception {
            return w.movePages(region, first, count);
        }

        public String java() {
            return "w.movePages(" + region + ", " + first + ", " + count + ");";
        }

        public List<Step<World>> simpler() {
            return shrink(first, count, (f, c) -> new MovePages(region, f, c));
        }
    }

    public record Remap(int region, int offset, boolean keepOld) implements Step<World> {
        public boolean apply(World w) throws Exception {
            return w.remap(region, offset, keepOld);
        }

        public String java() {
            return "w.remap(" + region + ", " + offset + ", " + keepOld + ");";
        }

        public List<Step<World>> simpler() {
            List<Step<World>> out = new ArrayList<>();
            if (keepOld) {
                out.add(new Remap(region, offset, false));
            }
            if (offset != 0) {
                out.add(new Remap(region, 0, keepOld));
            }
            return List.copyOf(out);
        }
    }

    public record ForkChildWrite(int region, int page, int word, long value) implements Step<World> {
        public boolean apply(World w) throws Exception {
            return w.forkChildWrite(region, page, word, value);
        }

        public String java() {
            return "w.forkChildWrite(" + region + ", " + page + ", " + word + ", " + hex(value) + ");";
        }
    }

    public record Fault(int mirror, int region, int first, int count, Access access) implements Step<World> {
        public boolean apply(World w) throws Exception {
            return w.fault(mirror, region, first, count, access);
        }

        public String java() {
            return "w.fault(" + mirror + ", " + region + ", " + first + ", " + count + ", Access." + access + ");";
        }

        public List<Step<World>> simpler() {
            return shrink(mirror, first, count, (m, f, c) -> new Fault(m, region, f, c, access));
        }
    }

    public record DeviceRead(int mirror, int region, int first, int count) implements Step<World> {
        public boolean apply(World w) throws Exception {
            return w.deviceRead(mirror, region, first, count);
        }

        public String java() {
            return "w.deviceRead(" + mirror + ", " + region + ", " + first + ", " + count + ");";
        }

        public List<Step<World>> simpler() {
            return shrink(mirror, first, count, (m, f, c) -> new DeviceRead(m, region, f, c));
        }
    }

    public record DeviceWrite(int mirror, int region, int first, int count, long seed) implements Step<World> {
        public boolean apply(World w) throws Exception {
            return w.deviceWrite(mirror, region, first, count, seed);
        }

        public String java() {
            return "w.deviceWrite(" + mirror + ", " + region + ", " + first + ", " + count + ", " + hex(seed) + ");";
        }

        public List<Step<World>> simpler() {
            return shrink(mirror, first, count, (m, f, c) -> new DeviceWrite(m, region, f, c, seed));
        }
    }

    public record MigrateToDevice(int mirror, int region, int first, int count) implements Step<World> {
        public boolean apply(World w) throws Exception {
            return w.migrateToDevice(mirror, region, first, count);
        }

        public String java() {
            return "w.migrateToDevice(" + mirror + ", " + region + ", " + first + ", " + count + ");";
        }

        public List<Step<World>> simpler() {
            return shrink(mirror, first, count, (m, f, c) -> new MigrateToDevice(m, region, f, c));
        }
    }

    public record MigrateToSystem(int mirror, int region, int first, int count) implements Step<World> {
        public boolean apply(World w) throws Exception {
            return w.migrateToSystem(mirror, region, first, count);
        }

        public String java() {
            return "w.migrateToSystem(" + mirror + ", " + region + ", " + first + ", " + count + ");";
        }

        public List<Step<World>> simpler() {
            return shrink(first, count, (f, c) -> new MigrateToSystem(mirror, region, f, c));
        }
    }

    public record MakeExclusive(int mirror, int region, int first, int count) implements Step<World> {
        public boolean apply(World w) throws Exception {
            return w.makeExclusive(mirror, region, first, count);
        }

        public String java() {
            return "w.makeExclusive(" + mirror + ", " + region + ", " + first + ", " + count + ");";
        }

        public List<Step<World>> simpler() {
            return shrink(first, count, (f, c) -> new MakeExclusive(mirror, region, f, c));
        }
    }

    public record AtomicAdd(int mirror, int region, int page, int word, long value) implements Step<World> {
        public boolean apply(World w) throws Exception {
            return w.atomicAdd(mirror, region, page, word, value);
        }

        public String java() {
            return "w.atomicAdd(" + mirror + ", " + region + ", " + page + ", " + word + ", " + hex(value) + ");";
        }
    }

    public record Reopen(int mirror) implements Step<World> {
        public boolean apply(World w) throws Exception {
            return w.reopen(mirror);
        }

        public String java() {
            return "w.reopen(" + mirror + ");";
        }
    }

    public record Delay(int mirror, int micros) implements Step<World> {
        public boolean apply(World w) throws Exception {
            return w.delay(mirror, micros);
        }

        public String java() {
            return "w.delay(" + mirror + ", " + micros + ");";
        }
    }

    public record Compact() implements Step<World> {
        public boolean apply(World w) throws Exception {
            return w.compact();
        }

        public String java() {
            return "w.compact();";
        }
    }

    public record RdmaRead(int region, int first, int count) implements Step<World> {
        public boolean apply(World w) throws Exception {
            return w.rdmaRead(region, first, count);
        }

        public String java() {
            return "w.rdmaRead(" + region + ", " + first + ", " + count + ");";
        }

        public List<Step<World>> simpler() {
            return shrink(first, count, (f, c) -> new RdmaRead(region, f, c));
        }
    }

    public record RdmaWrite(int region, int first, int count, long seed) implements Step<World> {
        public boolean apply(World w) throws Exception {
            return w.rdmaWrite(region, first, count, seed);
        }

        public String java() {
            return "w.rdmaWrite(" + region + ", " + first + ", " + count + ", " + hex(seed) + ");";
        }

        public List<Step<World>> simpler() {
            return shrink(first, count, (f, c) -> new RdmaWrite(region, f, c, seed));
        }
    }

    public record RdmaFetchAndAdd(int region, int page, int word, long value) implements Step<World> {
        public boolean apply(World w) throws Exception {
            return w.rdmaFetchAndAdd(region, page, word, value);
        }

        public String java() {
            return "w.rdmaFetchAndAdd(" + region + ", " + page + ", " + word + ", " + hex(value) + ");";
        }
    }
}
