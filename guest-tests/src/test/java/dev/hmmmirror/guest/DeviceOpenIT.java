package dev.hmmmirror.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hmmmirror.AbiVersion;
import dev.hmmmirror.Capability;
import dev.hmmmirror.Errno;
import dev.hmmmirror.HmmDevice;
import dev.hmmmirror.HmmException;
import dev.hmmmirror.Memory;
import dev.hmmmirror.Mirror;
import dev.hmmmirror.junit.GuestTest;
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
            assertEquals(Memory.pageSize(), v.pageSize(), "the kernel's PAGE_SIZE is what sysconf says");
            assertTrue(v.has(Capability.MIRROR), "every profile's kernel has CONFIG_HMM_MIRROR: " + v);
            // the capabilities follow the booted kernel's own configuration (staged by the host)
            java.util.Set<String> config = kernelConfig();
            for (var c : java.util.Map.of(Capability.DEVICE_PRIVATE, "CONFIG_DEVICE_PRIVATE=y",
                    Capability.MIGRATE, "CONFIG_DEVICE_PRIVATE=y", Capability.EXCLUSIVE, "CONFIG_DEVICE_PRIVATE=y",
                    Capability.THP, "CONFIG_TRANSPARENT_HUGEPAGE=y").entrySet()) {
                assertEquals(config.contains(c.getValue()), v.has(c.getKey()), c.getKey() + " capability vs "
                        + c.getValue() + " in the .config of " + System.getProperty("os.version") + ": " + v);
            }
        }
    }

    /** The booted kernel's .config lines, from the host share. */
    private static java.util.Set<String> kernelConfig() throws java.io.IOException {
        java.nio.file.Path f = java.nio.file.Path.of("/hmm/host/kernel.config");
        assertTrue(java.nio.file.Files.isRegularFile(f), "the host stages the kernel's .config at " + f);
        return java.util.Set.copyOf(java.nio.file.Files.readAllLines(f));
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
