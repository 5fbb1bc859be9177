package dev.hmmmirror.explorer.engine;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;

/**
 * Draws programs (sequences of steps) from a seed and runs them, each on a fresh state: a program
 * is drawn while it runs, each step from the state the steps before it left, so that every step's
 * precondition holds when it is drawn. After the fresh state is made and after every step that
 * did something, the engine checks the {@link Invariant}s. Steps keep their parameters, so a
 * program replays exactly.
 *
 * @param <S> the state
 */
public final class Programs<S extends AutoCloseable> {
    private final StateFactory<S> factory;
    private final List<ActionKind<S>> kinds;
    private final List<Invariant<? super S>> invariants;
    private final Stats stats;

    public Programs(StateFactory<S> factory, List<ActionKind<S>> kinds, Stats stats) {
        this(factory, kinds, List.of(), stats);
    }

    public Programs(StateFactory<S> factory, List<ActionKind<S>> kinds, List<? extends Invariant<? super S>> invariants,
            Stats stats) {
        if (kinds.isEmpty()) {
            throw new IllegalArgumentException("no action kinds");
        }
        this.factory = factory;
        this.kinds = List.copyOf(kinds);
        this.invariants = List.copyOf(invariants);
        this.stats = stats;
    }

    /**
     * Applies {@code step} to {@code state} and, when it did something, checks {@code invariants}:
     * what the engine does with every step (and a trace of a program does again).
     *
     * @return whether the step did something
     */
    public static <S> boolean apply(Step<S> step, S state, List<? extends Invariant<? super S>> invariants)
            throws Exception {
        if (!step.apply(state)) {
            return false;
        }
        check(state, invariants);
        return true;
    }

    /** Checks every invariant of {@code invariants} on {@code state}, in order. */
    public static <S> void check(S state, List<? extends Invariant<? super S>> invariants) throws Exception {
        for (Invariant<? super S> i : invariants) {
            i.check(state);
        }
    }

    /** The statistics this runner adds to. */
    public Stats stats() {
        return stats;
    }

    /**
     * Draws and runs a program of at most {@code maxSteps} steps from {@code seed}.
     *
     * @return the failure, or empty when every step behaved as the model says
     */
    public Optional<Failure<S>> run(long seed, int maxSteps) throws Exception {
        SplittableRandom random = new SplittableRandom(seed);
        List<Step<S>> done = new ArrayList<>();
        stats.programs++;
        long mark = System.nanoTime(); // the start of what SETUP counts next
        try (S state = factory.create()) {
            check(state, invariants);
            long created = System.nanoTime();
            stats.time(Stats.SETUP, created - mark);
            mark = created;
            for (int i = 0; i < maxSteps; i++) {
                ActionKind<S> kind = pick(state, random);
                if (kind == null) {
                    break;
                }
                Step<S> step = kind.draw(state, random);
                stats.count(kind.name());
                long begin = System.nanoTime();
                try {
                    if (apply(step, state, invariants)) {
                        done.add(step);
                    }
                } catch (Exception | AssertionError e) {
                    done.add(step);
                    stats.failures++;
                    return Optional.of(new Failure<>(seed, done, e));
                } finally {
                    mark = System.nanoTime(); // closing the state after a failing step is teardown
                    stats.time(kind.name(), mark - begin);
                }
            }
        } finally {
            stats.time(Stats.SETUP, System.nanoTime() - mark);
        }
        return Optional.empty();
    }

    /**
     * Runs {@code steps} on a fresh state.
     *
     * @return the failure (its steps: those that did something, up to the failing one), or empty
     */
    public Optional<Failure<S>> replay(long seed, List<Step<S>> steps) throws Exception {
        List<Step<S>> done = new ArrayList<>();
        stats.replays++;
        try (S state = factory.create()) {
            check(state, invariants);
            for (Step<S> step : steps) {
                try {
                    if (apply(step, state, invariants)) {
                        done.add(step);
                    }
                } catch (Exception | AssertionError e) {
                    done.add(step);
                    return Optional.of(new Failure<>(seed, done, e));
                }
            }
        }
        return Optional.empty();
    }

    private ActionKind<S> pick(S state, SplittableRandom random) {
        int total = 0;
        List<ActionKind<S>> open = new ArrayList<>();
        for (ActionKind<S> k : kinds) {
            if (k.applies(state)) {
                open.add(k);
                total += k.weight();
            }
        }
        if (open.isEmpty()) {
            return null;
        }
        int x = random.nextInt(total);
        for (ActionKind<S> k : open) {
            x -= k.weight();
            if (x < 0) {
                return k;
            }
        }
        throw new AssertionError("unreachable");
    }
}
