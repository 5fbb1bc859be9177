package dev.hmmmirror.tool;

import dev.hmmmirror.explorer.options.CampaignOptions;
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
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

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

    /** The explorer's own options: the guest parses the same class ({@link CampaignOptions#args()}). */
    @Mixin
    CampaignOptions campaign;

    @Override
    public Integer call() {
        try {
            campaign.check();
        } catch (IllegalArgumentException e) {
            System.err.println("hmm explore: " + e.getMessage());
            return Hmm.CANNOT_RUN;
        }
        Path dir = (campaign.out() != null ? campaign.out() : Path.of("hmm-explore-"
                + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")))).toAbsolutePath();
        // on a kernel with kmemleak, the campaign ends with a scan: leaks of ours fail it
        campaign.out(dir).kmemleak(true);
        List<String> args = new ArrayList<>(List.of(CampaignOptions.MAIN_CLASS));
        args.addAll(campaign.args());
        List<Path> entries = new ArrayList<>();
        try {
            Files.createDirectories(dir);
            entries.add(jarOf(CampaignOptions.class));
            entries.add(jarOf(CommandLine.class));
        } catch (java.io.IOException | URISyntaxException e) {
            System.err.println("hmm explore: " + e.getMessage());
            return Hmm.CANNOT_RUN;
        }
        var settings = guest.settings();
        if (campaign.jobs() > 1 && settings.raw(Setting.GUEST_CPUS).isEmpty()) {
            int cpus = Math.min(Math.min(campaign.jobs() + (campaign.fuzz() ? 1 : 0),
                    Runtime.getRuntime().availableProcessors()), 8);
            settings = settings.with(Setting.GUEST_CPUS, Integer.toString(cpus));
        }
        int plantBug = campaign.plantBug();
        System.err.println("[hmm] explore: report and reproducer in " + dir);
        return InGuest.run(settings, guest.profile(settings), dir.getParent(), session -> {
            String java = Run.javaCommand(session, entries, args, List.of());
            if (plantBug == 0) {
                return java;
            }
            return "rmmod hmm_mirror && insmod /hmm/host/hmm_mirror.ko $(cat /hmm/host/module-params 2>/dev/null)"
                    + " plant_bug=" + plantBug + " && " + java;
        }, System.in, Duration.ofSeconds(600 + campaign.raceSeconds()
                + Math.max(campaign.seconds() + campaign.fuzzSeconds(), 3600)),
                // on kernels with gcov (the built profiles): the module's lines the campaign ran, in DIR/coverage
                List.of(new ModuleCoverage(ModuleCoverage.EXPLORER, dir.resolve("coverage"))));
    }

    private static Path jarOf(Class<?> c) throws URISyntaxException {
        return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI());
    }
}
