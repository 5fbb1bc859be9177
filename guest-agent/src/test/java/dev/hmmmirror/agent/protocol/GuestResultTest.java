package dev.hmmmirror.agent.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

class GuestResultTest {
    @Test
    void roundTripsThroughTheProtocolLine() {
        GuestResult r = new GuestResult(GuestResult.Status.FAILED, 1234, "expected: <1> but was: <2>",
                "org.opentest4j.AssertionFailedError: ...\n\tat X.y(X.java:1)", new byte[] {1, 2, 3},
                "stdout ünïcode\n", "[ 1.0] dmesg line");
        String line = Protocol.line("RESULT", "7", Protocol.b64(r.encode()));
        String[] w = Protocol.parse("JVM noise before " + line);
        assertEquals("RESULT", w[0]);
        assertEquals("7", w[1]);
        GuestResult back = GuestResult.decode(Protocol.bytes(w[2]));
        assertEquals(r.status(), back.status());
        assertEquals(r.millis(), back.millis());
        assertEquals(r.message(), back.message());
        assertEquals(r.trace(), back.trace());
        assertArrayEquals(r.throwable(), back.throwable());
        assertEquals(r.output(), back.output());
        assertEquals(r.dmesgTail(), back.dmesgTail());
    }

    @Test
    void linesWithoutThePrefixAreNotProtocol() {
        assertNull(Protocol.parse("OpenJDK 64-Bit Server VM warning: something"));
    }
}
