package dev.hmmmirror.explorer.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The engine on a toy system with a known bug: a counter register that breaks once it was set to
 * 7 twice. Drawing finds it, replay by seed finds the same program, and shrinking gets the
 * shortest failing program (two steps) out of a long one; a system without the bug passes the same
 * budget.
 */
class ProgramsTest {
    /** The toy system: a list of values; with {@code buggy}, a second 7 throws. */
    static final class Toy implements AutoCloseable {
        final boolean buggy;
        final List<Integer> values = new ArrayList<>();
        boolean closed;

        Toy(boolean buggy) {
            this.buggy = buggy;
        }

        @Override
        public void close() {
            closed = true;
        }
    }

    record Add(int v) implements Step<Toy> {
        public boolean apply(Toy t) {
            t.values.add(v);
            if (t.buggy && t.values.stream().filter(x -> x == 7).count() >= 2) {
                throw new AssertionError("two sevens: " + t.values);
            }
            return true;
        }

        public String java() {
            return "t.add(" + v + ");";
        }

        public List<Step<Toy>> simpler() {
            return v == 7 || v == 0 ? List.of() : List.of(new Add(0));
        }
    }

    record Clear() implements Step<Toy> {
        public boolean apply(Toy t) {
            if (t.values.isEmpty()) {
                return false;
            }
            t.values.clear();
            return true;
        }

        public String java() {
            return "t.clear();";
        }
    }

    static List<ActionKind<Toy>> kinds() {
        return List.of(new ActionKind<>() {
            public String name() {
                return "add";
            }

            public boolean applies(Toy t) {
                return true;
            }

            public Step<Toy> draw(Toy t, SplittableRandom r) {
                return new Add(r.nextInt(10));
            }

            public int weight() {
                return 4;
            }
        }, new ActionKind<>() {
            public String name() {
                return "clear";
            }

            public boolean applies(Toy t) {
                return !t.values.isEmpty();
            }

            public Step<Toy> draw(Toy t, SplittableRandom r) {
                return new Clear();
            }
        });
    }

    private static Optional<Failure<Toy>> explore(Programs<Toy> p, long seed, int programs) throws Exception {
        SplittableRandom seeds = new SplittableRandom(seed);
        for (int i = 0; i < programs; i++) {
            Optional<Failure<Toy>> f = p.run(seeds.nextLong(), 60);
            if (f.isPresent()) {
                return f;
            }
        }
        return Optional.empty();
    }

    @Test
    void findsReplaysAndShrinksToTheShortestProgram() throws Exception {
        Programs<Toy> p = new Programs<>(() -> new Toy(true), kinds(), new Stats());
        Failure<Toy> found = explore(p, 42, 200).orElseThrow(() -> new AssertionError("the bug was not found"));
        assertTrue(found.steps().size() > 2, "a drawn program is longer than the minimal one: " + found.steps());

        Failure<Toy> again = p.run(found.seed(), 60).orElseThrow();
        assertEquals(found.steps(), again.steps(), "a program replays exactly from its seed");

        Failure<Toy> shrunk = new Shrinker<>(p, 500, Shrinker::defaultSignature).shrink(found);
        assertEquals(List.of(new Add(7), new Add(7)), shrunk.steps(), "the shortest failing program");
        assertTrue(shrunk.error().getMessage().startsWith("two sevens"));
    }

    @Test
    void everyRunAndReplayGetsAFreshStateThatIsClosed() throws Exception {
        List<Toy> made = new ArrayList<>();
        Programs<Toy> p = new Programs<>(() -> {
            Toy t = new Toy(true);
            made.add(t);
            return t;
        }, kinds(), new Stats());
        Failure<Toy> found = explore(p, 7, 200).orElseThrow();
        new Shrinker<>(p, 50, Shrinker::defaultSignature).shrink(found);
        assertTrue(made.size() > 2);
        assertTrue(made.stream().allMatch(t -> t.closed), "every state closed after its run");
        assertEquals(made.size(), made.stream().distinct().count());
    }

    @Test
    void withoutTheBugTheSameBudgetFindsNothing() throws Exception {
        Stats stats = new Stats();
        Programs<Toy> p = new Programs<>(() -> new Toy(false), kinds(), stats);
        assertEquals(Optional.empty(), explore(p, 42, 200));
        assertEquals(200, stats.programs);
        assertTrue(stats.totalSteps() > 200 * 50, "programs ran to their length: " + stats.totalSteps());
    }

    @Test
    void shrinkingKeepsToTheSameFailure() throws Exception {
        Programs<Toy> p = new Programs<>(() -> new Toy(true), kinds(), new Stats());
        Failure<Toy> found = explore(p, 42, 200).orElseThrow();
        Failure<Toy> shrunk = new Shrinker<>(p, 500, t -> "other").shrink(found);
        assertTrue(shrunk.steps().size() <= found.steps().size());
        Failure<Toy> none = new Shrinker<>(p, 500, t -> t == found.error() ? "first" : "never").shrink(found);
        assertEquals(found.steps(), none.steps(), "no replay fails 'the same way': nothing is removed");
    }

    @Test
    void aFailureThatReproducesOnEveryOtherReplayStillShrinksToTheShortestProgram() throws Exception {
        // the bug is there in every other fresh state: as with a kernel whose background work
        // (compaction, reclaim) decides whether a replay fails
        int[] made = {0};
        Programs<Toy> p = new Programs<>(() -> new Toy(made[0]++ % 2 == 0), kinds(), new Stats());
        Failure<Toy> found = null;
        SplittableRandom seeds = new SplittableRandom(42);
        for (int i = 0; i < 400 && found == null; i++) {
            found = p.run(seeds.nextLong(), 60).orElse(null);
        }
        assertTrue(found != null && found.steps().size() > 2, "a long failing program: " + found);

        Shrinker<Toy> shrinker = new Shrinker<>(p, 500, Shrinker::defaultSignature);
        Failure<Toy> shrunk = shrinker.shrink(found);
        assertEquals(List.of(new Add(7), new Add(7)), shrunk.steps(), "the shortest failing program");
        assertTrue(shrinker.flaky(), "the failure was seen not to reproduce on every replay");

        Shrinker<Toy> steady = new Shrinker<>(new Programs<>(() -> new Toy(true), kinds(), new Stats()), 500,
                Shrinker::defaultSignature);
        steady.shrink(found);
        assertTrue(!steady.flaky(), "a failure that reproduces every time is not called flaky");
    }
}
