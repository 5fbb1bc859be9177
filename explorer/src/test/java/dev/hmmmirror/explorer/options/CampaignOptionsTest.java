package dev.hmmmirror.explorer.options;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The explorer's options: budgets and defaults, what is refused, and a command line that reads back the same. */
class CampaignOptionsTest {
    @Test
    void withoutABudgetProgramsRunForAMinute() {
        CampaignOptions o = CampaignOptions.parse();
        assertEquals(60, o.seconds());
        assertEquals(0, o.programs());
        assertFalse(o.fuzz());
        assertNull(o.seed());
        assertEquals(30, o.steps());
        assertEquals(CampaignOptions.MAIN, o.name());
    }

    @Test
    void minutesAndSecondsAddUpAndOtherBudgetsLeaveTheTimeOut() {
        assertEquals(125, CampaignOptions.parse("--minutes", "2", "--seconds", "5").seconds());
        assertEquals(0, CampaignOptions.parse("--programs", "200").seconds());
        CampaignOptions fuzz = CampaignOptions.parse("--fuzz-minutes", "10", "--fuzz-seconds", "3");
        assertTrue(fuzz.fuzz());
        assertEquals(603, fuzz.fuzzSeconds());
        assertEquals(0, fuzz.seconds(), "fuzzing only: no programs");
        assertEquals(0, CampaignOptions.parse("--race-seconds", "15").seconds());
        assertEquals(0, CampaignOptions.parse("--replay", "42").seconds());
        assertTrue(CampaignOptions.parse("--fuzz-ioctls", "20000").fuzz());
    }

    @Test
    void whatCannotWorkIsRefusedNamingTheOption() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> CampaignOptions.parse("--frobnicate"))
                .getMessage().contains("--frobnicate"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> CampaignOptions.parse("--plant-bug", "6"))
                .getMessage().contains("--plant-bug"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> CampaignOptions.parse("--jobs", "2"))
                .getMessage().contains("--out"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> CampaignOptions.parse("--jobs", "17",
                "--out", "x")).getMessage().contains("1-16"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> CampaignOptions.parse("--steps", "many"))
                .getMessage().contains("--steps"));
    }

    @Test
    void theCommandLineOfACampaignReadsBackAsTheSameCampaign() {
        CampaignOptions o = CampaignOptions.parse("--minutes", "3", "--programs", "7", "--seed", "-5", "--steps", "12",
                "--fuzz-minutes", "2", "--stress", "--race-seconds", "9", "--threads", "3", "--jobs", "2",
                "--plant-bug", "4", "--out", "/tmp/x", "--name", "job-2", "--shrink-replays", "10", "--kmemleak");
        CampaignOptions back = CampaignOptions.parse(o.args().toArray(String[]::new));
        assertEquals(o.args(), back.args());
        assertEquals(List.of(180L, 7L, -5L, 12L, 120L, 9L, 3L, 2L, 4L, 10L),
                List.of(back.seconds(), back.programs(), back.seed(), (long) back.steps(), back.fuzzSeconds(),
                        back.raceSeconds(), (long) back.threads(), (long) back.jobs(), (long) back.plantBug(),
                        (long) back.shrinkReplays()));
        assertTrue(back.stress() && back.kmemleak());
        assertEquals(Path.of("/tmp/x"), back.out());
        assertEquals("job-2", back.name());
        assertEquals(List.of(), CampaignOptions.parse().args(), "defaults are not written out");
    }
}
