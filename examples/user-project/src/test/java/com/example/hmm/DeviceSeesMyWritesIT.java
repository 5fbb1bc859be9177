package com.example.hmm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.hmmmirror.Access;
import dev.hmmmirror.Invalidation;
import dev.hmmmirror.Memory;
import dev.hmmmirror.Mirror;
import dev.hmmmirror.junit.GuestTest;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A user's own guest test: it runs in a QEMU guest against hmm_mirror.ko; the host reports it. */
@GuestTest
class DeviceSeesMyWritesIT {
    @Test
    void theDeviceReadsWhatTheCpuWrote() throws Exception {
        try (Mirror mirror = Mirror.open(0); Memory mem = Memory.anonymous(4)) {
            mem.fill((byte) 42);
            mirror.fault(mem, Access.READ);
            byte[] expected = new byte[(int) (4 * Memory.pageSize())];
            Arrays.fill(expected, (byte) 42);
            assertArrayEquals(expected, mirror.read(mem.address(), 4));
            System.out.println("user-project: the device read " + expected.length + " bytes of 42 on kernel "
                    + System.getProperty("os.version"));
        }
    }

    @Test
    void unmappingInvalidatesTheDevice() throws Exception {
        try (Mirror mirror = Mirror.open(0); Memory mem = Memory.anonymous(2)) {
            mem.fill((byte) 1);
            mirror.fault(mem, Access.READ);
            mem.adviseDontNeed(0, 2);
            List<Invalidation> events = mirror.invalidations();
            assertFalse(events.isEmpty(), "no invalidation after MADV_DONTNEED");
        }
    }
}
