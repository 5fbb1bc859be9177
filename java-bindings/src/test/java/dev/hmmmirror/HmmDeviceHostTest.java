package dev.hmmmirror;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Host-side behaviour of the API that needs no module: errors for missing or wrong nodes. */
class HmmDeviceHostTest {
    @Test
    void missingNodeGivesEnoentWithNameAndHint() {
        HmmException e = assertThrows(HmmException.class, () -> Mirror.open(HmmDevice.at("/dev/hmm_mirror_does_not_exist")));
        assertEquals(2, e.errno());
        assertEquals("ENOENT", e.errnoName());
        assertEquals("open", e.operation());
        assertTrue(e.getMessage().contains("ENOENT") && e.getMessage().contains("insmod"), e.getMessage());
    }

    @Test
    void wrongDeviceGivesEnottyFromTheIoctl() throws Exception {
        // /dev/null accepts open but knows no hmm_mirror ioctl: the kernel says ENOTTY, and the
        // half-opened mirror is closed again
        HmmException e = assertThrows(HmmException.class, () -> Mirror.open(HmmDevice.at("/dev/null")));
        assertEquals(Errno.ENOTTY.number(), e.errno());
        assertTrue(e.getMessage().startsWith("ioctl HMM_MIRROR_IOC_VERSION /dev/null failed: ENOTTY"),
                e.getMessage());
        assertTrue(e.getMessage().contains("older than these bindings"), e.getMessage());
    }

    @Test
    void closeIsIdempotentAndUseAfterCloseIsAClearError() throws Exception {
        dev.hmmmirror.internal.DeviceFile f = dev.hmmmirror.internal.DeviceFile.open("/dev/null");
        f.close();
        f.close();
        assertTrue(f.isClosed());
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> f.issue(dev.hmmmirror.raw.Command.VERSION, java.lang.foreign.MemorySegment.NULL));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
    }

    @Test
    void memoryIsPageAlignedWritableAndUnmappedOnClose() throws Exception {
        try (Memory m = Memory.anonymous(4)) {
            assertEquals(0, m.address() % Memory.pageSize());
            m.fill((byte) 5);
            assertEquals(5, m.getByte(3 * Memory.pageSize()));
            m.close();
            assertThrows(IllegalStateException.class, () -> m.getByte(0));
        }
        try (Memory h = Memory.hugeAnonymous(1)) {
            assertEquals(0, h.address() % Memory.hugePageSize());
            assertEquals(Memory.hugePageSize() / Memory.pageSize(), h.pages());
        }
    }

    @Test
    void snapshotBytesDecode() {
        assertEquals(java.util.EnumSet.of(PageState.INACCESSIBLE), PageState.decode((byte) 0xff));
        assertEquals(java.util.EnumSet.of(PageState.CPU_READ, PageState.CPU_WRITE, PageState.DEVICE_READ,
                PageState.DEVICE_WRITE), PageState.decode((byte) 0x33));
        assertEquals(java.util.EnumSet.of(PageState.CPU_READ, PageState.ZERO_PAGE, PageState.HUGE),
                PageState.decode((byte) 0x0d));
        assertEquals(java.util.EnumSet.of(PageState.DEVICE_PRIVATE_REMOTE), PageState.decode((byte) 0x80));
        assertEquals(java.util.EnumSet.of(PageState.EXCLUSIVE, PageState.CPU_READ), PageState.decode((byte) 0xc1));
    }

    @Test
    void negativeIndexIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> HmmDevice.of(-1));
    }

    @Test
    void errnoNamesAndCapabilityBits() {
        assertEquals("EPERM", Errno.name(1));
        assertEquals("errno 4095", Errno.name(4095));
        assertEquals(java.util.EnumSet.of(Capability.MIRROR, Capability.THP), Capability.fromBits(0b101 | (1L << 40)));
        assertEquals(java.util.EnumSet.of(Capability.EVENT_SCOPE), Capability.fromBits(1L << 6),
                "HMM_MIRROR_CAP_EVENT_SCOPE is bit 6");
    }
}
