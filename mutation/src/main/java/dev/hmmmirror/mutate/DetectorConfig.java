package dev.hmmmirror.mutate;

import dev.hmmmirror.vm.config.Settings;
import java.util.ArrayList;
import java.util.List;
import org.junit.platform.engine.DiscoverySelector;
import org.junit.platform.engine.discovery.DiscoverySelectors;

/**
 * How the detectors run.
 *
 * @param suiteSelectors  which of our tests (default: the whole suite package)
 * @param explorerSeed    the explorer's campaign seed (fixed: the same programs on every mutant)
 * @param explorerSeconds how long the explorer's programs run (used when {@code explorerPrograms} is 0)
 * @param explorerPrograms how many programs the explorer runs (0: as many as {@code explorerSeconds} allow); with a
 *                        fixed seed a count is the same campaign on every mutant whatever the host's load
 * @param raceSeconds     how long its race mode runs afterwards (on 2 vCPUs; 0: not at all)
 * @param kmemleak        end the explorer with a kmemleak scan (debug kernels)
 */
public record DetectorConfig(List<DiscoverySelector> suiteSelectors, long explorerSeed, long explorerSeconds,
        long explorerPrograms, long raceSeconds, boolean kmemleak) {
    /**
     * Checks the budgets.
     *
     * @throws IllegalArgumentException when a budget is negative
     */
    public DetectorConfig {
        if (explorerSeconds < 0 || explorerPrograms < 0 || raceSeconds < 0) {
            throw new IllegalArgumentException("--explorer-seconds, --explorer-programs and --race-seconds take 0 or "
                    + "more, not " + explorerSeconds + ", " + explorerPrograms + ", " + raceSeconds);
        }
        suiteSelectors = List.copyOf(suiteSelectors);
    }

    /**
     * The configuration for {@code tests} (our test classes or {@code Class#method}, simple names in the
     * suite package of {@code settings}; empty: the whole suite package).
     */
    public static DetectorConfig of(Settings settings, List<String> tests, long explorerSeed, long explorerSeconds,
            long explorerPrograms, long raceSeconds, boolean kmemleak) {
        List<DiscoverySelector> selectors = new ArrayList<>();
        if (tests.isEmpty()) {
            selectors.add(DiscoverySelectors.selectPackage(settings.suitePackage()));
        }
        for (String t : tests) {
            String fq = qualified(settings.suitePackage(), t);
            selectors.add(fq.contains("#") ? DiscoverySelectors.selectMethod(fq) : DiscoverySelectors.selectClass(fq));
        }
        return new DetectorConfig(List.copyOf(selectors), explorerSeed, explorerSeconds, explorerPrograms, raceSeconds,
                kmemleak);
    }

    /**
     * The fully qualified name of a test of the suite: {@code DeviceMemoryIT} and {@code mm.ThpIT} (a package
     * below the suite's) are relative to {@code suitePackage}, as is a name starting with it; a name whose
     * package has two or more parts ({@code org.example.SomeIT}) is taken as it is.
     */
    static String qualified(String suitePackage, String test) {
        String cls = test.contains("#") ? test.substring(0, test.indexOf('#')) : test;
        int dot = cls.lastIndexOf('.');
        if (test.startsWith(suitePackage + ".") || dot > 0 && cls.substring(0, dot).contains(".")) {
            return test;
        }
        return suitePackage + "." + test;
    }

    /** The explorer's command line (after its main class) for this configuration, reporting into {@code out}. */
    public List<String> explorerArgs(String out) {
        List<String> args = new ArrayList<>(List.of("--seed", Long.toString(explorerSeed)));
        if (explorerPrograms > 0) {
            args.addAll(List.of("--programs", Long.toString(explorerPrograms)));
        } else {
            args.addAll(List.of("--seconds", Long.toString(explorerSeconds)));
        }
        args.addAll(List.of("--out", out));
        if (raceSeconds > 0) {
            args.addAll(List.of("--race-seconds", Long.toString(raceSeconds), "--threads", "4"));
        }
        if (kmemleak) {
            args.add("--kmemleak");
        }
        return args;
    }

    /**
     * How long the explorer's guest command may take before the guest counts as hung: its time budget, or for a
     * count of programs 60 s per program (about 1 s each on a quiet 2-core TCG host, 25 s at load 19 with the
     * campaign at a lower share), plus the race and 15 minutes for the boot, the shrinker and a loaded host.
     */
    public long explorerTimeoutSeconds() {
        return (explorerPrograms > 0 ? 60 * explorerPrograms : explorerSeconds) + raceSeconds + 900;
    }
}
