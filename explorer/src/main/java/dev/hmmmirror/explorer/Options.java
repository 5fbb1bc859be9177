package dev.hmmmirror.explorer;

import java.nio.file.Path;

/**
 * What a campaign is asked to do ({@code owners}: as {@code CampaignOptions#owners()}; {@code rdma}: RDMA
 * steps where the guest has rxe On-Demand Paging, {@code --rdma}).
 */
public record Options(long seed, long programs, long seconds, int steps, Long replay, Path out, String name,
        int shrinkReplays, long fuzzIoctls, long fuzzSeconds, boolean stress, long raceSeconds, int threads,
        boolean kmemleak, int jobs, String owners, boolean rdma) {
    boolean fuzz() {
        return fuzzIoctls > 0 || fuzzSeconds > 0;
    }
}
