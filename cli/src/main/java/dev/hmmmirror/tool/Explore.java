package dev.hmmmirror.tool;

import dev.hmmmirror.explorer.Explorer;
import dev.hmmmirror.vm.config.Setting;
import dev.hmmmirror.vm.coverage.ModuleCoverage;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code hmm explore}: an explorer campaign on a kernel. */
@Command(name = "explore", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Explore the module on a kernel: model-based randomized testing.",
            "Boot a kernel, load hmm_mirror.ko and run random programs of mirror, device and mm actions in the "
                + "guest, each step checked against a model of every page (bytes, device mappings, "
                + "device-private and exclusive states, invalidation events, errno of refused commands). A "
                + "failure is shrunk to the shortest program that still fails the same way and written as a "
                + "JUnit reproducer (@GuestTest). Campaign seeds replay exactly.",
            "On a kernel with kmemleak (the -debug profiles) the campaign ends with a scan; a leak whose backtrace "
                + "names hmm_mirror fails it, the kernel's own are reported apart (kmemleak.txt).",
            "Exit 0 nothing found, 1 a failure (reproducer in --out), 2 kernel splat, 125 could not build or boot.",
            "Examples:", "  hmm explore --kernel built-7.2-debug --minutes 10",
            "  hmm explore --seed 42 --programs 200",
            "  hmm explore --fuzz-minutes 10 --stress        (raw-ioctl fuzzing only)",
            "  HMM_GUEST_CPUS=2 hmm explore --race-seconds 60 --threads 4",
            "  hmm explore --kernel built-7.2-debug --jobs 2 --minutes 30 --fuzz-minutes 30",
            "  hmm explore --plant-bug 1 --programs 100    (the explorer must find it)"})
final class Explore implements Callable<Integer> {
    @Mixin
    GuestOptions guest;

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

    @Override
    public Integer call() {
        if (plantBug < 0 || plantBug > 5) {
            System.err.println("hmm explore: --plant-bug takes 1-5 (0: none), not " + plantBug);
            return Hmm.CANNOT_RUN;
        }
        Path dir = (out != null ? out : Path.of("hmm-explore-"
                + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")))).toAbsolutePath();
        // on a kernel with kmemleak, the campaign ends with a scan: leaks of ours fail it
        List<String> args = new ArrayList<>(List.of(Explorer.class.getName(), "--steps", Integer.toString(steps),
                "--out", dir.toString(), "--kmemleak"));
        if (seed != null) {
            args.addAll(List.of("--seed", seed.toString()));
        }
        if (replay != null) {
            args.addAll(List.of("--replay", replay.toString()));
        } else if (programs > 0) {
            args.addAll(List.of("--programs", Long.toString(programs)));
        }
        if (fuzzMinutes > 0) {
            args.addAll(List.of("--fuzz-seconds", Long.toString(60 * fuzzMinutes)));
        }
        if (stress) {
            args.add("--stress");
        }
        if (jobs != 1) {
            args.addAll(List.of("--jobs", Integer.toString(jobs)));
        }
        if (raceSeconds > 0) {
            args.addAll(List.of("--race-seconds", Long.toString(raceSeconds), "--threads", Integer.toString(threads)));
        }
        if (replay == null && (minutes > 0 || (programs <= 0 && fuzzMinutes <= 0 && raceSeconds <= 0))) {
            args.addAll(List.of("--seconds", Long.toString(60 * Math.max(1, minutes))));
        }
        List<Path> entries = new ArrayList<>();
        try {
            Files.createDirectories(dir);
            entries.add(Path.of(Explorer.class.getProtectionDomain().getCodeSource().getLocation().toURI()));
        } catch (java.io.IOException | URISyntaxException e) {
            System.err.println("hmm explore: " + e.getMessage());
            return Hmm.CANNOT_RUN;
        }
        var settings = guest.settings();
        if (jobs > 1 && settings.raw(Setting.GUEST_CPUS).isEmpty()) {
            int cpus = Math.min(Math.min(jobs + (fuzzMinutes > 0 ? 1 : 0), Runtime.getRuntime().availableProcessors()), 8);
            settings = settings.with(Setting.GUEST_CPUS, Integer.toString(cpus));
        }
        System.err.println("[hmm] explore: report and reproducer in " + dir);
        return InGuest.run(settings, guest.profile(settings), dir.getParent(), session -> {
            String java = Run.javaCommand(session, entries, args, List.of());
            if (plantBug == 0) {
                return java;
            }
            return "rmmod hmm_mirror && insmod /hmm/host/hmm_mirror.ko $(cat /hmm/host/module-params 2>/dev/null)"
                    + " plant_bug=" + plantBug + " && " + java;
        }, System.in, Duration.ofSeconds(600 + raceSeconds + 60 * Math.max(minutes + fuzzMinutes, 60)),
                // on kernels with gcov (the built profiles): the module's lines the campaign ran, in DIR/coverage
                List.of(new ModuleCoverage(ModuleCoverage.EXPLORER, dir.resolve("coverage"))));
    }
}
