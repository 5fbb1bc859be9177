package dev.hmmmirror.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import dev.hmmmirror.Capability;
import dev.hmmmirror.Errno;
import dev.hmmmirror.Memory;
import dev.hmmmirror.Mirror;
import dev.hmmmirror.MissingCapabilityException;
import dev.hmmmirror.junit.GuestTest;
import org.junit.jupiter.api.Test;

/** On kernels without CONFIG_DEVICE_PRIVATE the module still mirrors, and says what is missing. */
@GuestTest
class NoDevicePrivateIT {
    @Test
    void migrationAndExclusiveFailWithTheMissingKernelOption() throws Exception {
        try (Mirror mirror = Mirror.open(0); Memory mem = Memory.anonymous(1)) {
            assumeFalse(mirror.version().has(Capability.DEVICE_PRIVATE),
                    "this kernel has CONFIG_DEVICE_PRIVATE; DeviceMemoryIT and ExclusiveIT cover it");
            mem.fill((byte) 1);
            for (Runnable r : new Runnable[] {
                () -> assertMissing(() -> mirror.migrateToDevice(mem.address(), 1)),
                () -> assertMissing(() -> mirror.migrateToSystem(mem.address(), 1)),
                () -> assertMissing(() -> mirror.makeExclusive(mem.address(), 1)),
                () -> assertMissing(() -> mirror.atomicAdd(mem.address(), 1))}) {
                r.run();
            }
            assertEquals(1, mirror.read(mem.address(), 1)[0], "mirroring still works");
        }
    }

    private static void assertMissing(org.junit.jupiter.api.function.Executable call) {
        MissingCapabilityException e = assertThrows(MissingCapabilityException.class, call);
        assertEquals(Errno.EOPNOTSUPP.number(), e.errno());
        assertTrue(e.getMessage().contains("CONFIG_DEVICE_PRIVATE"), e.getMessage());
    }
}
