package dev.hmmmirror.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.hmmmirror.Errno;
import dev.hmmmirror.HmmException;
import dev.hmmmirror.Memory;
import dev.hmmmirror.junit.GuestTest;
import dev.hmmmirror.raw.Abi;
import dev.hmmmirror.raw.Command;
import dev.hmmmirror.raw.RawBuffer;
import dev.hmmmirror.raw.RawDevice;
import dev.hmmmirror.raw.RawStruct;
import dev.hmmmirror.raw.Struct;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Every argument the module takes from userspace is checked: each bad input gets its documented
 * errno (see native-headers/hmm_mirror.h), and never a kernel splat (the extension checks dmesg).
 * The commands are built with {@code dev.hmmmirror.raw}, which sends what the API would refuse.
 */
@GuestTest
class BadInputIT {
    private RawDevice device;
    private Memory mem;

    @BeforeEach
    void open() throws Exception {
        device = RawDevice.open("/dev/hmm_mirror0");
        mem = Memory.anonymous(4);
    }

    @AfterEach
    void close() throws Exception {
        mem.close();
        device.close();
    }

    private int errno(Command c, RawStruct arg) {
        HmmException e = assertThrows(HmmException.class, () -> device.ioctl(c, arg), c + " must fail: " + arg);
        return e.errno();
    }

    private RawStruct range(Consumer<RawStruct> edit) {
        RawStruct r = RawStruct.of(Struct.RANGE).set("addr", mem.address()).set("npages", 4);
        edit.accept(r);
        return r;
    }

    private RawStruct rw(Consumer<RawStruct> edit) {
        RawStruct r = RawStruct.of(Struct.RW).set("addr", mem.address()).set("npages", 1)
                .set("ptr", RawBuffer.allocate(Memory.pageSize()));
        edit.accept(r);
        return r;
    }

    @Test
    void aGoodRangeWorks() throws Exception {
        RawStruct r = range(x -> { });
        assertEquals(0, device.ioctl(Command.FAULT, r));
        assertEquals(4, r.get("faulted"));
    }

    @Test
    void unalignedAddressIsEinval() {
        assertEquals(Errno.EINVAL.number(), errno(Command.FAULT, range(r -> r.set("addr", mem.address() + 8))));
    }

    @Test
    void zeroAndHugePageCountsAreEinval() {
        assertEquals(Errno.EINVAL.number(), errno(Command.FAULT, range(r -> r.set("npages", 0))));
        assertEquals(Errno.EINVAL.number(), errno(Command.FAULT, range(r -> r.set("npages", Abi.MAX_PAGES + 1))));
        assertEquals(Errno.EINVAL.number(), errno(Command.FAULT, range(r -> r.set("npages", -1L))));
    }

    @Test
    void overflowingAndKernelRangesAreEinval() {
        assertEquals(Errno.EINVAL.number(), errno(Command.FAULT,
                range(r -> r.set("addr", -Memory.pageSize()).set("npages", 2))));
        assertEquals(Errno.EINVAL.number(), errno(Command.FAULT, range(r -> r.set("addr", 0xffff_8000_0000_0000L))));
        assertEquals(Errno.EINVAL.number(), errno(Command.SNAPSHOT, snapshot(0xffff_ffff_ffff_f000L, 1)));
    }

    @Test
    void nonZeroReservedWrongSizeAndUnknownFlagsAreEinval() {
        assertEquals(Errno.EINVAL.number(), errno(Command.FAULT, range(r -> r.set("reserved", 3, 1L))));
        assertEquals(Errno.EINVAL.number(), errno(Command.FAULT, range(r -> r.set("size", 40))));
        assertEquals(Errno.EINVAL.number(), errno(Command.FAULT, range(r -> r.set("flags", 1 << 7))));
        assertEquals(Errno.EINVAL.number(), errno(Command.READ, rw(r -> r.set("flags", 1))));
        assertEquals(Errno.EINVAL.number(), errno(Command.WRITE, rw(r -> r.set("reserved", 0, 5L))));
        assertEquals(Errno.EINVAL.number(), errno(Command.VERSION, RawStruct.of(Struct.VERSION).set("pad", 1)));
        assertEquals(Errno.EINVAL.number(), errno(Command.COUNTERS, RawStruct.of(Struct.COUNTERS).set("size", 8)));
    }

    @Test
    void badUserPointersAreEfault() {
        assertEquals(Errno.EFAULT.number(), errno(Command.READ, rw(r -> r.set("ptr", 0x10))));
        assertEquals(Errno.EFAULT.number(), errno(Command.WRITE, rw(r -> r.set("ptr", 0xffff_8000_0000_0000L))));
        assertEquals(Errno.EFAULT.number(), errno(Command.SNAPSHOT, snapshot(mem.address(), 4).set("ptr", 0x20)));
        // the command struct itself at a bad address
        HmmException e = assertThrows(HmmException.class, () -> device.ioctlAt(Command.FAULT, 0x30));
        assertEquals(Errno.EFAULT.number(), e.errno());
    }

    @Test
    void delayOutOfRangeIsEinval() {
        assertEquals(Errno.EINVAL.number(),
                errno(Command.SET_DELAY, RawStruct.of(Struct.DELAY).set("delay_us", Abi.MAX_DELAY_US + 1)));
    }

    @Test
    void faultInjectionMisuseIsEinvalAndChangesNothing() throws Exception {
        assertEquals(Errno.EINVAL.number(), errno(Command.INJECT, RawStruct.of(Struct.INJECT).set("flags", 1)));
        assertEquals(Errno.EINVAL.number(), errno(Command.INJECT, RawStruct.of(Struct.INJECT).set("reserved", 1, 1L)));
        assertEquals(Errno.EINVAL.number(), errno(Command.INJECT, RawStruct.of(Struct.INJECT).set("size", 16)));
        assertEquals(Errno.EINVAL.number(), errno(Command.INJECT,
                RawStruct.of(Struct.INJECT).set("fail_alloc", 5).set("copy_delay_us", 100_001)));
        RawStruct now = RawStruct.of(Struct.INJECT);
        assertEquals(0, device.ioctl(Command.INJECT, now));
        assertEquals(0, now.get("fail_alloc"), "the refused commands installed nothing");
    }

    @Test
    void unknownIoctlIsEnotty() {
        HmmException e = assertThrows(HmmException.class,
                () -> device.ioctl(0xc018b67fL, RawStruct.of(Struct.COUNTERS)));
        assertEquals(Errno.ENOTTY.number(), e.errno());
    }

    @Test
    void readingEventsIntoATooSmallBufferIsEinval() {
        HmmException e = assertThrows(HmmException.class, () -> device.read(RawBuffer.allocate(8)));
        assertEquals(Errno.EINVAL.number(), e.errno());
    }

    private RawStruct snapshot(long addr, long pages) {
        return RawStruct.of(Struct.SNAPSHOT).set("addr", addr).set("npages", pages)
                .set("ptr", RawBuffer.allocate(pages));
    }
}
