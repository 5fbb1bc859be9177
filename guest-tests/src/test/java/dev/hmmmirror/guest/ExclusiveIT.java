package dev.hmmmirror.guest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.hmmmirror.Capability;
import dev.hmmmirror.CopyOnWriteChild;
import dev.hmmmirror.Errno;
import dev.hmmmirror.HmmException;
import dev.hmmmirror.Invalidation;
import dev.hmmmirror.Memory;
import dev.hmmmirror.Mirror;
import dev.hmmmirror.MissingCapabilityException;
import dev.hmmmirror.PageState;
import dev.hmmmirror.guest.mm.Machinery;
import dev.hmmmirror.guest.mm.PageMap;
import dev.hmmmirror.guest.mm.Sys;
import dev.hmmmirror.junit.GuestTest;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Device-exclusive access for device atomics (needs CONFIG_DEVICE_PRIVATE: the sid kernel). */
@GuestTest
class ExclusiveIT {
    private Mirror mirror;

    @BeforeEach
    void open() throws Exception {
        mirror = Mirror.open(0);
        assumeTrue(mirror.version().has(Capability.EXCLUSIVE), "kernel " + System.getProperty("os.version")
                + " lacks CONFIG_DEVICE_PRIVATE: device-exclusive access unavailable");
    }

    @AfterEach
    void close() throws Exception {
        mirror.close();
    }

    /**
     * The device's own grant for atomics is no invalidation of it: make_device_exclusive() passes the
     * requesting driver as the MMU_NOTIFY_EXCLUSIVE range's owner so that the driver can tell its own event
     * (the module then records nothing and keeps its entries). (Campaign mutant 50, the owner left NULL,
     * survived every detector: the grant still succeeded, reported as an invalidation of the pages granted.)
     */
    @Test
    void theDevicesOwnGrantForAtomicsIsNotReportedAsAnInvalidation() throws Exception {
        try (Memory mem = Memory.anonymous(4)) {
            mem.setLong(0, 50L);
            mirror.invalidations(); // what came before
            assertEquals(4, mirror.makeExclusive(mem.address(), 4));
            List<Invalidation> own = mirror.invalidations().stream()
                    .filter(e -> e.reason() == Invalidation.Reason.EXCLUSIVE).toList();
            assertEquals(List.of(), own, "the device's own exclusive grant came back as invalidations");
            assertTrue(mirror.snapshot(mem).all(PageState.EXCLUSIVE), mirror.snapshot(mem).toString());
        }
    }

    @Test
    void exclusiveThenCpuWriteRevokesAndTheValueIsIntact() throws Exception {
        try (Memory mem = Memory.anonymous(2)) {
            mem.setLong(0, 1000L);
            assertEquals(2, mirror.makeExclusive(mem.address(), 2));
            assertTrue(mirror.snapshot(mem).all(PageState.EXCLUSIVE), mirror.snapshot(mem).toString());
            assertEquals(1000L, mirror.atomicAdd(mem.address(), 5));
            mirror.invalidations();
            long revokedBefore = mirror.counters().exclusiveRevocations();
            mem.setLong(8, 7L); // CPU write: revokes the device's exclusive entry
            assertEquals(1005L, mem.getLong(0), "the device's atomic result is intact");
            assertTrue(mirror.snapshot(mem).page(0).contains(PageState.CPU_WRITE));
            assertTrue(!mirror.snapshot(mem).page(0).contains(PageState.EXCLUSIVE));
            assertTrue(mirror.counters().exclusiveRevocations() > revokedBefore);
            List<Invalidation> ev = InvalidationIT.eventsFor(mirror, mem.address(), mem.address() + Memory.pageSize());
            assertTrue(!ev.isEmpty(), "the revocation shows in the event stream");
        }
    }

    @Test
    void exclusiveAfterMprotectReadOnlyIsRefused() throws Exception {
        try (Memory mem = Memory.anonymous(1)) {
            mem.setLong(0, 1L);
            mem.protect(Memory.Protection.READ);
            HmmException e = assertThrows(HmmException.class, () -> mirror.makeExclusive(mem.address(), 1));
            assertEquals(Errno.EPERM.number(), e.errno(), "documented errno: " + e.getMessage());
            HmmException w = assertThrows(HmmException.class, () -> mirror.atomicAdd(mem.address(), 1));
            assertEquals(e.errno(), w.errno(), "atomics take the same path: " + w.getMessage());
            assertEquals(1L, mem.getLong(0));
        }
    }

    /** Upstream exclusive_mprotect: pages held exclusive, then made read-only: a device write is refused. */
    @Test
    void exclusivePagesMadeReadOnlyRefuseDeviceWrites() throws Exception {
        int n = 256;
        try (Memory mem = Memory.anonymous(n)) {
            byte[] data = new byte[n * (int) Memory.pageSize()];
            for (int i = 0; i < data.length; i++) {
                data[i] = (byte) (i * 3 + i / 4096);
            }
            mem.write(0, data);
            assertEquals(n, mirror.makeExclusive(mem.address(), n));
            assertArrayEquals(data, mirror.read(mem.address(), n), "the device reads what it holds");
            mem.protect(Memory.Protection.READ);
            HmmException e = assertThrows(HmmException.class, () -> mirror.write(mem.address(), new byte[data.length]));
            assertEquals(Errno.EPERM.number(), e.errno(), e.getMessage());
            assertArrayEquals(data, mem.bytes(), "the refused write changed nothing");
        }
    }

    @Test
    void exclusiveAndFork() throws Exception {
        try (Memory mem = Memory.anonymous(1)) {
            mem.setLong(0, 10L);
            mirror.makeExclusive(mem.address(), 1);
            try (CopyOnWriteChild child = CopyOnWriteChild.fork()) {
                // fork restores a normal CPU entry in the parent first
                assertTrue(!mirror.snapshot(mem).page(0).contains(PageState.EXCLUSIVE), mirror.snapshot(mem).toString());
                mem.setLong(0, 20L); // parent's COW copy
                assertEquals(20L, mirror.atomicAdd(mem.address(), 1), "the device atomic works on the parent's page");
                assertEquals(21L, mem.getLong(0));
                assertTrue(child.pid() > 0);
            }
        }
    }

    @Test
    void atomicCounterFromJavaThreadsThroughTheDeviceAndTheCpuEndsAtTheExactTotal() throws Exception {
        try (Memory mem = Memory.anonymous(1); Mirror second = Mirror.open(1)) {
            mem.setLong(0, 0L);
            int perThread = 300;
            List<CompletableFuture<Void>> workers = new ArrayList<>();
            for (Mirror m : new Mirror[] {mirror, mirror, second}) {
                workers.add(CompletableFuture.runAsync(() -> {
                    try {
                        for (int i = 0; i < perThread; i++) {
                            m.atomicAdd(mem.address(), 1);
                        }
                    } catch (HmmException e) {
                        throw new IllegalStateException(e);
                    }
                }));
            }
            workers.add(CompletableFuture.runAsync(() -> {
                for (int i = 0; i < perThread; i++) {
                    mem.getAndAddLong(0, 1L); // CPU atomic: revokes the device's exclusive entry
                }
            }));
            // every worker must have stopped before the memory is unmapped: a failed one must not leave
            // the CPU thread touching an unmapped page (it crashed the guest JVM with SIGSEGV on 6.1)
            for (CompletableFuture<Void> w : workers) {
                w.handle((v, t) -> null).get(600, TimeUnit.SECONDS);
            }
            for (CompletableFuture<Void> w : workers) {
                w.get();
            }
            assertEquals(4L * perThread, mem.getLong(0), "no increment may be lost");
            assertTrue(mirror.counters().deviceAtomics() >= 2L * perThread);
        }
    }

    @Test
    void misalignedAtomicIsEinval() throws Exception {
        try (Memory mem = Memory.anonymous(1)) {
            HmmException e = assertThrows(HmmException.class, () -> mirror.atomicAdd(mem.address() + 4, 1));
            assertEquals(Errno.EINVAL.number(), e.errno());
        }
    }

    @Test
    void exclusiveOnSharedMemoryIsARefusedPageNotAMissingKernelOption() throws Exception {
        // make_device_exclusive takes private anonymous pages only; since 6.15 it refuses others
        // with EOPNOTSUPP, on a kernel that has device-exclusive access (issue 10, bug 4)
        try (Memory mem = Memory.sharedAnonymous(1)) {
            mem.fill((byte) 1);
            try {
                mirror.makeExclusive(mem.address(), 1);
            } catch (MissingCapabilityException e) {
                fail("this kernel has device-exclusive access: EOPNOTSUPP here is a refused page, "
                        + "not a missing kernel option: " + e.getMessage());
            } catch (HmmException e) {
                if (e.errno() == Errno.EOPNOTSUPP.number()) {
                    assertTrue(e.getMessage().contains("make_device_exclusive"), e.getMessage());
                }
            }
            assertEquals(1, mem.getByte(0), "the CPU still reads the page");
        }
    }

    /**
     * How long the CPU's restore fault is held inside its invalidation, the folio locked: the module's
     * classic_notifiers test aid written "ms address" sleeps in the writing thread's blocking invalidations over
     * that address only, and nowhere else in the process.
     */
    static final int HOLD_MS = 5000;

    /** The test aid's count of its sleeps in progress in the reading process (kmod/classic.c). */
    static final Path CLASSIC_SLEEPING = Machinery.MIRROR0.resolve("classic_sleeping");

    /** {@code /proc/kpageflags} bits (include/uapi/linux/kernel-page-flags.h). */
    static final long KPF_LOCKED = 1L, KPF_MMAP = 1L << 11, KPF_ANON = 1L << 12;

    /**
     * The victim of {@link #aCpuTouchOfAnExclusivePageRacingItsZapHoldsThePage}, in a JVM of its own: the
     * classic notifiers the test aid registers stay on its address space until it exits.
     */
    public static final class ExclusiveZapVictim {
        private static final boolean ARM64 = "aarch64".equals(System.getProperty("os.arch"));
        private static final long READ = ARM64 ? 63 : 0, WRITE = ARM64 ? 64 : 1, PIPE2 = ARM64 ? 59 : 293;

        /**
         * The CPU's touch of {@code address}: write(2) of its first word into the pipe, so that the kernel's
         * copy_from_user() takes the fault while this thread is in native code (a safepoint need not wait for
         * it, so the zapping thread is never stopped behind it); the word as the kernel read it.
         */
        static long touch(int[] pipe, long address, MemorySegment word) {
            assertEquals(8, Sys.call("write", WRITE, pipe[1], address, 8));
            assertEquals(8, Sys.call("read", READ, pipe[0], word.address(), 8));
            return word.get(ValueLayout.JAVA_LONG, 0);
        }

        public static void main(String[] args) throws Exception {
            try (Mirror m = Mirror.open(0); Memory page = Memory.anonymous(1); Memory scratch = Memory.anonymous(1);
                    Arena arena = Arena.ofConfined()) {
                MemorySegment fds = arena.allocate(ValueLayout.JAVA_INT, 2);
                Sys.call("pipe2", PIPE2, fds.address(), 0);
                int[] pipe = {fds.getAtIndex(ValueLayout.JAVA_INT, 0), fds.getAtIndex(ValueLayout.JAVA_INT, 1)};
                MemorySegment word = arena.allocate(ValueLayout.JAVA_LONG);
                page.setLong(0, 40L);
                scratch.setLong(0, 1L);
                // the calls of the window once before it: first calls link downcalls and load classes
                Sys.madvise(scratch.address(), Memory.pageSize(), Sys.MADV_COLD);
                Machinery.readLong(CLASSIC_SLEEPING);
                m.makeExclusive(page.address(), 1);
                assertEquals(40L, touch(pipe, page.address(), word), "the first restore");
                long pfn = PageMap.entries(page.address(), 1)[0].pfn();
                PageMap.kpageflags(pfn);
                m.makeExclusive(page.address(), 1);
                // The grant's get_user_pages (FOLL_TOUCH) marked the folio accessed, which may queue it for
                // activation in this CPU's LRU batch with a reference of its own; the batches of every CPU are
                // drained now (move_pages: lru_cache_disable), so that the device-exclusive entry's reference is
                // the folio's last one: the fault's (7c7b962938dd) aside, the zap below drops it.
                int node = PageMap.nodes(scratch.address(), 1)[0];
                assertTrue(node >= 0, "the scratch page's node: " + node);
                PageMap.movePages(scratch.address(), 1, node);
                long[] seen = {-1, -1, -1}; // flags right after the zap, sleeps in progress before and after
                CountDownLatch touching = new CountDownLatch(1);
                Thread zap = Thread.ofPlatform().start(() -> {
                    try {
                        touching.await();
                        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                        // until the CPU's fault is inside its invalidation: folio locked, entry not yet rechecked
                        while (Machinery.readLong(CLASSIC_SLEEPING) == 0
                                || (PageMap.kpageflags(pfn) & KPF_LOCKED) == 0) {
                            if (System.nanoTime() > deadline) {
                                return;
                            }
                            Thread.sleep(1);
                        }
                        seen[1] = 1;
                        Sys.madvise(page.address(), Memory.pageSize(), Sys.MADV_DONTNEED);
                        seen[0] = PageMap.kpageflags(pfn);
                        seen[2] = Machinery.readLong(CLASSIC_SLEEPING);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
                // from here the restore fault of this thread over the page sleeps HOLD_MS, nothing else does
                Files.writeString(Machinery.CLASSIC_NOTIFIERS, HOLD_MS + " " + Long.toHexString(page.address()));
                touching.countDown();
                long t0 = System.nanoTime();
                long value = touch(pipe, page.address(), word);
                long took = (System.nanoTime() - t0) / 1_000_000;
                zap.join();
                System.out.println("the CPU's touch took " + took + " ms; after the zap: pfn " + pfn
                        + " kpageflags 0x" + Long.toHexString(seen[0]) + " kpagecount (mapcount) "
                        + PageMap.kpagecount(pfn));
                System.out.println("read " + value + " held " + (seen[1] == 1 && seen[2] > 0)
                        + " flags 0x" + Long.toHexString(seen[0]));
            }
        }
    }

    /**
     * A CPU touch of a device-exclusive page that races a zap of it (MADV_DONTNEED) ends on the zapped entry,
     * and the fault that restores the entry holds a reference to the folio it locked (7c7b962938dd, campaign
     * mutant 40). The module's classic_notifiers test aid holds that one fault inside its invalidation (the
     * folio locked, the entry not yet rechecked) for {@link #HOLD_MS}; another thread, once the aid says the
     * fault is there, zaps the entry, whose reference is then the folio's last but the fault's (the per-CPU
     * LRU batches are drained before), and reads the page's flags while the fault is still held. The folio
     * must still be the fault's: locked, anonymous, unmapped; without the fault's reference the zap frees it
     * (flags gone, or on a DEBUG_VM kernel "BUG: Bad page state" with the flags left). The fault must then see
     * the change and read a fresh zero page.
     */
    @Test
    void aCpuTouchOfAnExclusivePageRacingItsZapHoldsThePage() throws Exception {
        assumeTrue(Files.exists(CLASSIC_SLEEPING), "this hmm_mirror.ko has no classic_notifiers test aid for one fault");
        Process p = Machinery.childJvm(ExclusiveZapVictim.class);
        try {
            assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the victim did not finish in 120 s");
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            assertEquals(0, p.exitValue(), "the victim failed: " + out);
            String last = out.lines().reduce((a, b) -> b).orElse("");
            assertTrue(last.startsWith("read "), "the victim said: " + out);
            System.out.println(out); // the victim's account of the window
            String[] w = last.split(" "); // read V held H flags 0xF
            assumeTrue(Boolean.parseBoolean(w[3]), "the zap did not come while the CPU's fault held the page ("
                    + last + "): the window was missed, nothing judged");
            long flags = Long.parseUnsignedLong(w[5].substring(2), 16);
            assertEquals(KPF_LOCKED | KPF_ANON, flags & (KPF_LOCKED | KPF_ANON | KPF_MMAP),
                    "right after the zap, the fault still inside its invalidation, the folio must still be the"
                            + " fault's, locked, anonymous and unmapped: it was freed under the fault's lock (" + out + ")");
            assertEquals("0", w[1], "the page was zapped while the CPU's fault restored it: the fault retries on an"
                    + " empty entry and reads a zero page");
        } finally {
            p.destroyForcibly();
        }
    }
}
