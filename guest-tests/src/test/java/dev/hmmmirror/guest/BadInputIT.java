package dev.hmmmirror.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.hmmmirror.Errno;
import dev.hmmmirror.HmmException;
import dev.hmmmirror.Memory;
import dev.hmmmirror.internal.Command;
import dev.hmmmirror.internal.DeviceFile;
import dev.hmmmirror.internal.Posix;
import dev.hmmmirror.internal.gen.HmmMirrorH;
import dev.hmmmirror.internal.gen.hmm_mirror_counters;
import dev.hmmmirror.internal.gen.hmm_mirror_delay;
import dev.hmmmirror.internal.gen.hmm_mirror_range;
import dev.hmmmirror.internal.gen.hmm_mirror_rw;
import dev.hmmmirror.internal.gen.hmm_mirror_snapshot;
import dev.hmmmirror.internal.gen.hmm_mirror_version;
import dev.hmmmirror.vm.junit.GuestTest;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Every argument the module takes from userspace is checked: each bad input gets its documented
 * errno (see native-headers/hmm_mirror.h), and never a kernel splat (the extension checks dmesg).
 */
@GuestTest
class BadInputIT {
    private DeviceFile file;
    private Arena arena;
    private Memory mem;

    @BeforeEach
    void open() throws Exception {
        file = DeviceFile.open("/dev/hmm_mirror0");
        arena = Arena.ofConfined();
        mem = Memory.anonymous(4);
    }

    @AfterEach
    void close() throws Exception {
        mem.close();
        arena.close();
        file.close();
    }

    private int errno(Command c, MemorySegment arg) {
        HmmException e = assertThrows(HmmException.class, () -> file.issue(c, arg), c + " must fail");
        return e.errno();
    }

    private MemorySegment range(Consumer<MemorySegment> edit) {
        MemorySegment r = hmm_mirror_range.allocate(arena);
        hmm_mirror_range.size(r, (int) hmm_mirror_range.sizeof());
        hmm_mirror_range.addr(r, mem.address());
        hmm_mirror_range.npages(r, 4);
        edit.accept(r);
        return r;
    }

    private MemorySegment rw(Consumer<MemorySegment> edit) {
        MemorySegment r = hmm_mirror_rw.allocate(arena);
        hmm_mirror_rw.size(r, (int) hmm_mirror_rw.sizeof());
        hmm_mirror_rw.addr(r, mem.address());
        hmm_mirror_rw.npages(r, 1);
        hmm_mirror_rw.ptr(r, arena.allocate(Memory.pageSize()).address());
        edit.accept(r);
        return r;
    }

    @Test
    void aGoodRangeWorks() throws Exception {
        MemorySegment r = range(x -> { });
        assertEquals(0, file.issue(Command.FAULT, r));
        assertEquals(4, hmm_mirror_range.faulted(r));
    }

    @Test
    void unalignedAddressIsEinval() {
        assertEquals(Errno.EINVAL.number(), errno(Command.FAULT, range(r -> hmm_mirror_range.addr(r, mem.address() + 8))));
    }

    @Test
    void zeroAndHugePageCountsAreEinval() {
        assertEquals(Errno.EINVAL.number(), errno(Command.FAULT, range(r -> hmm_mirror_range.npages(r, 0))));
        assertEquals(Errno.EINVAL.number(), errno(Command.FAULT,
                range(r -> hmm_mirror_range.npages(r, HmmMirrorH.HMM_MIRROR_MAX_PAGES() + 1))));
        assertEquals(Errno.EINVAL.number(), errno(Command.FAULT, range(r -> hmm_mirror_range.npages(r, -1L))));
    }

    @Test
    void overflowingAndKernelRangesAreEinval() {
        assertEquals(Errno.EINVAL.number(), errno(Command.FAULT, range(r -> {
            hmm_mirror_range.addr(r, -Memory.pageSize());
            hmm_mirror_range.npages(r, 2);
        })));
        assertEquals(Errno.EINVAL.number(), errno(Command.FAULT,
                range(r -> hmm_mirror_range.addr(r, 0xffff_8000_0000_0000L))));
        assertEquals(Errno.EINVAL.number(), errno(Command.SNAPSHOT, snapshot(0xffff_ffff_ffff_f000L, 1)));
    }

    @Test
    void nonZeroReservedWrongSizeAndUnknownFlagsAreEinval() {
        assertEquals(Errno.EINVAL.number(), errno(Command.FAULT, range(r -> hmm_mirror_range.reserved(r, 3, 1L))));
        assertEquals(Errno.EINVAL.number(), errno(Command.FAULT, range(r -> hmm_mirror_range.size(r, 40))));
        assertEquals(Errno.EINVAL.number(), errno(Command.FAULT, range(r -> hmm_mirror_range.flags(r, 1 << 7))));
        assertEquals(Errno.EINVAL.number(), errno(Command.READ, rw(r -> hmm_mirror_rw.flags(r, 1))));
        assertEquals(Errno.EINVAL.number(), errno(Command.WRITE, rw(r -> hmm_mirror_rw.reserved(r, 0, 5L))));
        MemorySegment v = hmm_mirror_version.allocate(arena);
        hmm_mirror_version.size(v, (int) hmm_mirror_version.sizeof());
        hmm_mirror_version.pad(v, 1);
        assertEquals(Errno.EINVAL.number(), errno(Command.VERSION, v));
        MemorySegment c = hmm_mirror_counters.allocate(arena);
        hmm_mirror_counters.size(c, 8);
        assertEquals(Errno.EINVAL.number(), errno(Command.COUNTERS, c));
    }

    @Test
    void badUserPointersAreEfault() {
        assertEquals(Errno.EFAULT.number(), errno(Command.READ, rw(r -> hmm_mirror_rw.ptr(r, 0x10))));
        assertEquals(Errno.EFAULT.number(), errno(Command.WRITE, rw(r -> hmm_mirror_rw.ptr(r, 0xffff_8000_0000_0000L))));
        MemorySegment s = snapshot(mem.address(), 4);
        hmm_mirror_snapshot.ptr(s, 0x20);
        assertEquals(Errno.EFAULT.number(), errno(Command.SNAPSHOT, s));
        // the command struct itself at a bad address
        assertEquals(Errno.EFAULT.number(), errno(Command.FAULT, MemorySegment.ofAddress(0x30)));
    }

    @Test
    void delayOutOfRangeIsEinval() {
        MemorySegment d = hmm_mirror_delay.allocate(arena);
        hmm_mirror_delay.size(d, (int) hmm_mirror_delay.sizeof());
        hmm_mirror_delay.delay_us(d, HmmMirrorH.HMM_MIRROR_MAX_DELAY_US() + 1);
        assertEquals(Errno.EINVAL.number(), errno(Command.SET_DELAY, d));
    }

    @Test
    void unknownIoctlIsEnotty() {
        int rc = Posix.ioctl(fd(), 0xc018b67fL, arena.allocate(64));
        assertEquals(-Errno.ENOTTY.number(), rc);
    }

    @Test
    void readingEventsIntoATooSmallBufferIsEinval() {
        MemorySegment small = arena.allocate(8);
        long n = Posix.read(fd(), small, small.byteSize());
        assertEquals(-Errno.EINVAL.number(), n);
    }

    private int fd() {
        // a second descriptor on the same device for raw system calls
        int fd = Posix.open("/dev/hmm_mirror0", Posix.O_RDWR | Posix.O_CLOEXEC);
        org.junit.jupiter.api.Assertions.assertTrue(fd >= 0);
        fds.add(fd);
        return fd;
    }

    private final java.util.List<Integer> fds = new java.util.ArrayList<>();

    @AfterEach
    void closeFds() {
        fds.forEach(Posix::close);
    }

    private MemorySegment snapshot(long addr, long pages) {
        MemorySegment s = hmm_mirror_snapshot.allocate(arena);
        hmm_mirror_snapshot.size(s, (int) hmm_mirror_snapshot.sizeof());
        hmm_mirror_snapshot.addr(s, addr);
        hmm_mirror_snapshot.npages(s, pages);
        hmm_mirror_snapshot.ptr(s, arena.allocate(pages).address());
        return s;
    }
}
