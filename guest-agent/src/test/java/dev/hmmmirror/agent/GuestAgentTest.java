package dev.hmmmirror.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** What a test that runs the guest JVM out of heap reports (the guest agent goes on); HELLO's stamps. */
class GuestAgentTest {
    @Test
    void outOfMemoryBecomesAFailureThatSaysWhatToDo() {
        OutOfMemoryError oom = new OutOfMemoryError("Java heap space");
        AssertionError a = GuestAgent.outOfMemory(oom);
        assertSame(oom, a.getCause());
        String m = a.getMessage();
        assertTrue(m.contains("Java heap space") && m.contains(" MiB") && m.contains("hmm.guest.memory")
                && m.contains("HMM_GUEST_MEMORY") && m.contains("a slice at a time"), m);
    }

    @Test
    void helloCarriesTheUptimesAsTheKernelPrintedThem() {
        String h = GuestAgent.hello("9.10", "11.00", "11.20");
        assertTrue(h.startsWith("jvm-ms=2100 start=9.10 main=11.00 hello=11.20 java="
                + System.getProperty("java.runtime.version") + " kernel="), h);
        assertTrue(GuestAgent.hello("-1", "11.00", "11.20").startsWith("jvm-ms=-1 start=-1 "), "no start, no JVM time");
    }

    @Test
    void uptimeTextsAndHundredths() {
        assertEquals(12345, GuestAgent.centis("123.45"));
        assertEquals(750, GuestAgent.centis("7.5"));
        assertEquals(700, GuestAgent.centis("7"));
        assertEquals(-1, GuestAgent.centis("-1"));
        assertEquals(-1, GuestAgent.centis("1.234"));
        assertEquals(-1, GuestAgent.centis("1."));
        assertEquals(-1, GuestAgent.centis("x"));
        assertEquals("9.05", GuestAgent.seconds(905));
        assertEquals("11.00", GuestAgent.seconds(1100));
        assertEquals("0.10", GuestAgent.seconds(10));
        String up = GuestAgent.uptime();
        assertTrue(GuestAgent.centis(up) > 0, "this host's /proc/uptime: " + up);
        String start = GuestAgent.processStartUptime();
        assertTrue(GuestAgent.centis(start) > 0 && GuestAgent.centis(start) <= GuestAgent.centis(up), start + " " + up);
    }

    @Test
    void theFirstResultsTrainingRunsWhereThereIsNoDevice() {
        Training.firstResult(); // no guest-programs on this class path and no /dev/hmm_mirror0: neither stops it
    }
}
