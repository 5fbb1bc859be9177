package dev.hmmmirror.explorer;

import dev.hmmmirror.explorer.options.CampaignOptions;
import dev.hmmmirror.explorer.sys.Kernel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A campaign of the explorer in this (guest) process: programs drawn from a campaign seed run
 * against the module until the budget (programs or seconds) is spent or one fails; a failure is
 * shrunk by replaying it on fresh memory and mirrors, and written as a reproducer.
 *
 * <pre>
 * java -cp ... dev.hmmmirror.explorer.Explorer [the options of hmm explore, and the hidden ones]
 * </pre>
 * The options are {@link CampaignOptions}, the class {@code hmm explore} parses its own with.
 * With {@code --jobs J} the programs run in J processes at once (this one and J-1 more, each drawing
 * from its own seed, derived from the campaign seed) and the fuzzing in one more, for guests with
 * several vCPUs; the figures printed at the end are the whole campaign's.
 * Exit code 0: nothing found; 1: a failure (shrunk, its reproducer in {@code DIR}); 125: bad arguments.
 */
public final class Explorer {
    private Explorer() {}

    public static void main(String[] args) throws Exception {
        Options o;
        try {
            CampaignOptions c = CampaignOptions.parse(args);
            requirePlantedBug(c.plantBug());
            o = options(c);
        } catch (IllegalArgumentException e) {
            System.err.println("explorer: " + e.getMessage());
            System.exit(125);
            return;
        }
        Result r = run(o);
        System.exit(r.failed() ? 1 : 0);
    }

    /** The campaign {@code c} asks for, its seed drawn when it names none. */
    static Options options(CampaignOptions c) {
        return new Options(c.seed() != null ? c.seed() : ThreadLocalRandom.current().nextLong(), c.programs(),
                c.seconds(), c.steps(), c.replay(), c.out(), c.name(), c.shrinkReplays(), c.fuzzIoctls(),
                c.fuzzSeconds(), c.stress(), c.raceSeconds(), c.threads(), c.kmemleak(), c.jobs(), c.owners(), c.rdma());
    }

    /**
     * A campaign that is to find planted bug {@code bug} (0: none) runs only where the module was
     * loaded with it ({@code hmm explore --plant-bug} reloads the module before it starts this).
     */
    private static void requirePlantedBug(int bug) {
        if (bug == 0) {
            return;
        }
        String loaded;
        try {
            loaded = Files.readString(PLANT_BUG).strip();
        } catch (java.io.IOException e) {
            loaded = "(unreadable: " + e.getMessage() + ")";
        }
        if (!loaded.equals(Integer.toString(bug))) {
            throw new IllegalArgumentException("--plant-bug " + bug + ", but the module was loaded with plant_bug="
                    + loaded + ": reload it with plant_bug=" + bug + " first (hmm explore --plant-bug does)");
        }
    }

    private static final Path PLANT_BUG = Path.of("/sys/module/hmm_mirror/parameters/plant_bug");

    /** The name of a campaign's first process (its jobs are named job-N and fuzz). */
    private static final String MAIN = CampaignOptions.MAIN;

    /**
     * Runs a campaign, printing progress and the result, writing the report files to {@code out};
     * khugepaged stays off ranges with pages in device memory meanwhile (see
     * {@link Kernel#keepKhugepagedOffDeviceMemory()}).
     */
    public static Result run(Options o) throws Exception {
        try (Kernel.KhugepagedHold khugepaged = Kernel.keepKhugepagedOffDeviceMemory()) {
            if (MAIN.equals(o.name()) && khugepaged.held()) {
                System.out.println("explorer: khugepaged kept off ranges in device memory while this runs"
                        + " (max_ptes_swap 0, restored at the end)");
            }
            return new Campaign(o, Explorer.class.getName()).run();
        }
    }
}
