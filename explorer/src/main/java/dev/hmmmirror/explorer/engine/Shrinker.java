package dev.hmmmirror.explorer.engine;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;

/**
 * Shrinks a failing program to a short one that fails the same way, by replaying candidates on
 * fresh states: first removing chunks of steps (delta debugging, halving the chunk size), then
 * single steps, then replacing steps by simpler ones, until nothing smaller fails or the replay
 * budget is spent. "The same way" is the failure's signature (by default the error's class and the
 * first line of its message up to the first colon), so that shrinking cannot wander off to another
 * failure.
 *
 * <p>A failure that depends on timing or on the kernel's background work (compaction, reclaim,
 * the order of events) does not fail on every replay. Taking one replay that passes as "this step
 * is needed" would leave such a program long. So the shrinker first replays the program it was
 * given; if that passes, the failure is <em>flaky</em> and every candidate gets up to
 * {@link #FLAKY_ATTEMPTS} replays before it counts as passing. A program that reproduced at the
 * start but is stuck later is replayed once more to check the same.
 *
 * @param <S> the state
 */
public final class Shrinker<S extends AutoCloseable> {
    /** Replays a candidate gets once the failure is known to be flaky. */
    public static final int FLAKY_ATTEMPTS = 3;

    private final Programs<S> programs;
    private final int maxReplays;
    private final Function<Throwable, String> signature;
    private int replays;
    private int attempts = 1;

    public Shrinker(Programs<S> programs, int maxReplays, Function<Throwable, String> signature) {
        this.programs = programs;
        this.maxReplays = maxReplays;
        this.signature = signature;
    }

    /** The default signature: the error's class and what its message says before the first colon. */
    public static String defaultSignature(Throwable t) {
        String m = String.valueOf(t.getMessage());
        int colon = m.indexOf(':');
        return t.getClass().getName() + "/" + (colon < 0 ? m : m.substring(0, colon));
    }

    /**
     * Whether the failure did not reproduce on every replay of the last {@link #shrink} (candidates
     * then got up to {@link #FLAKY_ATTEMPTS} replays each).
     */
    public boolean flaky() {
        return attempts > 1;
    }

    /** The shortest failing program found from {@code failure}, which is returned if none is. */
    public Failure<S> shrink(Failure<S> failure) throws Exception {
        String wanted = signature.apply(failure.error());
        Failure<S> best = failure;
        replays = 0;
        attempts = 1;
        if (maxReplays > 0 && sameFailure(best.seed(), best.steps(), wanted).isEmpty()) {
            attempts = FLAKY_ATTEMPTS;
        }
        boolean changed = true;
        while (replays < maxReplays) {
            if (!changed) {
                // stuck: a deterministic-looking failure may still be flaky; check once
                if (attempts > 1 || sameFailure(best.seed(), best.steps(), wanted).isPresent()) {
                    break;
                }
                attempts = FLAKY_ATTEMPTS;
            }
            changed = false;
            // chunks, from halves down to single steps
            for (int chunk = Math.max(1, best.steps().size() / 2); chunk >= 1 && replays < maxReplays;
                    chunk /= 2) {
                for (int from = 0; from + chunk <= best.steps().size() && replays < maxReplays; ) {
                    List<Step<S>> candidate = new ArrayList<>(best.steps());
                    candidate.subList(from, from + chunk).clear();
                    Optional<Failure<S>> f = sameFailure(best.seed(), candidate, wanted);
                    if (f.isPresent() && f.get().steps().size() < best.steps().size()) {
                        best = f.get();
                        changed = true;
                    } else {
                        from += chunk;
                    }
                }
            }
            // simpler parameters, step by step
            for (int i = 0; i < best.steps().size() && replays < maxReplays; i++) {
                for (Step<S> simpler : best.steps().get(i).simpler()) {
                    if (replays >= maxReplays) {
                        break;
                    }
                    List<Step<S>> candidate = new ArrayList<>(best.steps());
                    candidate.set(i, simpler);
                    Optional<Failure<S>> f = sameFailure(best.seed(), candidate, wanted);
                    if (f.isPresent() && f.get().steps().size() <= best.steps().size()) {
                        best = f.get();
                        changed = true;
                        break;
                    }
                }
            }
        }
        return best;
    }

    /** Up to {@code attempts} replays of {@code steps} (within the budget), the first that fails the wanted way. */
    private Optional<Failure<S>> sameFailure(long seed, List<Step<S>> steps, String wanted) throws Exception {
        for (int a = 0; a < attempts && (a == 0 || replays < maxReplays); a++) {
            replays++;
            Optional<Failure<S>> f = programs.replay(seed, steps)
                    .filter(x -> Objects.equals(wanted, signature.apply(x.error())));
            if (f.isPresent()) {
                return f;
            }
        }
        return Optional.empty();
    }
}
