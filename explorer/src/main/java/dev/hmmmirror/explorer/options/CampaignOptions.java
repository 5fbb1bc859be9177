package dev.hmmmirror.explorer.options;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * The options of an explorer campaign, one class for both sides of it: {@code hmm explore} (cli/, on
 * the host) mixes them into its command line and starts the explorer in the guest with
 * {@link #args()}; the explorer's main class (in the guest) reads them back with {@link #parse}.
 * The hidden options are the guest's own: budgets in seconds and ioctls (tests and a campaign's
 * jobs use them), a job's name and report folder, the shrinker's budget, the kmemleak scan.
 */
public final class CampaignOptions {
    /** The explorer's main class in the guest (the jar of this class holds it). */
    public static final String MAIN_CLASS = "dev.hmmmirror.explorer.Explorer";

    /** The name of a campaign's first process (its jobs are named job-N and fuzz). */
    public static final String MAIN = "explorer";

    @Option(names = "--minutes", paramLabel = "M", description = "run for this long (default: 1, unless --programs)")
    long minutes;

    @Option(names = "--programs", paramLabel = "N", description = "run this many programs")
    long programs;

    @Option(names = "--seed", paramLabel = "S", description = "campaign seed (default: random, printed)")
    Long seed;

    @Option(names = "--steps", paramLabel = "K", description = "at most this many steps per program (default: 30)")
    int steps = 30;

    @Option(names = "--replay", paramLabel = "PROGRAM_SEED", description = "replay one program (its seed as printed)"
            + " and shrink it")
    Long replay;

    @Option(names = "--fuzz-minutes", paramLabel = "F", description = "then fuzz raw ioctls for this long (random "
            + "commands, sizes, flags, reserved words, counts, pointers; valid commands checked in between)")
    long fuzzMinutes;

    @Option(names = "--stress", description = "fuzz while a second thread mutates the memory the commands name "
            + "(mprotect, MADV_DONTNEED, fixed remaps, fork)")
    boolean stress;

    @Option(names = "--race-seconds", paramLabel = "S", description = "then race for this long: CPU and device "
            + "writers, device readers and an mm mutator on the same pages, each device read checked per 64-bit word "
            + "(never older than the last completed write); give the guest vCPUs with HMM_GUEST_CPUS")
    long raceSeconds;

    @Option(names = "--threads", paramLabel = "T", description = "writers and readers of the race (default: 4)")
    int threads = 4;

    @Option(names = "--jobs", paramLabel = "J", description = "run the programs in J guest processes at once and "
            + "the fuzzing in one more (figures summed at the end); the guest gets that many vCPUs (at most this "
            + "host's, 8) unless HMM_GUEST_CPUS says otherwise")
    int jobs = 1;

    @Option(names = "--plant-bug", paramLabel = "N", description = "load the module with plant_bug=N first (a test "
            + "aid: 1 protection changes keep device entries, 2 lost events, 3 a migration that zeroes a page, 4 a "
            + "close that leaves a page in device memory, 5 a read fault without the sequence re-check: races only)")
    int plantBug;

    @Option(names = "--out", paramLabel = "DIR", description = "where the campaign's report and reproducer go "
            + "(default: ./hmm-explore-TIMESTAMP)")
    Path out;

    @Option(names = "--seconds", paramLabel = "T", hidden = true, description = "run for this long (with --minutes: "
            + "added)")
    long seconds;

    @Option(names = "--fuzz-seconds", paramLabel = "T", hidden = true, description = "fuzz for this long (with "
            + "--fuzz-minutes: added)")
    long fuzzSeconds;

    @Option(names = "--fuzz-ioctls", paramLabel = "N", hidden = true, description = "fuzz this many ioctls")
    long fuzzIoctls;

    @Option(names = "--kmemleak", hidden = true, description = "end with a kmemleak scan where the kernel has one")
    boolean kmemleak;

    @Option(names = "--owners", paramLabel = "MODE", hidden = true, description = "who owns device memory in the "
            + "programs: both (default: the last quarter of the budget with each device its own owner, the module "
            + "reloaded with shared_owner=N when it shares one), loaded (as the module was loaded), separate (every "
            + "program with each device its own owner; what a replay of such a program needs)")
    String owners = BOTH;

    /** {@code --owners}: the module as loaded, then the last quarter of the budget with each device its own owner. */
    public static final String BOTH = "both";
    /** {@code --owners}: the module as loaded. */
    public static final String LOADED = "loaded";
    /** {@code --owners}: every program with each device its own owner. */
    public static final String SEPARATE = "separate";

    @Option(names = "--rdma", description = "also draw RDMA steps (read, write, atomic fetch-and-add through an rxe "
            + "On-Demand Paging region over a program's region, a second mirror beside ours) where the guest has rxe "
            + "ODP (debian-sid); off by default, so that a seed draws the same programs as before")
    boolean rdma;

    @Option(names = "--name", paramLabel = "NAME", hidden = true, description = "this process's name in a campaign")
    String name = MAIN;

    @Option(names = "--shrink-replays", paramLabel = "R", hidden = true, description = "replays the shrinker may "
            + "spend (default: 400)")
    int shrinkReplays = 400;

    /**
     * Reads the explorer's command line.
     *
     * @throws IllegalArgumentException naming what is wrong (an unknown option, a value out of range)
     */
    public static CampaignOptions parse(String... args) {
        CampaignOptions o = new CampaignOptions();
        CommandLine cl = new CommandLine(o);
        cl.getCommandSpec().name(MAIN);
        try {
            cl.parseArgs(args);
        } catch (CommandLine.ParameterException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
        return o.check();
    }

    /**
     * This campaign unless an option is out of range or a combination cannot work.
     *
     * @throws IllegalArgumentException saying which
     */
    public CampaignOptions check() {
        if (plantBug < 0 || plantBug > 5) {
            throw new IllegalArgumentException("--plant-bug takes 1-5 (0: none), not " + plantBug);
        }
        if (!List.of(BOTH, LOADED, SEPARATE).contains(owners)) {
            throw new IllegalArgumentException("--owners takes both, loaded or separate, not " + owners);
        }
        if (jobs < 1 || jobs > 16) {
            throw new IllegalArgumentException("--jobs takes 1-16, not " + jobs);
        }
        if (jobs > 1 && (replay != null || out == null)) {
            throw new IllegalArgumentException("--jobs needs --out (each job reports in a folder of it) and no --replay");
        }
        if (steps < 1 || threads < 1 || minutes < 0 || seconds < 0 || programs < 0 || fuzzMinutes < 0
                || fuzzSeconds < 0 || fuzzIoctls < 0 || raceSeconds < 0 || shrinkReplays < 0) {
            throw new IllegalArgumentException("--steps and --threads take 1 or more, the budgets 0 or more");
        }
        return this;
    }

    /** The explorer's command line for these options: what {@link #parse} reads back as the same campaign. */
    public List<String> args() {
        List<String> a = new ArrayList<>();
        long[] counts = {minutes, programs, steps, fuzzMinutes, raceSeconds, threads, jobs, plantBug, seconds,
            fuzzSeconds, fuzzIoctls, shrinkReplays};
        String[] names = {"--minutes", "--programs", "--steps", "--fuzz-minutes", "--race-seconds", "--threads",
            "--jobs", "--plant-bug", "--seconds", "--fuzz-seconds", "--fuzz-ioctls", "--shrink-replays"};
        CampaignOptions dflt = new CampaignOptions();
        long[] defaults = {dflt.minutes, dflt.programs, dflt.steps, dflt.fuzzMinutes, dflt.raceSeconds, dflt.threads,
            dflt.jobs, dflt.plantBug, dflt.seconds, dflt.fuzzSeconds, dflt.fuzzIoctls, dflt.shrinkReplays};
        for (int i = 0; i < counts.length; i++) {
            if (counts[i] != defaults[i]) {
                a.addAll(List.of(names[i], Long.toString(counts[i])));
            }
        }
        if (seed != null) {
            a.addAll(List.of("--seed", seed.toString()));
        }
        if (replay != null) {
            a.addAll(List.of("--replay", replay.toString()));
        }
        if (out != null) {
            a.addAll(List.of("--out", out.toString()));
        }
        if (!name.equals(MAIN)) {
            a.addAll(List.of("--name", name));
        }
        if (!owners.equals(BOTH)) {
            a.addAll(List.of("--owners", owners));
        }
        if (stress) {
            a.add("--stress");
        }
        if (kmemleak) {
            a.add("--kmemleak");
        }
        if (rdma) {
            a.add("--rdma");
        }
        return a;
    }

    /** Whether any budget was given; without one a campaign runs programs for a minute. */
    private boolean budgeted() {
        return replay != null || programs > 0 || minutes > 0 || seconds > 0 || fuzz() || raceSeconds > 0;
    }

    /** Whether RDMA steps are drawn where the guest has rxe On-Demand Paging ({@code --rdma}). */
    public boolean rdma() {
        return rdma;
    }

    /** The campaign seed, or null for a random one (drawn and printed by the campaign). */
    public Long seed() {
        return seed;
    }

    /** Programs to run (0: as many as the time allows). */
    public long programs() {
        return programs;
    }

    /** Seconds to run programs for (0: no time budget): --minutes and --seconds, one minute without a budget. */
    public long seconds() {
        return budgeted() ? 60 * minutes + seconds : 60;
    }

    /** At most this many steps per program. */
    public int steps() {
        return steps;
    }

    /** The program seed to replay and shrink, or null. */
    public Long replay() {
        return replay;
    }

    /** Whether raw ioctls are fuzzed after the programs. */
    public boolean fuzz() {
        return fuzzMinutes > 0 || fuzzSeconds > 0 || fuzzIoctls > 0;
    }

    /** Seconds of fuzzing (0: none, or a count of ioctls): --fuzz-minutes and --fuzz-seconds. */
    public long fuzzSeconds() {
        return 60 * fuzzMinutes + fuzzSeconds;
    }

    /** Ioctls to fuzz when no time is given. */
    public long fuzzIoctls() {
        return fuzzIoctls;
    }

    /** Fuzz while a second thread mutates the memory. */
    public boolean stress() {
        return stress;
    }

    /** Seconds of racing after the programs (0: none). */
    public long raceSeconds() {
        return raceSeconds;
    }

    /** Writers and readers of the race. */
    public int threads() {
        return threads;
    }

    /** Processes the programs run in. */
    public int jobs() {
        return jobs;
    }

    /** The planted bug the module is (to be) loaded with; 0 none. */
    public int plantBug() {
        return plantBug;
    }

    /** The report folder, or null (none in the guest; the host picks one). */
    public Path out() {
        return out;
    }

    /** These options with the report folder {@code dir}. */
    public CampaignOptions out(Path dir) {
        out = dir;
        return this;
    }

    /** Whether the campaign ends with a kmemleak scan. */
    public boolean kmemleak() {
        return kmemleak;
    }

    /** These options with the kmemleak scan on or off. */
    public CampaignOptions kmemleak(boolean scan) {
        kmemleak = scan;
        return this;
    }

    /** This process's name: {@link #MAIN}, or a job's. */
    public String name() {
        return name;
    }

    /** Who owns device memory in the programs: {@link #BOTH}, {@link #LOADED} or {@link #SEPARATE}. */
    public String owners() {
        return owners;
    }

    /** Replays the shrinker may spend. */
    public int shrinkReplays() {
        return shrinkReplays;
    }
}
