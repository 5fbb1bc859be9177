package dev.hmmmirror.agent;

import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** What a test that runs the guest JVM out of heap reports (the guest agent goes on). */
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
}
