package dev.hmmmirror.explorer.fuzz;

import dev.hmmmirror.Access;
import dev.hmmmirror.CopyOnWriteChild;
import dev.hmmmirror.Errno;
import dev.hmmmirror.HmmException;
import dev.hmmmirror.Memory;
import dev.hmmmirror.Mirror;
import dev.hmmmirror.explorer.engine.Violation;
import dev.hmmmirror.raw.Mm;
import dev.hmmmirror.raw.Abi;
import dev.hmmmirror.raw.Command;
import dev.hmmmirror.raw.RawDevice;
import dev.hmmmirror.raw.RawStruct;
import dev.hmmmirror.raw.Struct;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Raw-ioctl fuzzing through the single command path: random commands (and request numbers no
 * command has), sizes, flags, reserved words, counts and pointers (null, kernel addresses,
 * misaligned, read-only, PROT_NONE, straddling the end of a mapping, past TASK_SIZE), for the
 * command struct itself and for the buffers it points to, interleaved with valid commands whose
 * results are checked (a device read must still return what the CPU sees), and, in the stress
 * mode, with mm mutations of the same memory from another thread (mprotect, MADV_DONTNEED, a fixed
 * remap, fork).
 *
 * <p>Everything a fuzzed command can reach lies in one reservation of this process: a little
 * accessible memory at its start and PROT_NONE for more than the largest range a command accepts,
 * so that no fuzzed write ever reaches the JVM's own memory. What counts as a failure: an errno the
 * module does not document, a valid command that fails or returns other bytes than the CPU sees,
 * a hang (the caller's timeout) and, through the harness, any kernel splat.
 */
public final class Fuzzer implements AutoCloseable {
    static final long PAGE = Memory.pageSize();
    static final int DATA = 16;
    static final int RO = 4;
    static final int NONE = 4;
    static final int SHARED = 4;
    static final int OUT = 32;
    /** Pages of the reservation: the regions above, then PROT_NONE past the largest range. */
    static final long RESERVED = Abi.MAX_PAGES + 256;

    private static final Set<Errno> DOCUMENTED = EnumSet.of(Errno.EINVAL, Errno.EFAULT, Errno.EPERM, Errno.ENOTTY,
            Errno.ENOMEM, Errno.EBUSY, Errno.EOPNOTSUPP, Errno.ENOENT, Errno.EIO, Errno.EAGAIN,
            Errno.EINTR, Errno.ESRCH, Errno.ENOSPC /* EVENT_SCOPE: a 17th range */);

    private final SplittableRandom random;
    private final long base;
    private final long data;
    private final long readOnly;
    private final long none;
    private final long shared;
    private final long out;
    private final RawDevice[] devices;
    private final Mirror checker;
    private final long[] pointers;
    private final long[] counts;
    /** ioctls issued, by outcome (OK or the errno's name). */
    private final Map<String, Long> outcomes = new TreeMap<>();
    private final AtomicLong mutations = new AtomicLong();
    private long ioctls;
    private long validChecks;

    /** Reserves and lays out the memory, opens the devices. */
    public Fuzzer(long seed, int devices) throws HmmException {
        this.random = new SplittableRandom(seed);
        long r = Mm.mmap(0, RESERVED * PAGE, Mm.PROT_NONE, Mm.MAP_PRIVATE | Mm.MAP_ANONYMOUS | Mm.MAP_NORESERVE, -1, 0);
        if (r < 0) {
            throw new HmmException("mmap", "a reservation of " + RESERVED + " pages", (int) -r,
                    "the fuzzer needs 1 GiB of address space");
        }
        base = r;
        data = base;
        readOnly = data + DATA * PAGE;
        none = readOnly + RO * PAGE;
        shared = none + NONE * PAGE;
        out = shared + SHARED * PAGE;
        fixed(data, DATA, Mm.PROT_READ | Mm.PROT_WRITE, Mm.MAP_PRIVATE);
        fixed(readOnly, RO, Mm.PROT_READ, Mm.MAP_PRIVATE);
        fixed(shared, SHARED, Mm.PROT_READ | Mm.PROT_WRITE, Mm.MAP_SHARED);
        fixed(out, OUT, Mm.PROT_READ | Mm.PROT_WRITE, Mm.MAP_PRIVATE);
        // the rest stays PROT_NONE: ranges and buffers running past a region fault there
        MemorySegment d = MemorySegment.ofAddress(data).reinterpret(DATA * PAGE);
        for (long i = 0; i < DATA * PAGE; i += 8) {
            d.set(ValueLayout.JAVA_LONG, i, random.nextLong());
        }
        this.devices = new RawDevice[devices];
        for (int i = 0; i < devices; i++) {
            this.devices[i] = RawDevice.open(i);
        }
        this.checker = Mirror.open(0);
        pointers = new long[] {0, 1, data, data + 8, data + PAGE - 4, data + (DATA - 1) * PAGE, readOnly, none,
            shared, out, out + 3, out + (OUT - 1) * PAGE, out + OUT * PAGE - 8, base + RESERVED * PAGE - PAGE,
            0x7ffffffff000L, 0x800000000000L, 0xffff888000000000L, 0xffffffffff600000L, -1L, -PAGE};
        counts = new long[] {0, 1, 2, 3, DATA, DATA + 1, 64, 65, 512, Abi.MAX_PAGES, Abi.MAX_PAGES + 1, 1L << 40,
            -1L, Integer.MAX_VALUE};
    }

    private void fixed(long at, long pages, int prot, int flags) throws HmmException {
        long r = Mm.mmap(at, pages * PAGE, prot, flags | Mm.MAP_ANONYMOUS | Mm.MAP_FIXED, -1, 0);
        if (r != at) {
            throw new HmmException("mmap MAP_FIXED", "0x" + Long.toHexString(at), (int) -r, null);
        }
    }

    private long pointer() {
        return random.nextInt(8) == 0 ? random.nextLong() & ~7L : pointers[random.nextInt(pointers.length)];
    }

    private long count() {
        return random.nextInt(6) == 0 ? random.nextLong() : counts[random.nextInt(counts.length)];
    }

    /** One fuzzed command; returns its outcome. */
    String fuzzOne() {
        RawDevice dev = devices[random.nextInt(devices.length)];
        Command[] all = Command.values();
        Command c = all[random.nextInt(all.length)];
        RawStruct s = RawStruct.of(c.struct());
        Struct t = c.struct();
        for (String f : t.fieldNames()) {
            for (int i = 0; i < t.elements(f); i++) {
                s.set(f, i, value(t, f, i));
            }
        }
        int mode = random.nextInt(20);
        String outcome;
        try {
            if (mode == 0) {
                // a request number no command has: another direction, size, type or number
                long req = c.request() ^ (1L << random.nextInt(32));
                dev.ioctl(req, s);
            } else if (mode == 1) {
                dev.ioctlAt(c, pointer()); // the struct pointer itself
            } else {
                dev.ioctl(c, s);
            }
            outcome = "OK";
        } catch (HmmException e) {
            Errno errno = e.errnoConstant().orElse(null);
            if (errno == null || !DOCUMENTED.contains(errno)) {
                throw new Violation("fuzz-errno", c.ioctlName() + " (mode " + mode + ") failed with " + e.errnoName()
                        + ", which the module does not document: " + s);
            }
            outcome = e.errnoName();
        }
        ioctls++;
        outcomes.merge(outcome, 1L, Long::sum);
        return outcome;
    }

    private long value(Struct t, String field, int index) {
        boolean sane = random.nextInt(4) != 0;
        return switch (field) {
            case "size" -> sane ? t.byteSize() : random.nextBoolean() ? t.byteSize() + (random.nextInt(17) - 8)
                    : random.nextInt();
            // EVENT_SCOPE needs exactly one of ADD and CLEAR to get past its checks
            case "flags" -> sane ? (t == Struct.EVENT_SCOPE ? 1L << random.nextInt(2) : 0)
                    : random.nextBoolean() ? 1L << random.nextInt(32) : random.nextInt();
            case "reserved", "pad" -> sane ? 0 : random.nextLong();
            case "addr" -> pointer();
            case "ptr" -> pointer();
            case "start", "end" -> sane && random.nextInt(4) == 0 ? 0 : pointer(); // EVENT_SCOPE: CLEAR wants 0
            case "npages" -> count();
            case "delay_us" -> sane ? new long[] {0, 10, 1000}[random.nextInt(3)]
                    : new long[] {Abi.MAX_DELAY_US + 1, -1L, random.nextLong()}[random.nextInt(3)];
            case "copy_delay_us" -> sane ? new long[] {0, 1, 100}[random.nextInt(3)]
                    : new long[] {100_001, 0xffffffffL}[random.nextInt(2)];
            case "fail_alloc", "fault_busy", "fail_copy" -> sane ? random.nextInt(3) : random.nextInt();
            case "value" -> random.nextLong();
            default -> sane ? 0 : random.nextLong(); // outputs: whatever was there must not matter
        };
    }

    /** A valid command checked against the CPU: the data region read through the device. */
    void checkValid(boolean exact) throws HmmException {
        MemorySegment d = MemorySegment.ofAddress(data).reinterpret(DATA * PAGE);
        byte[] cpu = d.toArray(ValueLayout.JAVA_BYTE);
        checker.fault(data, DATA, Access.READ);
        byte[] dev = checker.read(data, DATA);
        validChecks++;
        if (exact && !java.util.Arrays.equals(cpu, dev)) {
            int at = java.util.Arrays.mismatch(cpu, dev);
            throw new Violation("fuzz-coherence", "after " + ioctls + " fuzzed ioctls the device reads byte " + at
                    + " of the data region as 0x" + Integer.toHexString(dev[at] & 0xff) + ", the CPU as 0x"
                    + Integer.toHexString(cpu[at] & 0xff));
        }
    }

    /** The stress thread's loop: mm mutations of the data and shared regions until {@code stop}. */
    void mutate(AtomicBoolean stop, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        while (!stop.get()) {
            long page = data + r.nextInt(DATA) * PAGE;
            switch (r.nextInt(4) == 0 && r.nextInt(8) == 0 ? 4 : r.nextInt(4)) { // fork is slow: 1 in 32
                case 0 -> Mm.mprotect(page, PAGE, Mm.PROT_READ);
                case 1 -> Mm.mprotect(page, PAGE, Mm.PROT_READ | Mm.PROT_WRITE);
                case 2 -> Mm.madvise(page, PAGE, Mm.MADV_DONTNEED);
                case 3 -> Mm.mmap(page, PAGE, Mm.PROT_READ | Mm.PROT_WRITE,
                        Mm.MAP_PRIVATE | Mm.MAP_ANONYMOUS | Mm.MAP_FIXED, -1, 0);
                default -> {
                    try (CopyOnWriteChild child = CopyOnWriteChild.fork()) {
                        child.pid();
                    } catch (HmmException e) {
                        // fork refused (memory): the next mutation
                    }
                }
            }
            mutations.incrementAndGet();
        }
        // leave the data region writable for the final check
        Mm.mprotect(data, DATA * PAGE, Mm.PROT_READ | Mm.PROT_WRITE);
    }

    public long ioctls() {
        return ioctls;
    }

    public long validChecks() {
        return validChecks;
    }

    public long mutations() {
        return mutations.get();
    }

    public Map<String, Long> outcomes() {
        return Map.copyOf(outcomes);
    }

    /**
     * Fuzzes until {@code deadline} (System.nanoTime) or {@code max} ioctls, with a valid checked
     * command every 64; with {@code stress}, a second thread mutates the same memory meanwhile.
     */
    public void run(long deadline, long max, boolean stress) throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        Thread mutator = null;
        if (stress) {
            long seed = random.nextLong();
            mutator = Thread.ofPlatform().name("fuzz-mm").start(() -> mutate(stop, seed));
        }
        try {
            while (System.nanoTime() < deadline && (max <= 0 || ioctls < max)) {
                fuzzOne();
                if (ioctls % 64 == 0) {
                    resetInjection();
                    try {
                        checkValid(!stress);
                    } catch (HmmException e) {
                        if (!stress) {
                            throw new Violation("fuzz-valid", "a valid fault + read of the data region failed after "
                                    + ioctls + " fuzzed ioctls: " + e.getMessage(), e);
                        }
                    }
                }
            }
        } finally {
            stop.set(true);
            if (mutator != null) {
                mutator.join();
            }
        }
        resetInjection();
        checkValid(true);
    }

    /** Turns off what fuzzed INJECT and SET_DELAY commands left on, so that valid checks see the module as is. */
    private void resetInjection() throws HmmException {
        for (RawDevice d : devices) {
            RawStruct in = RawStruct.of(Struct.INJECT).set("size", Struct.INJECT.byteSize());
            d.ioctl(Command.INJECT, in);
            RawStruct delay = RawStruct.of(Struct.DELAY).set("size", Struct.DELAY.byteSize());
            d.ioctl(Command.SET_DELAY, delay);
        }
    }

    @Override
    public void close() throws HmmException {
        for (RawDevice d : devices) {
            d.close();
        }
        checker.close();
        Mm.munmap(base, RESERVED * PAGE);
    }
}
