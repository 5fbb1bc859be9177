package dev.hmmmirror.guest.mm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.hmmmirror.Access;
import dev.hmmmirror.Memory;
import dev.hmmmirror.Mirror;
import dev.hmmmirror.PageFrame;
import dev.hmmmirror.junit.GuestTest;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The seed's claim, measured: mirroring takes no page reference and no mapping, so the kernel
 * stays free to move mirrored pages; a page pinned by the kernel's own long-term pinning path
 * (an io_uring registered buffer) is not.
 */
@GuestTest
class NothingPinnedIT {
    private static final int PAGES = 8;

    @Test
    void mirroringLeavesReferenceAndMapCountsAsTheyWere() throws Exception {
        try (Mirror mirror = Mirror.open(0); Memory mem = Memory.anonymous(PAGES)) {
            long a = mem.address();
            Coherence.pattern(a, PAGES, 0x33);
            // a page just faulted in sits in this CPU's LRU batch, which holds a reference until it
            // is drained; MADV_COLD drains it (lru_add_drain), so both counts are read without it
            Sys.madvise(a, PAGES * Coherence.PAGE, Sys.MADV_COLD);
            List<PageFrame> before = mirror.pageFrames(a, PAGES);
            PageMap.Entry[] pm = PageMap.entries(a, PAGES);
            long[] kpc = new long[PAGES];
            for (int i = 0; i < PAGES; i++) {
                assertEquals(pm[i].pfn(), before.get(i).cpuPfn(), "pagemap and the module disagree on page " + i);
                assertTrue(!before.get(i).deviceMapped());
                kpc[i] = PageMap.kpagecount(pm[i].pfn());
            }
            mirror.fault(mem, Access.WRITE);
            mirror.read(a, PAGES);
            Sys.madvise(a, PAGES * Coherence.PAGE, Sys.MADV_COLD);
            List<PageFrame> after = mirror.pageFrames(a, PAGES);
            for (int i = 0; i < PAGES; i++) {
                PageFrame b = before.get(i), f = after.get(i);
                assertTrue(f.coherent(), "the device maps page " + i + ": " + f);
                assertEquals(b.refCount(), f.refCount(), "page " + i + ": the device mapping took a reference");
                assertEquals(b.mapCount(), f.mapCount(), "page " + i + ": the device mapping counts as a mapping");
                assertEquals(kpc[i], PageMap.kpagecount(f.cpuPfn()), "page " + i + ": /proc/kpagecount changed");
            }
            MmReport.record("nothing pinned: ref/map counts", Set.of(), "pass: refcount " + before.get(0).refCount()
                    + ", mapcount " + before.get(0).mapCount() + ", kpagecount " + kpc[0] + " before and after");
        }
    }

    @Test
    void aPinnedPageRefusesToMigrateWhileTheMirroredPageNextToItMoves() throws Exception {
        Machinery.requireTwoNodes();
        try (Mirror mirror = Mirror.open(0); Memory pinned = Memory.anonymous(1); Memory mirrored = Memory.anonymous(1);
                Arena arena = Arena.ofConfined()) {
            pinned.fill((byte) 1);
            mirrored.fill((byte) 2);
            MemorySegment params = arena.allocate(120);
            long ring = Sys.raw(Sys.IO_URING_SETUP, 1, params.address());
            assumeTrue(ring >= 0, "io_uring_setup: " + Sys.name((int) -ring)
                    + " (the kernel lacks CONFIG_IO_URING, or kernel.io_uring_disabled is set)");
            try {
                MemorySegment iov = arena.allocate(16);
                iov.set(ValueLayout.JAVA_LONG, 0, pinned.address());
                iov.set(ValueLayout.JAVA_LONG, 8, Coherence.PAGE);
                Sys.call("io_uring_register(IORING_REGISTER_BUFFERS)", Sys.IO_URING_REGISTER, ring, 0,
                        iov.address(), 1);
                mirror.fault(mirrored, Access.WRITE);
                PageFrame p = mirror.pageFrames(pinned.address(), 1).get(0);
                PageFrame m = mirror.pageFrames(mirrored.address(), 1).get(0);
                assertTrue(p.refCount() >= 1024, "a long-term pin adds GUP_PIN_COUNTING_BIAS (1024): " + p);
                assertTrue(m.refCount() < 8, "the mirrored page carries no pin: " + m);
                int pNode = PageMap.nodes(pinned.address(), 1)[0], mNode = PageMap.nodes(mirrored.address(), 1)[0];
                PageMap.movePages(pinned.address(), 1, pNode == 0 ? 1 : 0);
                PageMap.movePages(mirrored.address(), 1, mNode == 0 ? 1 : 0);
                assertEquals(pNode, PageMap.nodes(pinned.address(), 1)[0], "the pinned page must not move");
                assertNotEquals(mNode, PageMap.nodes(mirrored.address(), 1)[0], "the mirrored page must move");
                assertEquals(p.cpuPfn(), mirror.pageFrames(pinned.address(), 1).get(0).cpuPfn());
                Coherence.assertDeviceFollows(mirror, mirrored.address(), 1, Coherence.cpuBytes(mirrored.address(), 1));
                MmReport.record("nothing pinned: pinned vs mirrored page, move_pages", Set.of(),
                        "pass: io_uring-pinned page (ref " + p.refCount() + ") stayed, mirrored page (ref "
                                + m.refCount() + ") moved");
            } finally {
                Sys.close((int) ring);
            }
        }
    }
}
