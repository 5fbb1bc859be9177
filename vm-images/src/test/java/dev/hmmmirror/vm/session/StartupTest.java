package dev.hmmmirror.vm.session;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.hmmmirror.vm.boot.Console;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The boot benchmark's stages: guest uptimes from the markers and the HELLO, put on the host clock at /init. */
class StartupTest {
    @Test
    void guestUptimesArePutOnTheHostClockAtInit() {
        List<Console.Marker> markers = List.of(new Console.Marker(10.0, "INIT uptime=7.00"),
                new Console.Marker(10.6, "ROOT uptime=7.50"), new Console.Marker(12.1, "MODULE rc=0 uptime=9.00"));
        GuestSession.Startup s = GuestSession.Startup.of(markers,
                "jvm-ms=2100 start=9.1 main=11.0 hello=11.2 java=25 kernel=7.2");
        assertEquals(10.0, s.init(), 1e-9);
        assertEquals(10.5, s.root(), 1e-9);
        assertEquals(12.0, s.module(), 1e-9);
        assertEquals(12.1, s.jvmStart(), 1e-9);
        assertEquals(14.0, s.jvmMain(), 1e-9);
        assertEquals(14.2, s.hello(), 1e-9);
    }

    @Test
    void whatTheGuestDidNotSayIsMinusOne() {
        GuestSession.Startup s = GuestSession.Startup.of(List.of(new Console.Marker(10.0, "INIT uptime=7.00")),
                "jvm-ms=900 java=25 kernel=7.2"); // an agent of before the stamps
        assertEquals(10.0, s.init(), 1e-9);
        assertEquals(-1, s.root());
        assertEquals(-1, s.module());
        assertEquals(-1, s.jvmStart());
        assertEquals(-1, s.hello());
        assertEquals(-1, GuestSession.Startup.of(List.of(), "start=1.0").jvmStart(), "no /init marker: no clock");
    }
}
