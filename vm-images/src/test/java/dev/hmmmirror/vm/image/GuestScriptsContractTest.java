package dev.hmmmirror.vm.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hmmmirror.agent.protocol.Markers;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The guest scripts against the one host-guest contract ({@link Markers}): every marker a guest
 * script writes is defined there, and every marker defined there is written by a guest script or
 * by the agent, so that a renamed marker cannot leave the host waiting for a line that never comes.
 */
class GuestScriptsContractTest {
    /** Scripts that run in the guest (the others are host-side build recipes). */
    static final List<String> GUEST_SCRIPTS = List.of("init", "guest-init.sh", "kselftest-hmm.sh", "peer-suite.sh");
    /** Markers the agent writes itself (its watchdog). */
    static final Set<String> WRITTEN_BY_AGENT = Set.of(Markers.WATCHDOG);
    private static final Pattern MARKER = Pattern.compile(Pattern.quote(Markers.PREFIX) + "([A-Z_]+)");

    private static Set<String> written() {
        Set<String> out = new LinkedHashSet<>();
        for (String script : GUEST_SCRIPTS) {
            Matcher m = MARKER.matcher(new String(Scripts.bytes(script), StandardCharsets.UTF_8));
            while (m.find()) {
                out.add(m.group(1));
            }
        }
        return out;
    }

    @Test
    void everyMarkerAGuestScriptWritesIsInTheContract() {
        for (String m : written()) {
            assertTrue(Markers.ALL.contains(m), "a guest script writes " + Markers.PREFIX + m
                    + ", which dev.hmmmirror.agent.protocol.Markers does not define");
        }
    }

    @Test
    void everyMarkerOfTheContractIsWrittenByTheGuest() {
        Set<String> written = written();
        written.addAll(WRITTEN_BY_AGENT);
        for (String m : Markers.ALL) {
            assertTrue(written.contains(m), "Markers." + m + " is written by no guest script and not by the agent");
        }
        assertEquals(Set.copyOf(Markers.ALL), written);
    }
}
