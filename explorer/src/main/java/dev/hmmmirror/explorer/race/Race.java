package dev.hmmmirror.explorer.race;

import dev.hmmmirror.CopyOnWriteChild;
import dev.hmmmirror.Errno;
import dev.hmmmirror.HmmException;
import dev.hmmmirror.Memory;
import dev.hmmmirror.Mirror;
import dev.hmmmirror.explorer.engine.Violation;
import dev.hmmmirror.explorer.sys.Kernel;
import dev.hmmmirror.raw.Mm;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The concurrent mode: CPU writers, device writers, device readers and an mm mutator on the same
 * pages at once, checked with a linearizability rule per 64-bit word. Each page has one writer,
 * which writes an increasing sequence number into every word of it (through the CPU, or through a
 * device); a device read of a word must return a value some write stored, never one older than the
 * last write completed before the read began ({@code lastCompleted} before the read <= value <=
 * {@code lastStarted} after it). The mutator moves the pages under them without changing their
 * data or protection: migration to device memory and back, fork (copy-on-write), compaction,
 * {@code MADV_COLD}, {@code MADV_PAGEOUT} where there is swap.
 */
public final class Race implements AutoCloseable {
    static final int PAGE = (int) Memory.pageSize();
    static final int WORDS = PAGE / 8;

    private final int pages;
    private final int threads;
    private final long seed;
    private final Memory memory;
    private final Mirror[] mirrors;
    private final boolean migrate;
    private final AtomicLongArray started;
    private final AtomicLongArray completed;
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final AtomicLong writes = new AtomicLong();
    private final AtomicLong reads = new AtomicLong();
    private final AtomicLong checks = new AtomicLong();
    private final AtomicLong mutations = new AtomicLong();
    private final Map<String, Long> refused = new ConcurrentHashMap<>();
    private volatile boolean stop;

    /**
     * @param threads writers and readers (at least 2: half write, half read), plus one mutator
     * @param migrate the kernel has device memory (the mutator migrates)
     */
    public Race(long seed, int threads, int devices, boolean migrate) throws HmmException {
        this.seed = seed;
        this.threads = Math.max(2, threads);
        this.pages = 16;
        this.migrate = migrate;
        this.memory = Memory.anonymous(pages);
        this.mirrors = new Mirror[Math.min(2, devices)];
        for (int i = 0; i < mirrors.length; i++) {
            mirrors[i] = Mirror.open(i);
        }
        started = new AtomicLongArray(pages);
        completed = new AtomicLongArray(pages);
        for (int p = 0; p < pages; p++) {
            memory.write((long) p * PAGE, page(0));
        }
    }

    private static byte[] page(long value) {
        ByteBuffer b = ByteBuffer.allocate(PAGE).order(ByteOrder.nativeOrder());
        for (int w = 0; w < WORDS; w++) {
            b.putLong(value);
        }
        return b.array();
    }

    private int writers() {
        return Math.max(1, threads / 2);
    }

    /** Writer {@code id}: owns pages id, id + writers ...; even ids write with the CPU, odd through a device. */
    private void writer(int id) throws HmmException {
        boolean device = id % 2 == 1;
        Mirror m = mirrors[id / 2 % mirrors.length];
        while (!stop) {
            for (int p = id; p < pages && !stop; p += writers()) {
                long seq = completed.get(p) + 1;
                started.set(p, seq);
                if (device) {
                    try {
                        m.write(memory.pageAddress(p), page(seq));
                    } catch (HmmException e) {
                        refusedOr(e, "device write");
                        started.set(p, seq); // may have stored part of it: still "started"
                        continue;
                    }
                } else {
                    for (int w = 0; w < WORDS; w++) {
                        memory.setLong((long) p * PAGE + w * 8L, seq);
                    }
                }
                completed.set(p, seq);
                writes.incrementAndGet();
            }
        }
    }

    private void reader(int id) throws HmmException {
        SplittableRandom r = new SplittableRandom(seed + id);
        while (!stop) {
            int first = r.nextInt(pages);
            int n = 1 + r.nextInt(Math.min(4, pages - first));
            Mirror m = mirrors[r.nextInt(mirrors.length)];
            long[] low = new long[n];
            for (int i = 0; i < n; i++) {
                low[i] = completed.get(first + i);
            }
            byte[] got;
            try {
                got = m.read(memory.pageAddress(first), n);
            } catch (HmmException e) {
                refusedOr(e, "device read");
                continue;
            }
            ByteBuffer b = ByteBuffer.wrap(got).order(ByteOrder.nativeOrder());
            for (int i = 0; i < n; i++) {
                long high = started.get(first + i);
                for (int w = 0; w < WORDS; w++) {
                    long v = b.getLong((i * WORDS + w) * 8);
                    if (v < low[i] || v > high) {
                        throw new Violation("linearizable-read", "device " + (m == mirrors[0] ? 0 : 1) + " read word "
                                + w + " of page " + (first + i) + " as " + v + ", but the last write completed before"
                                + " the read began stored " + low[i] + " and the newest started by its end is " + high
                                + (v < low[i] ? " (a stale page)" : " (a value nobody wrote)"));
                    }
                }
                checks.incrementAndGet();
            }
            reads.incrementAndGet();
        }
    }

    private void mutator() {
        SplittableRandom r = new SplittableRandom(seed ^ 0x5DEECE66DL);
        boolean swap = Kernel.hasSwap();
        while (!stop) {
            int p = r.nextInt(pages);
            int n = 1 + r.nextInt(Math.min(4, pages - p));
            try {
                switch (r.nextInt(6)) {
                    case 0, 1 -> {
                        if (migrate) {
                            mirrors[0].migrateToDevice(memory.pageAddress(p), n);
                        }
                    }
                    case 2 -> {
                        if (migrate) {
                            mirrors[0].migrateToSystem(memory.pageAddress(p), n);
                        }
                    }
                    case 3 -> {
                        try (CopyOnWriteChild child = CopyOnWriteChild.fork()) {
                            child.pid();
                        }
                    }
                    case 4 -> Mm.madvise(memory.pageAddress(p), (long) n * PAGE, swap && r.nextBoolean()
                            ? Mm.MADV_PAGEOUT : Mm.MADV_COLD);
                    default -> {
                        if (r.nextInt(8) == 0) {
                            Kernel.compact();
                        }
                    }
                }
            } catch (HmmException e) {
                count(e.operation() + " " + e.errnoName());
            }
            mutations.incrementAndGet();
        }
    }

    /** Refusals a racing access may meet (the retry deadline under constant invalidation), counted; others fail. */
    private void refusedOr(HmmException e, String what) throws HmmException {
        Errno errno = e.errnoConstant().orElse(null);
        if (errno == Errno.EBUSY || errno == Errno.EINTR) {
            count(what + " " + e.errnoName());
            return;
        }
        throw e;
    }

    private void count(String what) {
        refused.merge(what, 1L, Long::sum);
    }

    /** Runs every thread for {@code seconds}; throws the first failure. */
    public void run(long seconds) throws Throwable {
        List<Thread> all = new ArrayList<>();
        for (int i = 0; i < writers(); i++) {
            int id = i;
            all.add(thread("writer-" + i, () -> writer(id)));
        }
        for (int i = 0; i < threads - writers(); i++) {
            int id = i;
            all.add(thread("reader-" + i, () -> reader(id)));
        }
        all.add(thread("mutator", this::mutator));
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        while (System.nanoTime() < deadline && failure.get() == null) {
            Thread.sleep(100);
        }
        stop = true;
        for (Thread t : all) {
            t.join();
        }
        if (failure.get() != null) {
            throw failure.get();
        }
    }

    private interface Body {
        void run() throws Exception;
    }

    private Thread thread(String name, Body body) {
        return Thread.ofPlatform().name("race-" + name).start(() -> {
            try {
                body.run();
            } catch (Throwable t) {
                failure.compareAndSet(null, t);
                stop = true;
            }
        });
    }

    public long writes() {
        return writes.get();
    }

    public long reads() {
        return reads.get();
    }

    public long checks() {
        return checks.get();
    }

    public long mutations() {
        return mutations.get();
    }

    public Map<String, Long> refused() {
        return new TreeMap<>(refused);
    }

    @Override
    public void close() throws HmmException {
        for (Mirror m : mirrors) {
            m.close();
        }
        memory.close();
    }
}
