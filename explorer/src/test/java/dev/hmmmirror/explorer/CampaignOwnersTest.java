package dev.hmmmirror.explorer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hmmmirror.explorer.options.CampaignOptions;
import java.util.List;
import org.junit.jupiter.api.Test;

class CampaignOwnersTest {
    @Test
    void theLastQuarterOfTheProgramsHasASecondOwner() {
        assertEquals(30, Campaign.secondOwnerFrom(40)); // the mutation campaign's 40: programs 31-40
        assertEquals(19, Campaign.secondOwnerFrom(25)); // ExplorerIT's 25: 6 of them
        assertEquals(3, Campaign.secondOwnerFrom(4));
        assertEquals(Long.MAX_VALUE, Campaign.secondOwnerFrom(3));
        assertEquals(Long.MAX_VALUE, Campaign.secondOwnerFrom(1));
    }

    @Test
    void ownersIsAnOptionOfTheGuestThatJobsAndReplaysPassOn() {
        assertEquals(CampaignOptions.BOTH, CampaignOptions.parse().owners());
        assertEquals(List.of(), CampaignOptions.parse().args());
        CampaignOptions separate = CampaignOptions.parse("--owners", "separate", "--replay", "7");
        assertEquals(CampaignOptions.SEPARATE, separate.owners());
        assertEquals(separate.args(), CampaignOptions.parse(separate.args().toArray(String[]::new)).args());
        assertTrue(separate.args().contains("separate"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> CampaignOptions.parse("--owners", "mine"))
                .getMessage().contains("both, loaded or separate"));
    }
}
