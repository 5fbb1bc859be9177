package dev.hmmmirror.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hmmmirror.AbiVersion;
import dev.hmmmirror.Capability;
import dev.hmmmirror.Errno;
import dev.hmmmirror.HmmDevice;
import dev.hmmmirror.HmmException;
import dev.hmmmirror.Mirror;
import dev.hmmmirror.vm.junit.GuestTest;
import org.junit.jupiter.api.Test;

/** Opening the module's devices from Java in the guest, through FFM. */
@GuestTest
class DeviceOpenIT {
    @Test
    void abiVersionThroughIoctl() throws Exception {
        try (Mirror mirror = HmmDevice.of(0).openMirror()) {
            AbiVersion v = mirror.version();
            assertEquals(HmmDevice.ABI_VERSION, v.abiVersion(), "module and bindings disagree on the ABI");
            assertEquals(0, v.deviceIndex());
            assertEquals(2, v.deviceCount(), "the guest loads the module with ndevices=2");
            assertEquals(4096, v.pageSize());
            assertTrue(v.has(Capability.MIRROR), "every profile's kernel has CONFIG_HMM_MIRROR: " + v);
            // only the sid kernel has CONFIG_DEVICE_PRIVATE among the stock profiles
            boolean sid = System.getProperty("hmm.kernel", "debian-sid").equals("debian-sid");
            assertEquals(sid, v.has(Capability.DEVICE_PRIVATE), "DEVICE_PRIVATE capability on "
                    + System.getProperty("os.version") + ": " + v);
        }
    }

    @Test
    void secondDeviceReportsItsIndex() throws Exception {
        try (Mirror mirror = Mirror.open(1)) {
            assertEquals(1, mirror.version().deviceIndex());
        }
    }

    @Test
    void missingDeviceNodeIsAClearError() {
        HmmException e = assertThrows(HmmException.class, () -> Mirror.open(7));
        assertEquals(Errno.ENOENT.number(), e.errno());
        assertEquals("ENOENT", e.errnoName());
        assertTrue(e.getMessage().contains("/dev/hmm_mirror7") && e.getMessage().contains("ENOENT"), e.getMessage());
    }

    @Test
    void runsInTheGuestKernel() {
        assertTrue(Boolean.getBoolean("hmm.guest"), "this test must run inside the guest");
    }
}
