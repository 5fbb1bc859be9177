package dev.hmmmirror.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.hmmmirror.Capability;
import dev.hmmmirror.HmmException;
import dev.hmmmirror.Memory;
import dev.hmmmirror.Mirror;
import dev.hmmmirror.PageState;
import dev.hmmmirror.Snapshot;
import dev.hmmmirror.junit.GuestTest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The same scenarios through the kernel's test_hmm ({@code /dev/hmm_dmirrorN}) and through
 * hmm_mirror ({@code /dev/hmm_mirrorN}) in one guest, compared operation by operation: bytes
 * read, page states (test_hmm's snapshot byte mapped onto our {@link PageState}s, CPU side),
 * errno of failing operations, pages handled. A difference fails the test with both sides shown,
 * unless it is one of the documented differences in design (docs/parity.md, "Parity with the kernel's
 * own hmm-tests"), which are printed. Runs where the kernel has test_hmm (built kernels); the
 * test loads and unloads it itself.
 */
@GuestTest
class DifferentialIT {
    private static final int PAGE = (int) Memory.pageSize();
    private static boolean loadedHere;
    private final List<String> differences = new ArrayList<>();

    @BeforeAll
    static void loadTestHmm() throws Exception {
        if (!Files.exists(Path.of(TestHmmDevice.PREFIX + "0"))) {
            Path deps = Path.of("/lib/modules", System.getProperty("os.version"), "modules.dep");
            assumeTrue(!Files.isRegularFile(deps) || Files.readString(deps).contains("/test_hmm.ko"), "kernel "
                    + System.getProperty("os.version") + " has no test_hmm module (CONFIG_TEST_HMM=m: the built kernels)");
            Process p = new ProcessBuilder("modprobe", "test_hmm").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            p.waitFor(60, TimeUnit.SECONDS);
            assumeTrue(p.exitValue() == 0, "kernel " + System.getProperty("os.version")
                    + " has no test_hmm module (CONFIG_TEST_HMM=m: the built kernels): " + out);
            loadedHere = true;
        }
    }

    @AfterAll
    static void unloadTestHmm() throws Exception {
        if (loadedHere) {
            new ProcessBuilder("rmmod", "test_hmm").redirectErrorStream(true).start().waitFor(60, TimeUnit.SECONDS);
        }
    }

    @BeforeEach
    void clear() {
        differences.clear();
    }

    /** Compares one operation's outcome on both sides. */
    private void same(String op, Object ours, Object theirs) {
        if (!Objects.deepEquals(ours, theirs)) {
            differences.add(op + ": hmm_mirror " + show(ours) + ", test_hmm " + show(theirs));
        }
    }

    /** A documented difference in design: both sides are asserted, and the difference printed. */
    private void documented(String op, Object ours, Object oursExpected, Object theirs, Object theirsExpected, String why) {
        same(op + " (hmm_mirror, by design: " + why + ")", ours, oursExpected);
        same(op + " (test_hmm)", theirs, theirsExpected);
        System.out.println("[differential] " + op + ": hmm_mirror " + show(ours) + ", test_hmm " + show(theirs)
                + ": documented difference: " + why);
    }

    private void verdict() {
        if (!differences.isEmpty()) {
            fail("hmm_mirror and test_hmm differ:\n  " + String.join("\n  ", differences));
        }
    }

    private static String show(Object o) {
        if (o instanceof byte[] b) {
            return b.length + " bytes, crc " + Long.toHexString(crc(b));
        }
        return String.valueOf(o);
    }

    private static long crc(byte[] b) {
        java.util.zip.CRC32 c = new java.util.zip.CRC32();
        c.update(b);
        return c.getValue();
    }

    private interface Op {
        Object run() throws Exception;
    }

    /** The errno of an operation, or "ok". */
    private static String errno(Op op) throws Exception {
        try {
            op.run();
            return "ok";
        } catch (HmmException e) {
            return e.errnoName();
        }
    }

    /** test_hmm's snapshot byte as our CPU-side page states. */
    static Set<PageState> theirs(int b) {
        b &= 0xff;
        if (b == TestHmmDevice.PROT_ERROR) {
            return EnumSet.of(PageState.INACCESSIBLE);
        }
        EnumSet<PageState> s = EnumSet.noneOf(PageState.class);
        if ((b & TestHmmDevice.PROT_READ) != 0) {
            s.add(PageState.CPU_READ);
        }
        if ((b & TestHmmDevice.PROT_WRITE) != 0) {
            s.add(PageState.CPU_READ);
            s.add(PageState.CPU_WRITE);
        }
        if ((b & (TestHmmDevice.PROT_PMD | TestHmmDevice.PROT_PUD)) != 0) {
            s.add(PageState.HUGE);
        }
        if ((b & TestHmmDevice.PROT_ZERO) != 0) {
            s.add(PageState.ZERO_PAGE);
        }
        if ((b & 0xf0) == TestHmmDevice.DEV_PRIVATE_LOCAL) {
            s.add(PageState.DEVICE_PRIVATE);
        } else if ((b & 0xf0) == TestHmmDevice.DEV_PRIVATE_REMOTE) {
            s.add(PageState.DEVICE_PRIVATE_REMOTE);
        }
        return s;
    }

    /** Our page states without the device page table's (test_hmm's snapshot has none). */
    static Set<PageState> cpuSide(Set<PageState> ours) {
        EnumSet<PageState> s = ours.isEmpty() ? EnumSet.noneOf(PageState.class) : EnumSet.copyOf(ours);
        s.remove(PageState.DEVICE_READ);
        s.remove(PageState.DEVICE_WRITE);
        return s;
    }

    private static List<Set<PageState>> states(Snapshot s) {
        return s.pages().stream().map(DifferentialIT::cpuSide).toList();
    }

    private static List<Set<PageState>> states(byte[] snapshot) {
        List<Set<PageState>> out = new ArrayList<>();
        for (byte b : snapshot) {
            out.add(theirs(b));
        }
        return out;
    }

    @Test
    void readAndWriteAnonymousMemory() throws Exception {
        byte[] data = Bytes.pattern(16, 1);
        byte[] written = Bytes.pattern(16, 2);
        try (Mirror m = Mirror.open(0); TestHmmDevice t = TestHmmDevice.open(0, PAGE);
                Memory a = Memory.anonymous(16); Memory b = Memory.anonymous(16)) {
            a.write(0, data);
            b.write(0, data);
            long before = m.counters().pagesFaulted();
            byte[] ours = m.read(a.address(), 16);
            TestHmmDevice.Result[] r = new TestHmmDevice.Result[1];
            byte[] theirs = t.read(b.address(), 16, r);
            same("read 16 pages: bytes", ours, theirs);
            same("read 16 pages: pages faulted", m.counters().pagesFaulted() - before, r[0].cpages());
            same("snapshot after the read", states(m.snapshot(a)), states(t.snapshot(b.address(), 16)));
            m.write(a.address(), written);
            t.write(b.address(), written);
            same("device write: what the CPU sees", a.bytes(), b.bytes());
            same("snapshot after the write", states(m.snapshot(a)), states(t.snapshot(b.address(), 16)));
        }
        verdict();
    }

    @Test
    void refusedAccessesGiveTheSameErrno() throws Exception {
        try (Mirror m = Mirror.open(0); TestHmmDevice t = TestHmmDevice.open(0, PAGE);
                Memory a = Memory.anonymous(4); Memory b = Memory.anonymous(4)) {
            for (Memory x : new Memory[] {a, b}) {
                x.fill((byte) 3);
                x.protect(Memory.Protection.READ);
            }
            byte[] data = new byte[4 * PAGE];
            same("device write to a read-only mapping",
                    errno(() -> { m.write(a.address(), data); return null; }),
                    errno(() -> t.write(b.address(), data)));
            same("the read-only mapping unchanged", a.bytes(), b.bytes());
            for (Memory x : new Memory[] {a, b}) {
                x.protect(Memory.Protection.NONE);
            }
            same("device read of a PROT_NONE mapping", errno(() -> m.read(a.address(), 4)),
                    errno(() -> t.read(b.address(), 4, new TestHmmDevice.Result[1])));
            same("snapshot of a PROT_NONE mapping", states(m.snapshot(a)), states(t.snapshot(b.address(), 4)));
        }
        verdict();
    }

    @Test
    void snapshotOfMixedMappings() throws Exception {
        try (Mirror m = Mirror.open(0); TestHmmDevice t = TestHmmDevice.open(0, PAGE);
                Memory a = mixed(); Memory b = mixed()) {
            same("snapshot: hole, PROT_NONE, zero page, read-only, read-write",
                    states(m.snapshot(a)), states(t.snapshot(b.address(), 5)));
        }
        verdict();
    }

    /** Page 0 PROT_NONE, 1 a hole, 2 the zero page read-only, 3 read-only data, 4 read-write data. */
    private static Memory mixed() throws Exception {
        Memory x = Memory.anonymous(5);
        x.protect(Memory.Protection.NONE);
        x.unmap(1, 1);
        x.protect(2, 3, Memory.Protection.READ_WRITE);
        x.setByte(3L * PAGE, (byte) 3);
        x.setByte(4L * PAGE, (byte) 4);
        x.protect(2, 2, Memory.Protection.READ);
        x.getByte(2L * PAGE);
        return x;
    }

    @Test
    void migrateToDeviceMemoryAndBack() throws Exception {
        try (Mirror m = Mirror.open(0); TestHmmDevice t = TestHmmDevice.open(0, PAGE);
                Memory a = Memory.anonymous(8); Memory b = Memory.anonymous(8)) {
            assumeTrue(m.version().has(Capability.MIGRATE), "no device-private memory in this kernel");
            byte[] data = Bytes.pattern(8, 4);
            a.write(0, data);
            b.write(0, data);
            same("migrate 8 pages to the device: pages moved", m.migrateToDevice(a.address(), 8).migrated(),
                    t.migrateToDevice(b.address(), 8).cpages());
            same("snapshot in device memory", states(m.snapshot(a)), states(t.snapshot(b.address(), 8)));
            same("device read of device memory", m.read(a.address(), 8),
                    t.read(b.address(), 8, new TestHmmDevice.Result[1]));
            same("CPU read faults the data back", a.bytes(), b.bytes());
            same("snapshot after the CPU faults", states(m.snapshot(a)), states(t.snapshot(b.address(), 8)));
        }
        verdict();
    }

    @Test
    void migratingSharedMemoryIsRefused() throws Exception {
        try (Mirror m = Mirror.open(0); TestHmmDevice t = TestHmmDevice.open(0, PAGE);
                Memory a = Memory.sharedAnonymous(4); Memory b = Memory.sharedAnonymous(4)) {
            assumeTrue(m.version().has(Capability.MIGRATE), "no device-private memory in this kernel");
            a.fill((byte) 1);
            b.fill((byte) 1);
            documented("migrate shared memory", errno(() -> m.migrateToDevice(a.address(), 4)), "EINVAL",
                    errno(() -> t.migrateToDevice(b.address(), 4)), "ENOENT",
                    "hmm_mirror refuses a shared mapping; test_hmm migrates nothing and says ENOENT");
        }
        verdict();
    }

    @Test
    void anotherDevicesMemory() throws Exception {
        try (Mirror m0 = Mirror.open(0); Mirror m1 = Mirror.open(1); TestHmmDevice t0 = TestHmmDevice.open(0, PAGE);
                TestHmmDevice t1 = TestHmmDevice.open(1, PAGE); Memory a = Memory.anonymous(2); Memory b = Memory.anonymous(2)) {
            assumeTrue(m0.version().has(Capability.MIGRATE), "no device-private memory in this kernel");
            byte[] data = Bytes.pattern(2, 5);
            a.write(0, data);
            b.write(0, data);
            same("device 1 migrates 2 pages", m1.migrateToDevice(a.address(), 2).migrated(),
                    t1.migrateToDevice(b.address(), 2).cpages());
            List<Set<PageState>> ours = states(m0.snapshot(a));
            List<Set<PageState>> theirs = states(t0.snapshot(b.address(), 2));
            if (m0.version().has(Capability.SHARED_OWNER)) {
                documented("device 0's snapshot of device 1's memory", ours,
                        List.of(EnumSet.of(PageState.CPU_READ, PageState.CPU_WRITE, PageState.DEVICE_PRIVATE_REMOTE),
                                EnumSet.of(PageState.CPU_READ, PageState.CPU_WRITE, PageState.DEVICE_PRIVATE_REMOTE)),
                        theirs, List.of(EnumSet.noneOf(PageState.class), EnumSet.noneOf(PageState.class)),
                        "one owner for all our devices (shared_owner=Y); test_hmm gives each device its own");
            } else {
                same("device 0's snapshot of device 1's memory (one owner per device)", ours, theirs);
            }
            same("device 0 reads device 1's memory", m0.read(a.address(), 2),
                    t0.read(b.address(), 2, new TestHmmDevice.Result[1]));
        }
        verdict();
    }

    /**
     * Device 1 migrates pages to its memory, then device 0 asks for the range back: a migration selects the
     * device-private pages of its own owner only ({@code migrate_vma_setup} with
     * {@code MIGRATE_VMA_SELECT_DEVICE_PRIVATE} and {@code pgmap_owner}), so nothing moves and device 1 keeps
     * them. test_hmm shows the kernel's choice as it is (it copies back any test_hmm page it is handed; each
     * of its devices is its own owner); our module also leaves pages not its own where they are. (Campaign
     * mutant 25, {@code migrate_vma_collect_pmd} without the owner check, survived every detector: test_hmm
     * then moves device 1's pages for device 0.)
     */
    @Test
    void aDeviceMigratingARangeBackLeavesAnotherDevicesPages() throws Exception {
        try (Mirror m0 = Mirror.open(0); Mirror m1 = Mirror.open(1); TestHmmDevice t0 = TestHmmDevice.open(0, PAGE);
                TestHmmDevice t1 = TestHmmDevice.open(1, PAGE); Memory a = Memory.anonymous(2); Memory b = Memory.anonymous(2)) {
            assumeTrue(m0.version().has(Capability.MIGRATE), "no device-private memory in this kernel");
            byte[] data = Bytes.pattern(2, 25);
            a.write(0, data);
            b.write(0, data);
            same("device 1 migrates 2 pages", m1.migrateToDevice(a.address(), 2).migrated(),
                    t1.migrateToDevice(b.address(), 2).cpages());
            same("device 0 migrates the range back: pages moved (none are its own)",
                    m0.migrateToSystem(a.address(), 2).migrated(), t0.migrateToSystem(b.address(), 2).cpages());
            same("device 1's snapshot afterwards: its pages are still in its memory", states(m1.snapshot(a)),
                    states(t1.snapshot(b.address(), 2)));
            List<Set<PageState>> kept = states(t1.snapshot(b.address(), 2));
            List<Set<PageState>> inDevice1 = List.of(
                    EnumSet.of(PageState.CPU_READ, PageState.CPU_WRITE, PageState.DEVICE_PRIVATE),
                    EnumSet.of(PageState.CPU_READ, PageState.CPU_WRITE, PageState.DEVICE_PRIVATE));
            if (!kept.equals(inDevice1)) {
                differences.add("test_hmm: device 1's pages afterwards " + kept + ", expected still in its memory "
                        + inDevice1);
            }
            same("the data", a.bytes(), b.bytes());
        }
        verdict();
    }

    /** A collapsed THP, or an empty or huge-zero 2 MiB range, for one side. */
    private static Memory thp(String kind, byte[] data) throws Exception {
        Memory x = Memory.hugeAnonymous(1);
        switch (kind) {
            case "collapsed" -> {
                x.write(0, data);
                x.adviseCollapse(0, x.pages());
            }
            case "empty" -> x.protect(Memory.Protection.READ);
            case "huge zero" -> {
                x.protect(Memory.Protection.READ);
                x.getLong(0);
            }
            default -> throw new IllegalArgumentException(kind);
        }
        return x;
    }

    /**
     * Upstream migrate_anon_huge_fault / _empty / _zero: a THP range migrates, is read by the
     * device, snapshotted (where both drivers move THPs whole, one large device-private folio:
     * every page huge and device-private), and faulted back by the CPU.
     */
    @Test
    void thpRangesMigrateAndFaultBack() throws Exception {
        int huge = (int) (Memory.hugePageSize() / PAGE);
        byte[] data = Bytes.pattern(huge, 6);
        try (Mirror m = Mirror.open(0); TestHmmDevice t = TestHmmDevice.open(0, PAGE)) {
            assumeTrue(m.version().has(Capability.MIGRATE), "no device-private memory in this kernel");
            MirrorAccessIT.assumeThp();
            for (String kind : new String[] {"collapsed", "empty", "huge zero"}) {
                try (Memory a = thp(kind, data); Memory b = thp(kind, data)) {
                    same(kind + " THP: snapshot before", states(m.snapshot(a)), states(t.snapshot(b.address(), huge)));
                    same(kind + " THP: pages migrated", m.migrateToDevice(a.address(), huge).migrated(),
                            t.migrateToDevice(b.address(), huge).cpages());
                    same(kind + " THP: snapshot in device memory", states(m.snapshot(a)),
                            states(t.snapshot(b.address(), huge)));
                    System.out.println("[differential] " + kind + " THP in device memory: hmm_mirror "
                            + m.snapshot(a).count(PageState.HUGE) + " huge pages, test_hmm "
                            + states(t.snapshot(b.address(), huge)).stream().filter(x -> x.contains(PageState.HUGE)).count());
                    same(kind + " THP: device read", m.read(a.address(), huge),
                            t.read(b.address(), huge, new TestHmmDevice.Result[1]));
                    same(kind + " THP: CPU read faults the data back", a.bytes(), b.bytes());
                    same(kind + " THP: snapshot after the CPU faults", states(m.snapshot(a)),
                            states(t.snapshot(b.address(), huge)));
                }
            }
        }
        verdict();
    }

    /**
     * Upstream migrate_anon_huge_err / _zero_err: the THP's large device allocation fails (test_hmm's
     * FAIL_ALLOC flag, our injected allocation failure); both move it as base pages.
     */
    @Test
    void aThpWhoseLargeAllocationFailsMovesAsBasePages() throws Exception {
        int huge = (int) (Memory.hugePageSize() / PAGE);
        byte[] data = Bytes.pattern(huge, 7);
        try (Mirror m = Mirror.open(0); TestHmmDevice t = TestHmmDevice.open(0, PAGE)) {
            assumeTrue(m.version().has(Capability.THP_MIGRATE),
                    "the module splits THPs on this kernel (no THP_MIGRATE): a failed allocation is one base page's");
            for (String kind : new String[] {"collapsed", "empty", "huge zero"}) {
                try (Memory a = thp(kind, data); Memory b = thp(kind, data)) {
                    String what = kind + " THP with a failed large allocation: ";
                    m.injectFaults(dev.hmmmirror.FaultInjection.failedAllocations(1));
                    t.flags(TestHmmDevice.FLAG_FAIL_ALLOC);
                    same(what + "pages migrated", m.migrateToDevice(a.address(), huge).migrated(),
                            t.migrateToDevice(b.address(), huge).cpages());
                    same(what + "snapshot (base pages)", states(m.snapshot(a)), states(t.snapshot(b.address(), huge)));
                    same(what + "device read", m.read(a.address(), huge),
                            t.read(b.address(), huge, new TestHmmDevice.Result[1]));
                    same(what + "the CPU reads page 2 back", a.getLong(2L * PAGE), b.getLong(2L * PAGE));
                    same(what + "snapshot after one CPU fault", states(m.snapshot(a)),
                            states(t.snapshot(b.address(), huge)));
                }
            }
        }
        verdict();
    }

    /** Upstream open_close: both drivers' devices open and close. */
    @Test
    void devicesOpenAndClose() throws Exception {
        for (int d = 0; d < 2; d++) {
            int dev = d;
            same("open and close device " + d, errno(() -> { Mirror.open(dev).close(); return null; }),
                    errno(() -> { TestHmmDevice.open(dev, PAGE).close(); return null; }));
        }
        verdict();
    }

    /** Upstream anon_read_multiple: each device read sees what the CPU wrote last. */
    @Test
    void readsSeeEachCpuChange() throws Exception {
        try (Mirror m = Mirror.open(0); TestHmmDevice t = TestHmmDevice.open(0, PAGE);
                Memory a = Memory.anonymous(8); Memory b = Memory.anonymous(8)) {
            for (int round = 0; round < 3; round++) {
                byte[] data = Bytes.pattern(8, 40 + round);
                a.write(0, data);
                b.write(0, data);
                same("round " + round + ": device read", m.read(a.address(), 8),
                        t.read(b.address(), 8, new TestHmmDevice.Result[1]));
            }
        }
        verdict();
    }

    /** Upstream anon_teardown: a range the device read is unmapped; reading it again fails alike. */
    @Test
    void aRangeUnmappedAfterAReadIsRefused() throws Exception {
        try (Mirror m = Mirror.open(0); TestHmmDevice t = TestHmmDevice.open(0, PAGE)) {
            Memory a = Memory.anonymous(8);
            Memory b = Memory.anonymous(8);
            a.fill((byte) 6);
            b.fill((byte) 6);
            same("device read", m.read(a.address(), 8), t.read(b.address(), 8, new TestHmmDevice.Result[1]));
            long aa = a.address();
            long ba = b.address();
            a.close();
            b.close();
            same("device read after munmap", errno(() -> m.read(aa, 8)),
                    errno(() -> t.read(ba, 8, new TestHmmDevice.Result[1])));
        }
        verdict();
    }

    /** Upstream compound: a hugetlb page snapshots as huge, with its protection. */
    @Test
    void hugetlbPagesSnapshotAsHuge() throws Exception {
        try (HugetlbPool pool = HugetlbPool.reserve(2); Mirror m = Mirror.open(0); TestHmmDevice t = TestHmmDevice.open(0, PAGE);
                Memory a = Memory.hugetlb(1); Memory b = Memory.hugetlb(1)) {
            int n = (int) a.pages();
            a.fill((byte) 7);
            b.fill((byte) 7);
            same("hugetlb page, read-write: snapshot", states(m.snapshot(a)), states(t.snapshot(b.address(), n)));
            a.protect(Memory.Protection.READ);
            b.protect(Memory.Protection.READ);
            same("hugetlb page, read-only: snapshot", states(m.snapshot(a)), states(t.snapshot(b.address(), n)));
        }
        verdict();
    }

    /**
     * Upstream anon_write_child / anon_write_child_shared: after a fork, a device write in the
     * parent breaks copy-on-write of private memory (the child keeps the old data) and lands in
     * shared memory for both.
     */
    @Test
    void deviceWritesAfterAFork() throws Exception {
        byte[] old = Bytes.pattern(8, 50);
        byte[] fresh = Bytes.pattern(8, 51);
        try (Mirror m = Mirror.open(0); TestHmmDevice t = TestHmmDevice.open(0, PAGE);
                Memory a = Memory.anonymous(8); Memory b = Memory.anonymous(8);
                Memory sa = Memory.sharedAnonymous(8); Memory sb = Memory.sharedAnonymous(8)) {
            for (Memory x : new Memory[] {a, b, sa, sb}) {
                x.write(0, old);
            }
            try (dev.hmmmirror.CopyOnWriteChild child = dev.hmmmirror.CopyOnWriteChild.fork()) {
                m.write(a.address(), fresh);
                t.write(b.address(), fresh);
                m.write(sa.address(), fresh);
                t.write(sb.address(), fresh);
                same("private memory: what the parent sees", a.bytes(), b.bytes());
                same("private memory: what the child sees", child.bytes(a.address(), 8 * PAGE),
                        child.bytes(b.address(), 8 * PAGE));
                same("shared memory: what the child sees", child.bytes(sa.address(), 8 * PAGE),
                        child.bytes(sb.address(), 8 * PAGE));
            }
        }
        verdict();
    }

    /**
     * Upstream migrate_release: device memory is given back. test_hmm has a RELEASE command; our
     * module evicts a mirror's pages when it closes (a documented difference in design).
     */
    @Test
    void deviceMemoryIsGivenBack() throws Exception {
        try (TestHmmDevice t = TestHmmDevice.open(0, PAGE); Memory a = Memory.anonymous(8); Memory b = Memory.anonymous(8)) {
            byte[] data = Bytes.pattern(8, 52);
            a.write(0, data);
            b.write(0, data);
            try (Mirror m = Mirror.open(0)) {
                assumeTrue(m.version().has(Capability.MIGRATE), "no device-private memory in this kernel");
                same("pages migrated", m.migrateToDevice(a.address(), 8).migrated(),
                        t.migrateToDevice(b.address(), 8).cpages());
            }
            t.release();
            try (Mirror m = Mirror.open(0)) {
                same("snapshot after the close (ours) and RELEASE (test_hmm)", states(m.snapshot(a)),
                        states(t.snapshot(b.address(), 8)));
            }
            same("the data", a.bytes(), b.bytes());
        }
        verdict();
    }

    /** Upstream migrate_partial_unmap_fault: half a THP in device memory is unmapped, the rest read back. */
    @Test
    void partOfAThpInDeviceMemoryIsUnmapped() throws Exception {
        int huge = (int) (Memory.hugePageSize() / PAGE);
        byte[] data = Bytes.pattern(huge, 8);
        try (Mirror m = Mirror.open(0); TestHmmDevice t = TestHmmDevice.open(0, PAGE)) {
            assumeTrue(m.version().has(Capability.MIGRATE), "no device-private memory in this kernel");
            MirrorAccessIT.assumeThp();
            for (int offset : new int[] {0, huge / 4, huge / 2}) {
                try (Memory a = thp("collapsed", data); Memory b = thp("collapsed", data)) {
                    same("unmap from page " + offset + ": pages migrated", m.migrateToDevice(a.address(), huge).migrated(),
                            t.migrateToDevice(b.address(), huge).cpages());
                    a.unmap(offset, huge / 2);
                    b.unmap(offset, huge / 2);
                    same("unmap from page " + offset + ": snapshot", states(m.snapshot(a.address(), huge)),
                            states(t.snapshot(b.address(), huge)));
                    int from = offset;
                    for (int p : java.util.stream.IntStream.of(0, offset - 1, offset + huge / 2, huge - 1)
                            .filter(p -> p >= 0 && p < huge && (p < from || p >= from + huge / 2)).distinct().toArray()) {
                        same("unmap from page " + offset + ": the CPU reads page " + p,
                                a.bytes((long) p * PAGE, PAGE), b.bytes((long) p * PAGE, PAGE));
                    }
                }
            }
        }
        verdict();
    }

    /**
     * Upstream migrate_fault and migrate_multiple: migrate, the CPU faults half back, migrate
     * again; and ten rounds of migrate and read back.
     */
    @Test
    void migrateAgainAfterCpuFaults() throws Exception {
        try (Mirror m = Mirror.open(0); TestHmmDevice t = TestHmmDevice.open(0, PAGE);
                Memory a = Memory.anonymous(16); Memory b = Memory.anonymous(16)) {
            assumeTrue(m.version().has(Capability.MIGRATE), "no device-private memory in this kernel");
            for (int round = 0; round < 10; round++) {
                byte[] data = Bytes.pattern(16, 20 + round);
                a.write(0, data);
                b.write(0, data);
                same("round " + round + ": pages migrated", m.migrateToDevice(a.address(), 16).migrated(),
                        t.migrateToDevice(b.address(), 16).cpages());
                same("round " + round + ": the CPU reads half back", a.bytes(0, 8 * PAGE), b.bytes(0, 8 * PAGE));
                var ours = m.migrateToDevice(a.address(), 16);
                var theirs = t.migrateToDevice(b.address(), 16);
                documented("round " + round + ": migrate again, half already in device memory",
                        List.of(ours.migrated(), ours.skipped()), List.of(8L, 8L), theirs.cpages(), 16L,
                        "pages already in device memory count as skipped (test_hmm counts them in cpages)");
                same("round " + round + ": snapshot", states(m.snapshot(a)), states(t.snapshot(b.address(), 16)));
                same("round " + round + ": the CPU reads all back", a.bytes(), b.bytes());
            }
        }
        verdict();
    }

    /** Upstream exclusive: device-exclusive pages; a CPU write revokes the grant and lands. */
    @Test
    void exclusiveAccessAndItsRevocation() throws Exception {
        try (Mirror m = Mirror.open(0); TestHmmDevice t = TestHmmDevice.open(0, PAGE);
                Memory a = Memory.anonymous(4); Memory b = Memory.anonymous(4)) {
            assumeTrue(m.version().has(Capability.EXCLUSIVE), "no device-exclusive access in this kernel");
            byte[] data = Bytes.pattern(4, 9);
            a.write(0, data);
            b.write(0, data);
            same("pages made exclusive", m.makeExclusive(a.address(), 4), t.makeExclusive(b.address(), 4).cpages());
            same("held exclusively by the device", m.snapshot(a).all(PageState.EXCLUSIVE) ? "EPERM" : "ok",
                    errno(() -> t.checkExclusive(b.address(), 4)));
            a.setLong(PAGE + 8, 77);
            b.setLong(PAGE + 8, 77);
            same("after a CPU write to page 1: still exclusive somewhere", m.snapshot(a).count(PageState.EXCLUSIVE) > 0
                    ? "EPERM" : "ok", errno(() -> t.checkExclusive(b.address(), 4)));
            same("the CPU's write and the rest of the data", a.bytes(), b.bytes());
        }
        verdict();
    }

    /** Upstream file_read / file_write: a shared tmpfs file mapping read and written by the device. */
    @Test
    void sharedFileReadAndWrite() throws Exception {
        Path fa = Files.createTempFile(Path.of("/tmp"), "hmm-diff-a", ".bin"); // /tmp is tmpfs in the guest
        Path fb = Files.createTempFile(Path.of("/tmp"), "hmm-diff-b", ".bin");
        try {
            byte[] data = Bytes.pattern(8, 11);
            Files.write(fa, data);
            Files.write(fb, data);
            byte[] written = Bytes.pattern(8, 12);
            try (Mirror m = Mirror.open(0); TestHmmDevice t = TestHmmDevice.open(0, PAGE);
                    Memory a = Memory.file(fa, 8); Memory b = Memory.file(fb, 8)) {
                same("file read: bytes", m.read(a.address(), 8), t.read(b.address(), 8, new TestHmmDevice.Result[1]));
                same("file read: snapshot", states(m.snapshot(a)), states(t.snapshot(b.address(), 8)));
                m.write(a.address(), written);
                t.write(b.address(), written);
                same("file write: what the CPU sees", a.bytes(), b.bytes());
            }
            same("file write: what the files hold", Files.readAllBytes(fa), Files.readAllBytes(fb));
        } finally {
            Files.delete(fa);
            Files.delete(fb);
        }
        verdict();
    }

    /** Upstream anon_write_huge / anon_write_hugetlbfs: the device writes memory the CPU never touched. */
    @Test
    void deviceWritesIntoUntouchedHugeMemory() throws Exception {
        MirrorAccessIT.assumeThp();
        int huge = (int) (Memory.hugePageSize() / PAGE);
        byte[] data = Bytes.pattern(huge, 13);
        try (Mirror m = Mirror.open(0); TestHmmDevice t = TestHmmDevice.open(0, PAGE);
                Memory a = Memory.hugeAnonymous(1); Memory b = Memory.hugeAnonymous(1)) {
            m.write(a.address(), data);
            t.write(b.address(), data);
            same("device write into an untouched THP range: what the CPU sees", a.bytes(), b.bytes());
            same("device write into an untouched THP range: snapshot", states(m.snapshot(a)),
                    states(t.snapshot(b.address(), huge)));
        }
        try (HugetlbPool pool = HugetlbPool.reserve(2); Mirror m = Mirror.open(0); TestHmmDevice t = TestHmmDevice.open(0, PAGE);
                Memory a = Memory.hugetlb(1); Memory b = Memory.hugetlb(1)) {
            int n = (int) a.pages();
            byte[] d = Bytes.pattern(n, 14);
            m.write(a.address(), d);
            t.write(b.address(), d);
            same("device write into a hugetlb page: what the CPU sees", a.bytes(), b.bytes());
            same("device write into a hugetlb page: snapshot", states(m.snapshot(a)), states(t.snapshot(b.address(), n)));
        }
        verdict();
    }

    /** Upstream migrate_remap_fault: memory in device memory moves with mremap and is read at the new place. */
    @Test
    void memoryInDeviceMemoryMovesWithMremap() throws Exception {
        try (Mirror m = Mirror.open(0); TestHmmDevice t = TestHmmDevice.open(0, PAGE)) {
            assumeTrue(m.version().has(Capability.MIGRATE), "no device-private memory in this kernel");
            MirrorAccessIT.assumeThp();
            int huge = (int) (Memory.hugePageSize() / PAGE);
            byte[] data = Bytes.pattern(huge, 15);
            for (int offset : new int[] {0, huge / 4}) {
                try (Memory a = thp("collapsed", data); Memory b = thp("collapsed", data)) {
                    same("mremap by " + offset + " pages: pages migrated", m.migrateToDevice(a.address(), huge).migrated(),
                            t.migrateToDevice(b.address(), huge).cpages());
                    try (Memory ma = a.remap((long) offset * PAGE, false); Memory mb = b.remap((long) offset * PAGE, false)) {
                        same("mremap by " + offset + " pages: snapshot at the new place", states(m.snapshot(ma)),
                                states(t.snapshot(mb.address(), huge)));
                        // test_hmm is not asked: its device read would fault its own device-private
                        // pages in and copy from them (dmirror_do_fault stores the device page itself,
                        // dmirror_do_read memcpy's from it: no direct map), an oops in 7.2's test_hmm
                        same("mremap by " + offset + " pages: our device read at the new place (test_hmm's oopses)",
                                m.read(ma.address(), huge), data);
                        same("mremap by " + offset + " pages: the CPU reads it back", ma.bytes(), mb.bytes());
                    }
                }
            }
        }
        verdict();
    }

    /** Upstream exclusive_mprotect: exclusive pages made read-only refuse device writes. */
    @Test
    void exclusivePagesMadeReadOnly() throws Exception {
        try (Mirror m = Mirror.open(0); TestHmmDevice t = TestHmmDevice.open(0, PAGE);
                Memory a = Memory.anonymous(4); Memory b = Memory.anonymous(4)) {
            assumeTrue(m.version().has(Capability.EXCLUSIVE), "no device-exclusive access in this kernel");
            a.fill((byte) 5);
            b.fill((byte) 5);
            same("pages made exclusive", m.makeExclusive(a.address(), 4), t.makeExclusive(b.address(), 4).cpages());
            a.protect(Memory.Protection.READ);
            b.protect(Memory.Protection.READ);
            byte[] data = new byte[4 * PAGE];
            same("device write after mprotect(PROT_READ)", errno(() -> { m.write(a.address(), data); return null; }),
                    errno(() -> t.write(b.address(), data)));
            same("the memory unchanged", a.bytes(), b.bytes());
        }
        verdict();
    }

    /** Upstream migrate_file_private: the pages a process wrote in a private file mapping migrate. */
    @Test
    void writtenPagesOfAPrivateFileMappingMigrate() throws Exception {
        Path fa = Files.createTempFile(Path.of("/tmp"), "hmm-diff-pa", ".bin");
        Path fb = Files.createTempFile(Path.of("/tmp"), "hmm-diff-pb", ".bin");
        try (Mirror m = Mirror.open(0); TestHmmDevice t = TestHmmDevice.open(0, PAGE);
                Memory a = Memory.privateFile(fa, 8, Memory.Protection.READ_WRITE);
                Memory b = Memory.privateFile(fb, 8, Memory.Protection.READ_WRITE)) {
            assumeTrue(m.version().has(Capability.MIGRATE), "no device-private memory in this kernel");
            byte[] data = Bytes.pattern(8, 53);
            a.write(0, data);
            b.write(0, data);
            same("private file mapping, every page written: pages migrated", m.migrateToDevice(a.address(), 8).migrated(),
                    t.migrateToDevice(b.address(), 8).cpages());
            same("private file mapping: snapshot", states(m.snapshot(a)), states(t.snapshot(b.address(), 8)));
            same("private file mapping: device read", m.read(a.address(), 8),
                    t.read(b.address(), 8, new TestHmmDevice.Result[1]));
            same("private file mapping: the CPU reads it back", a.bytes(), b.bytes());
        } finally {
            Files.delete(fa);
            Files.delete(fb);
        }
        verdict();
    }

    /**
     * Upstream hmm_cow_in_device: pages in device memory, then a fork; the parent's CPU writes
     * bring its pages back and copy them.
     */
    @Test
    void cpuWritesToDevicePagesSharedWithAChild() throws Exception {
        try (Mirror m = Mirror.open(0); TestHmmDevice t = TestHmmDevice.open(0, PAGE);
                Memory a = Memory.anonymous(4); Memory b = Memory.anonymous(4)) {
            assumeTrue(m.version().has(Capability.MIGRATE), "no device-private memory in this kernel");
            byte[] data = Bytes.pattern(4, 54);
            a.write(0, data);
            b.write(0, data);
            same("pages migrated", m.migrateToDevice(a.address(), 4).migrated(), t.migrateToDevice(b.address(), 4).cpages());
            byte[] written = Bytes.pattern(4, 55);
            try (dev.hmmmirror.CopyOnWriteChild child = dev.hmmmirror.CopyOnWriteChild.fork()) {
                a.write(0, written);
                b.write(0, written);
                same("after the parent's CPU writes: snapshot", states(m.snapshot(a)), states(t.snapshot(b.address(), 4)));
            }
            same("what the parent sees", a.bytes(), b.bytes());
        }
        verdict();
    }

    /** Upstream exclusive_cow: device-exclusive pages, then a fork; parent and child keep their own copies. */
    @Test
    void exclusivePagesAndAFork() throws Exception {
        try (Mirror m = Mirror.open(0); TestHmmDevice t = TestHmmDevice.open(0, PAGE);
                Memory a = Memory.anonymous(4); Memory b = Memory.anonymous(4)) {
            assumeTrue(m.version().has(Capability.EXCLUSIVE), "no device-exclusive access in this kernel");
            byte[] data = Bytes.pattern(4, 56);
            a.write(0, data);
            b.write(0, data);
            same("pages made exclusive", m.makeExclusive(a.address(), 4), t.makeExclusive(b.address(), 4).cpages());
            try (dev.hmmmirror.CopyOnWriteChild child = dev.hmmmirror.CopyOnWriteChild.fork()) {
                same("after the fork: snapshot", states(m.snapshot(a)), states(t.snapshot(b.address(), 4)));
                for (int p = 0; p < 4; p++) {
                    a.setLong((long) p * PAGE, a.getLong((long) p * PAGE) + 1);
                    b.setLong((long) p * PAGE, b.getLong((long) p * PAGE) + 1);
                }
                same("what the parent sees after its increments", a.bytes(), b.bytes());
                same("what the child sees", child.bytes(a.address(), 4 * PAGE), child.bytes(b.address(), 4 * PAGE));
            }
        }
        verdict();
    }

    /**
     * Upstream hmm_gup_test: get_user_pages on pages in device memory (upstream through the
     * gup_test module; here through vmsplice, on both drivers' memory) brings them back first.
     */
    @Test
    void getUserPagesOnDevicePages() throws Exception {
        try (Mirror m = Mirror.open(0); TestHmmDevice t = TestHmmDevice.open(0, PAGE);
                Memory a = Memory.anonymous(4); Memory b = Memory.anonymous(4);
                dev.hmmmirror.raw.RawPipe pa = dev.hmmmirror.raw.RawPipe.open();
                dev.hmmmirror.raw.RawPipe pb = dev.hmmmirror.raw.RawPipe.open()) {
            assumeTrue(m.version().has(Capability.MIGRATE), "no device-private memory in this kernel");
            byte[] data = Bytes.pattern(4, 57);
            a.write(0, data);
            b.write(0, data);
            same("pages migrated", m.migrateToDevice(a.address(), 4).migrated(), t.migrateToDevice(b.address(), 4).cpages());
            same("vmsplice (get_user_pages) of the pages", pa.vmsplice(a.address(), 4L * PAGE),
                    pb.vmsplice(b.address(), 4L * PAGE));
            same("snapshot after get_user_pages", states(m.snapshot(a)), states(t.snapshot(b.address(), 4)));
            same("what the pipe holds", pa.read(4 * PAGE), pb.read(4 * PAGE));
        }
        verdict();
    }

    /**
     * Upstream migrate_anon_huge_free: MADV_FREE of a THP in device memory. Each page then reads
     * as its data or as zeros (the kernel may free it); compared page by page, data or zeros.
     */
    @Test
    void madviseFreeOfAThpInDeviceMemory() throws Exception {
        int huge = (int) (Memory.hugePageSize() / PAGE);
        byte[] data = Bytes.pattern(huge, 58);
        try (Mirror m = Mirror.open(0); TestHmmDevice t = TestHmmDevice.open(0, PAGE)) {
            assumeTrue(m.version().has(Capability.MIGRATE), "no device-private memory in this kernel");
            MirrorAccessIT.assumeThp();
            try (Memory a = thp("collapsed", data); Memory b = thp("collapsed", data)) {
                same("pages migrated", m.migrateToDevice(a.address(), huge).migrated(),
                        t.migrateToDevice(b.address(), huge).cpages());
                a.adviseFree(0, huge);
                b.adviseFree(0, huge);
                same("after MADV_FREE: each page's data or zeros", dataOrZeros(a.bytes(), data), dataOrZeros(b.bytes(), data));
            }
        }
        verdict();
    }

    /** Per page: "data" when it holds its part of {@code data}, "zeros", or "other". */
    private static List<String> dataOrZeros(byte[] seen, byte[] data) {
        List<String> out = new ArrayList<>();
        for (int p = 0; p * PAGE < seen.length; p++) {
            byte[] page = java.util.Arrays.copyOfRange(seen, p * PAGE, (p + 1) * PAGE);
            out.add(java.util.Arrays.equals(page, java.util.Arrays.copyOfRange(data, p * PAGE, (p + 1) * PAGE)) ? "data"
                    : java.util.Arrays.equals(page, new byte[PAGE]) ? "zeros" : "other");
        }
        return out;
    }

    @Test
    void theStateMappingCoversTestHmmsEncoding() {
        assertEquals(EnumSet.of(PageState.CPU_READ, PageState.ZERO_PAGE), theirs(0x11));
        assertEquals(EnumSet.of(PageState.CPU_READ, PageState.CPU_WRITE, PageState.DEVICE_PRIVATE), theirs(0x22));
        assertEquals(EnumSet.of(PageState.INACCESSIBLE), theirs(0xff));
        assertEquals(EnumSet.of(PageState.CPU_READ, PageState.CPU_WRITE, PageState.HUGE), theirs(0x06));
    }
}
