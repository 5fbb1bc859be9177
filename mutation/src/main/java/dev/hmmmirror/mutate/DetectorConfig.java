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
 * @param explorerSeconds how long the explorer's programs run
 * @param raceSeconds     how long its race mode runs afterwards (on 2 vCPUs; 0: not at all)
 * @param kmemleak        end the explorer with a kmemleak scan (debug kernels)
 */
public record DetectorConfig(List<DiscoverySelector> suiteSelectors, long explorerSeed, long explorerSeconds,
        long raceSeconds, boolean kmemleak) {
    /**
     * The configuration for {@code tests} (our test classes or {@code Class#method}, simple names in the
     * suite package of {@code settings}; empty: the whole suite package).
     */
    public static DetectorConfig of(Settings settings, List<String> tests, long explorerSeed, long explorerSeconds,
            long raceSeconds, boolean kmemleak) {
        List<DiscoverySelector> selectors = new ArrayList<>();
        if (tests.isEmpty()) {
            selectors.add(DiscoverySelectors.selectPackage(settings.suitePackage()));
        }
        for (String t : tests) {
            String fq = t.contains(".") && Character.isLowerCase(t.charAt(0)) ? t : settings.suitePackage() + "." + t;
            selectors.add(fq.contains("#") ? DiscoverySelectors.selectMethod(fq) : DiscoverySelectors.selectClass(fq));
        }
        return new DetectorConfig(List.copyOf(selectors), explorerSeed, explorerSeconds, raceSeconds, kmemleak);
    }
}
