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
 * @param <S> the state
 */
public final class Shrinker<S extends AutoCloseable> {
    private final Programs<S> programs;
    private final int maxReplays;
    private final Function<Throwable, String> signature;

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

    /** The shortest failing program found from {@code failure}, which is returned if none is. */
    public Failure<S> shrink(Failure<S> failure) throws Exception {
        String wanted = signature.apply(failure.error());
        Failure<S> best = failure;
        int replays = 0;
        boolean changed = true;
        while (changed && replays < maxReplays) {
            changed = false;
            // chunks, from halves down to single steps
            for (int chunk = Math.max(1, best.steps().size() / 2); chunk >= 1 && replays < maxReplays;
                    chunk /= 2) {
                for (int from = 0; from + chunk <= best.steps().size() && replays < maxReplays; ) {
                    List<Step<S>> candidate = new ArrayList<>(best.steps());
                    candidate.subList(from, from + chunk).clear();
                    replays++;
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
                    replays++;
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

    private Optional<Failure<S>> sameFailure(long seed, List<Step<S>> steps, String wanted) throws Exception {
        Optional<Failure<S>> f = programs.replay(seed, steps);
        return f.filter(x -> Objects.equals(wanted, signature.apply(x.error())));
    }
}
