package dev.hmmmirror;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Host-side behaviour of the API that needs no module: errors for missing or wrong nodes. */
class HmmDeviceHostTest {
    @Test
    void missingNodeGivesEnoentWithNameAndHint() {
        HmmException e = assertThrows(HmmException.class, () -> HmmDevice.open("/dev/hmm_mirror_does_not_exist"));
        assertEquals(2, e.errno());
        assertEquals("ENOENT", e.errnoName());
        assertEquals("open", e.operation());
        assertTrue(e.getMessage().contains("ENOENT") && e.getMessage().contains("insmod"), e.getMessage());
    }

    @Test
    void wrongDeviceGivesEnottyFromTheIoctl() throws Exception {
        // /dev/null accepts open but knows no hmm_mirror ioctl: the kernel says ENOTTY
        try (HmmDevice dev = HmmDevice.open("/dev/null")) {
            HmmException e = assertThrows(HmmException.class, dev::version);
            assertEquals(Errno.ENOTTY.number(), e.errno());
            assertTrue(e.getMessage().startsWith("ioctl HMM_MIRROR_IOC_VERSION /dev/null failed: ENOTTY"),
                    e.getMessage());
        }
    }

    @Test
    void closeIsIdempotentAndUseAfterCloseIsAClearError() throws Exception {
        HmmDevice dev = HmmDevice.open("/dev/null");
        dev.close();
        dev.close();
        assertTrue(dev.isClosed());
        IllegalStateException e = assertThrows(IllegalStateException.class, dev::version);
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
    }

    @Test
    void negativeIndexIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> HmmDevice.open(-1));
    }

    @Test
    void errnoNamesAndCapabilityBits() {
        assertEquals("EPERM", Errno.name(1));
        assertEquals("errno 4095", Errno.name(4095));
        assertEquals(java.util.EnumSet.of(Capability.MIRROR, Capability.THP), Capability.fromBits(0b101 | (1L << 40)));
    }
}
