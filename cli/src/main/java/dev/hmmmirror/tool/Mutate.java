package dev.hmmmirror.tool;

import dev.hmmmirror.mutate.BaseKernel;
import dev.hmmmirror.mutate.Campaign;
import dev.hmmmirror.mutate.Detector;
import dev.hmmmirror.mutate.Mutant;
import dev.hmmmirror.mutate.MutantResult;
import dev.hmmmirror.mutate.Verdict;
import dev.hmmmirror.vm.host.SetupException;
import dev.hmmmirror.vm.image.KernelProfile;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code hmm mutate}: a mutation campaign over the kernel's own HMM code. */
@Command(name = "mutate", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Mutation campaign: which kernel regressions do our tests, the explorer and the kernel's "
                + "hmm-tests catch?",
            "Each mutant (a patch against the kernel's HMM code, mutants/linux-7.2/*.patch) is applied to a "
                + "copy-on-write view (overlayfs) of a kernel built here (default built-7.2), rebuilt incrementally with "
                + "that kernel's toolchain, booted, and judged by the kernel's hmm-tests, the explorer (fixed seed, then "
                + "races on 2 vCPUs) and our suite, each in its own boot, against the unmutated kernel (the baseline). "
                + "Verdicts: killed, survived, equivalent, build-failure, boot-failure, timeout; DIR/results.json takes "
                + "each at once, and a rerun continues there. Needs root.",
            "Exit 0 the campaign ran (1 with --expect-killed when a mutant was not killed), 125 could not run.",
            "Examples:", "  hmm mutate --mutant 01 --detectors selftests",
            "  hmm mutate --kernel built-7.2-debug --memory-corrupting",
            "  hmm mutate --kernel-tree ~/linux --series 0001-*.patch --name mine"})
final class Mutate implements Callable<Integer> {
    @Mixin
    GuestOptions guest;

    @Option(names = "--kernel-tree-root", paramLabel = "ROOT", description = "the root file system (chroot, unpacked "
            + "container image) whose gcc and make built the --kernel-tree, with the tree inside it (default: a root the "
            + "tree lies in, else this host's tools; other commands: --kernel 'tree:DIR?root=ROOT')")
    Path treeRoot;

    @Option(names = "--mutants", paramLabel = "DIR", description = "the catalogue (default: mutants/linux-7.2 of "
            + "this checkout, for built-X: mutants/linux-X)")
    Path catalogue;

    @Option(names = "--mutant", paramLabel = "NAME", description = "run only this mutant (its file name without "
            + ".patch, or a unique prefix such as 07); repeatable")
    List<String> only = new ArrayList<>();

    @Option(names = "--mutant-file", paramLabel = "FILE", description = "a mutant file (or a plain patch) outside "
            + "the catalogue; repeatable")
    List<Path> files = new ArrayList<>();

    @Option(names = "--series", arity = "1..*", paramLabel = "PATCH", description = "patches applied in order as ONE "
            + "mutant (your patch series; git format-patch files work)")
    List<Path> series = new ArrayList<>();

    @Option(names = "--name", paramLabel = "NAME", description = "the name of the --series mutant (default: series)")
    String seriesName = "series";

    @Option(names = "--memory-corrupting", description = "only the mutants whose header says Memory-corrupting: yes "
            + "(for a -debug kernel, where KASAN should catch them)")
    boolean memoryCorrupting;

    @Option(names = "--detectors", split = ",", paramLabel = "D[,D]", description = "which detectors, in this order "
            + "(default: selftests,explorer,suite)")
    List<String> detectors = new ArrayList<>(List.of("selftests", "explorer", "suite"));

    @Option(names = "--tests", split = ",", paramLabel = "CLASS[#method]", description = "the suite detector runs "
            + "only these of our tests (default: the whole suite)")
    List<String> tests = new ArrayList<>();

    @Option(names = "--explorer-seed", paramLabel = "S", description = "the explorer's campaign seed, the same for "
            + "every mutant (default: ${DEFAULT-VALUE})")
    long explorerSeed = 20261206L;

    @Option(names = "--explorer-seconds", paramLabel = "S", description = "how long its programs run (default: "
            + "${DEFAULT-VALUE})")
    long explorerSeconds = 120;

    @Option(names = "--explorer-programs", paramLabel = "N", description = "run this many programs instead (the "
            + "same campaign on every mutant whatever the host's load; default 0: --explorer-seconds)")
    long explorerPrograms;

    @Option(names = "--race-seconds", paramLabel = "S", description = "then its race mode on 2 vCPUs (default: "
            + "${DEFAULT-VALUE}; 0: none)")
    long raceSeconds = 60;

    @Option(names = "--jobs", paramLabel = "J", description = "mutants at once, each in its own view and guests "
            + "(default 1: on 2 cores under TCG more only slows each down)")
    int jobs = 1;

    @Option(names = "--make-jobs", paramLabel = "N", description = "make -j of each rebuild (default: this host's cores)")
    int makeJobs = Runtime.getRuntime().availableProcessors();

    @Option(names = "--build-minutes", paramLabel = "M", description = "a rebuild taking longer is a build failure "
            + "(default: ${DEFAULT-VALUE})")
    long buildMinutes = 60;

    @Option(names = "--out", paramLabel = "DIR", description = "the campaign directory (default: ./hmm-mutate-KERNEL); "
            + "rerunning with the same one continues the campaign")
    Path out;

    @Option(names = "--redo", description = "run the chosen mutants again even when they have a verdict")
    boolean redo;

    @Option(names = "--stop-at-first-kill", description = "skip a mutant's remaining detectors once one killed it "
            + "(faster; the per-detector scores then only count the first killer)")
    boolean stopAtFirstKill;

    @Option(names = "--no-baseline", description = "do not run the unmutated kernel first (nothing failing there is "
            + "then subtracted)")
    boolean noBaseline;

    @Option(names = "--run-equivalent", description = "run mutants the catalogue argues are equivalent too")
    boolean runEquivalent;

    @Option(names = "--expect-killed", description = "exit 1 unless every mutant run got killed (CI)")
    boolean expectKilled;

    @Option(names = "--list", description = "list the chosen mutants and their headers, run nothing")
    boolean list;

    @Option(names = "--rejudge", description = "judge the recorded timeouts of the campaign in --out again from what "
            + "their runs left (the selftests' TAP, the explorer's log), with today's rules (a failure reported before a "
            + "hang is a kill), then write its results and report; builds and boots nothing")
    boolean rejudge;

    @Override
    public Integer call() {
        var settings = guest.settings();
        return Guarded.call(settings, s -> {
            KernelProfile tree = guest.trees.isEmpty() ? null : KernelProfile.tree(guest.trees.getFirst(), treeRoot);
            String kernel = guest.kernels.isEmpty() ? "built-7.2" : guest.kernels.getFirst();
            List<Mutant> mutants = mutants(s, kernel, tree != null);
            if (list) {
                for (Mutant m : mutants) {
                    System.out.printf("%-44s %s%n", m.name(), m.describe());
                    m.headers().forEach((k, v) -> {
                        if (!k.equals("Mutant")) {
                            System.out.printf("    %-18s %s%n", k + ":", v);
                        }
                    });
                }
                return 0;
            }
            List<Detector> ds = detectors.stream().map(Detector::of).distinct().toList();
            Path dir = (out != null ? out : Path.of("hmm-mutate-" + (tree != null ? tree.dirName() : kernel)))
                    .toAbsolutePath().normalize();
            if (rejudge) {
                Campaign.rejudge(dir, System.out);
                return 0;
            }
            var config = dev.hmmmirror.mutate.DetectorConfig.of(s, tests, explorerSeed, explorerSeconds,
                    explorerPrograms, raceSeconds, kernel.endsWith("-debug"));
            Campaign.Options o = new Campaign.Options(dir, () -> tree != null
                    ? BaseKernel.tree(tree.tree(), tree.toolRoot()) : BaseKernel.built(s, kernel), mutants, ds, config,
                    jobs, makeJobs, Duration.ofMinutes(buildMinutes), redo, stopAtFirstKill, !noBaseline, runEquivalent);
            Map<String, MutantResult> results = new Campaign(s, o, System.out).run();
            if (expectKilled) {
                List<String> alive = mutants.stream().map(m -> results.get(m.name()))
                        .filter(r -> r == null || r.verdict() != Verdict.KILLED).map(r -> r == null ? "?" : r.name() + " "
                                + r.verdict().label() + ": " + r.reason()).toList();
                if (!alive.isEmpty()) {
                    System.out.println("hmm mutate: not killed: " + String.join("; ", alive));
                    return 1;
                }
            }
            return 0;
        });
    }

    private List<Mutant> mutants(dev.hmmmirror.vm.config.Settings s, String kernel, boolean tree) {
        List<Mutant> out = new ArrayList<>();
        if (!series.isEmpty()) {
            out.add(Mutant.series(seriesName, series));
        }
        files.forEach(f -> out.add(Mutant.read(f)));
        if (out.isEmpty() || !only.isEmpty()) {
            if (tree && catalogue == null && out.isEmpty()) {
                throw new SetupException("hmm mutate --kernel-tree: give your patches (--series FILE..., --mutant-file "
                        + "FILE) or a catalogue (--mutants DIR)");
            }
            Path dir = catalogue != null ? catalogue : s.projectRoot().orElse(Path.of("")).resolve("mutants")
                    .resolve("linux-" + KernelProfile.named(kernel).source());
            List<Mutant> all = Mutant.catalogue(dir);
            if (only.isEmpty()) {
                out.addAll(all);
            } else {
                for (String n : only) {
                    List<Mutant> hit = all.stream().filter(m -> m.name().equals(n)).toList();
                    if (hit.isEmpty()) {
                        hit = all.stream().filter(m -> m.name().startsWith(n)).toList();
                    }
                    if (hit.size() != 1) {
                        throw new SetupException("--mutant " + n + ": " + (hit.isEmpty() ? "no such mutant" : hit.size()
                                + " match") + " in " + dir + " (hmm mutate --list shows them)");
                    }
                    out.add(hit.getFirst());
                }
            }
        }
        if (memoryCorrupting) {
            out.removeIf(m -> !m.memoryCorrupting());
        }
        return out;
    }
}
