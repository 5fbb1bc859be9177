package dev.hmmmirror.explorer;

import dev.hmmmirror.explorer.action.World;
import dev.hmmmirror.explorer.engine.Failure;
import dev.hmmmirror.explorer.engine.Stats;
import dev.hmmmirror.explorer.model.Features;
import java.util.Optional;

/**
 * What a campaign did.
 *
 * @param laterFailure what failed after the programs (fuzzing, a job, racing, a kmemleak scan)
 */
public record Result(Options options, Stats stats, Features features, Optional<Failure<World>> found,
        Optional<Failure<World>> shrunk, double seconds, Optional<Throwable> laterFailure, long fuzzed) {
    boolean failed() {
        return shrunk.isPresent() || laterFailure.isPresent();
    }
}
