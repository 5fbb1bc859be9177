package dev.hmmmirror.mutate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hmmmirror.explorer.options.CampaignOptions;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The explorer detector's budget: a count of programs (load-independent) or seconds, and its timeout. */
class DetectorConfigTest {
    @Test
    void aProgramCountReplacesTheTimeBudget() {
        DetectorConfig c = new DetectorConfig(List.of(), 20261206L, 120, 100, 30, false);
        List<String> args = c.explorerArgs("/hmm/out/explorer");
        assertEquals(List.of("--seed", "20261206", "--programs", "100", "--out", "/hmm/out/explorer", "--race-seconds",
                "30", "--threads", "4"), args);
        // the explorer reads it back as a campaign of 100 programs with no time limit
        CampaignOptions o = CampaignOptions.parse(args.toArray(String[]::new));
        assertEquals(100, o.programs());
        assertEquals(0, o.seconds());
        assertEquals(60 * 100 + 30 + 900, c.explorerTimeoutSeconds());
    }

    @Test
    void withoutACountTheSecondsBound() {
        DetectorConfig c = new DetectorConfig(List.of(), 7L, 90, 0, 0, true);
        List<String> args = c.explorerArgs("/o");
        assertEquals(List.of("--seed", "7", "--seconds", "90", "--out", "/o", "--kmemleak"), args);
        assertFalse(args.contains("--programs"));
        CampaignOptions o = CampaignOptions.parse(args.toArray(String[]::new));
        assertEquals(90, o.seconds());
        assertEquals(90 + 900, c.explorerTimeoutSeconds());
    }

    @Test
    void suiteTestsNamedRelativeToTheSuitePackageOrInFull() {
        String pkg = "dev.hmmmirror.guest";
        assertEquals("dev.hmmmirror.guest.DeviceMemoryIT", DetectorConfig.qualified(pkg, "DeviceMemoryIT"));
        // a package below the suite's (the campaign's first start took "mm.ThpIT" for a top-level package: the
        // suite's discovery failed and the baseline's suite ran nothing)
        assertEquals("dev.hmmmirror.guest.mm.ThpIT", DetectorConfig.qualified(pkg, "mm.ThpIT"));
        assertEquals("dev.hmmmirror.guest.mm.ThpIT#collapse", DetectorConfig.qualified(pkg, "mm.ThpIT#collapse"));
        assertEquals("dev.hmmmirror.guest.mm.ThpIT", DetectorConfig.qualified(pkg, "dev.hmmmirror.guest.mm.ThpIT"));
        assertEquals("org.example.SomeIT", DetectorConfig.qualified(pkg, "org.example.SomeIT"));
        assertEquals("dev.hmmmirror.guest.DifferentialIT#anotherDevicesMemory",
                DetectorConfig.qualified(pkg, "DifferentialIT#anotherDevicesMemory"));
    }

    @Test
    void negativeBudgetsAreRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new DetectorConfig(List.of(), 1L, 120, -1, 30, false));
        assertTrue(e.getMessage().contains("--explorer-programs"), e.getMessage());
    }
}
