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
import dev.hmmmirror.junit.GuestTest;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
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
}
