package dev.hmmmirror.guest.explore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.hmmmirror.Access;
import dev.hmmmirror.Capability;
import dev.hmmmirror.Invalidation;
import dev.hmmmirror.Memory;
import dev.hmmmirror.Mirror;
import dev.hmmmirror.PageState;
import dev.hmmmirror.Snapshot;
import dev.hmmmirror.explorer.ChildJvm;
import dev.hmmmirror.explorer.action.World;
import dev.hmmmirror.explorer.model.Kind;
import dev.hmmmirror.explorer.sys.Kernel;
import dev.hmmmirror.guest.HugetlbPool;
import dev.hmmmirror.junit.GuestTest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What the explorer found along the way, each kept as the reproducer it shrank to: it failed before
 * the fix named in its comment and guards it now.
 */
@GuestTest
class ExplorerFoundIT {

    /** The explorer's World reserves huge pages for its hugetlb regions: given back after each test. */
    private HugetlbPool pool;

    @BeforeEach
    void keepTheHugetlbPool() throws IOException {
        pool = HugetlbPool.keep();
    }

    @AfterEach
    void giveTheHugetlbPoolBack() throws IOException {
        pool.close();
    }
    /** A fresh world on a kernel with device memory; skips, saying why, elsewhere. */
    private static World withDeviceMemory() throws Exception {
        World w = World.open();
        if (!w.features().migrate()) {
            w.close();
            assumeTrue(false, "kernel " + System.getProperty("os.version")
                    + " lacks CONFIG_DEVICE_PRIVATE: no device memory");
        }
        return w;
    }

    /**
     * Found on 7.2.13 (campaign seed 2, program seed -4627371582388691390): a device write to a page
     * of a read-only mapping that was in device memory failed with EFAULT instead of EPERM (the
     * module's copy-on-write path called fixup_user_fault(), which refuses a read-only VMA with
     * EFAULT). Fixed in kmod/mirror.c: that path now refuses a mapping without VM_WRITE with EPERM,
     * as hmm_range_fault() does for pages in system memory.
     */
    /** The base pages of a PMD THP of the running kernel (512 with 4 KiB pages, 2048 with 16 KiB). */
    private static final int THP_PAGES = (int) (Memory.hugePageSize() / Memory.pageSize());

    @Test
    void deviceWriteToAReadOnlyPageInDeviceMemoryIsEperm() throws Exception {
        try (World w = withDeviceMemory()) {
            w.map(1, Kind.ANONYMOUS, 8);
            w.protect(1, 5, 1, Memory.Protection.READ);
            w.migrateToDevice(0, 1, 3, 5);
            w.deviceWrite(0, 1, 5, 1, 0x9f87e13234b40fe3L);
        }
    }

    /**
     * Found on 7.2.13 in CI (random campaign seed 4103129319571692965, program seed
     * -4734551712102682085), a lesson about the kernel rather than a module bug: a forked child's
     * write to a private page that is in device memory (copy-on-write shared) migrates the page
     * back for the parent too (the migration walks the page's rmap), so the parent's page is in
     * system memory afterwards and another device can take it. The model assumed the parent's page
     * stayed in device 1's memory; it now asks the device after such a write.
     */
    @Test
    void aChildsWriteToASharedDevicePageBringsTheParentsBackToo() throws Exception {
        try (World w = withDeviceMemory()) {
            w.map(1, Kind.ANONYMOUS, 4);
            w.migrateToDevice(2, 1, 2, 1);
            w.forkChildWrite(1, 2, 322, 0x2dcd4cfe58d3d3fL);
            w.migrateToDevice(0, 1, 2, 1);
        }
    }

    /**
     * Found by the built-7.2-debug campaign of December 2026 (seed 20261207, job 2, program seed
     * -4112506117079745680), a lesson about whole-THP migration: a THP migrated whole to device 0
     * is one large device folio; a forked child's write to one of its pages (338) brings the whole
     * folio back to system memory, for the parent too (the migration walks the folio's rmap), so
     * page 0 is in system memory and device 1 can take it. The model relearnt only page 338 and kept
     * page 0 in device 0's memory. It now asks about the whole region of a THP after anything that
     * may have brought a page back (faults, device and CPU reads and writes, a child's write).
     */
    @Test
    void aChildsWriteToOnePageOfAWholeThpInDeviceMemoryBringsAllOfItBack() throws Exception {
        try (World w = withDeviceMemory()) {
            w.map(2, Kind.THP, THP_PAGES);
            w.migrateToDevice(0, 2, 0, THP_PAGES);
            w.forkChildWrite(2, 338, 116, 0xd602026d644124c0L);
            w.migrateToDevice(2, 2, 0, 1);
        }
    }

    /**
     * The same lesson for this process's own CPU: a write to one page of a THP that is one large
     * device folio brings all its pages back (a fault on the PMD migrates the folio whole), so
     * another device can then take page 0.
     */
    @Test
    void aCpuWriteToOnePageOfAWholeThpInDeviceMemoryBringsAllOfItBack() throws Exception {
        try (World w = withDeviceMemory()) {
            w.map(2, Kind.THP, THP_PAGES);
            w.migrateToDevice(0, 2, 0, THP_PAGES);
            w.cpuWrite(2, 338, 116, 0x5eedL);
            w.migrateToDevice(2, 2, 0, 1);
            w.cpuRead(2, 0);
        }
    }

    /**
     * Found on 7.2.13+deb14 (stock sid; random campaign seed 2699379980263374703 of ExplorerIT,
     * program seed -7147147822376625624), a lesson about the module's batched device access and the
     * kernel: a device write of pages 0-1 through device 0, page 0 never touched and page 1 in
     * device 1's memory (one shared owner, so device 0 could map it in place), faults the missing
     * run 0-1 at once, and hmm_range_fault() CPU-faults from page 0 to the end of its walk, which
     * migrates page 1 back to system memory; device 0 can then take it. The model kept page 1 in
     * device 1's memory; device reads and writes now ask the device afterwards, as faults do.
     */
    @Test
    void aDeviceWriteFromAMissingPageBringsAnotherDevicesPageBack() throws Exception {
        try (World w = withDeviceMemory()) {
            w.map(1, Kind.ANONYMOUS, 2);
            w.migrateToDevice(2, 1, 1, 1);
            w.deviceWrite(0, 1, 0, 2, 0xc683c07b94142faL);
            w.migrateToDevice(0, 1, 1, 1);
        }
    }

    /**
     * Found on 7.2.13 in CI (campaign seed 5 through the container runner, program seed
     * 3321900961691967264), also a lesson about the kernel: a device fault of pages 1-2 where page
     * 1 was never touched and page 2 is in this device's own memory migrates page 2 back to system
     * memory. hmm_range_fault() faults every page from the first that needs a CPU fault to the end
     * of its walk, and the CPU fault of a device-private page calls migrate_to_ram(), even for the
     * range's own owner (a fault of page 2 alone leaves it in device memory). Another device could
     * then take the page; the model had it still in device 0's memory, and now asks the device
     * after a fault.
     */
    @Test
    void aFaultThatNeedsACpuFaultFirstBringsLaterDevicePagesBack() throws Exception {
        try (World w = withDeviceMemory()) {
            w.map(2, Kind.ANONYMOUS, 4);
            w.migrateToDevice(0, 2, 2, 1);
            w.fault(0, 2, 1, 2, Access.READ);
            w.migrateToDevice(2, 2, 2, 1);
        }
    }

    /**
     * Found on 7.2.13 by a random campaign (seed 183114161, program seed 2336376747056643032): a
     * model gap again. A page in device memory made PROT_NONE shows nothing of itself in a snapshot
     * (inaccessible), so asking the device after a refused fault took it for a page that came back;
     * made accessible again it was still in device memory. The model now keeps what it knew of an
     * inaccessible page.
     */
    @Test
    void aDevicePageMadeInaccessibleStaysInDeviceMemory() throws Exception {
        try (World w = withDeviceMemory()) {
            w.map(3, Kind.ANONYMOUS, 1);
            w.migrateToDevice(0, 3, 0, 1);
            w.protect(3, 0, 1, Memory.Protection.NONE);
            w.fault(0, 3, 0, 1, Access.READ);
            w.protect(3, 0, 1, Memory.Protection.READ_WRITE);
        }
    }

    /**
     * Found on 7.2.13 and 6.1 once MADV_PAGEOUT was drawn in guests without swap (program seed
     * 9203345383866548334): data loss. A shmem page that a device read faulted in is mapped
     * writable but clean (shmem has no write notify); the device then wrote it through its entry
     * with no PTE dirty bit set, MADV_PAGEOUT dropped it as clean, and the next read saw zeros.
     * Fixed in kmod/mirror.c: a device write marks the page's folio dirty.
     */
    @Test
    void aDeviceWriteToSharedMemorySurvivesPageout() throws Exception {
        try (World w = World.open()) {
            w.map(0, Kind.MEMFD, 2);
            w.deviceRead(0, 0, 1, 1);
            w.deviceWrite(0, 0, 1, 1, 0xb9241e8f296a3cf3L);
            w.pageOut(0, 1, 1);
            w.deviceRead(0, 0, 1, 1);
        }
    }

    /**
     * Found on 7.2.13 by campaign seed 5 in a full suite run (program seed 7215423488864950990):
     * a write fault of pages 2-3, page 2 read-only and in device memory, page 3 a PROT_NONE hole,
     * fails with EFAULT, not EPERM. hmm_range_fault() reports a device page it maps in place as it
     * is, without a fault, so it stops at page 3; the module refuses page 2's write only once the
     * chunk came back. The model's errno now follows that order.
     */
    @Test
    void aWriteFaultReachesAHoleBeforeAReadOnlyDevicePage() throws Exception {
        try (World w = withDeviceMemory()) {
            w.map(1, Kind.ANONYMOUS, 6);
            w.unmap(1, 3, 1);
            w.protect(1, 2, 1, Memory.Protection.READ);
            w.migrateToDevice(0, 1, 2, 1);
            w.fault(0, 1, 2, 2, Access.WRITE);
        }
    }

    /**
     * Found on built-7.2-debug by the first campaign over several processes ({@code --jobs 2},
     * campaign seed 20261204, job-2 program seed 6251270057345983112, shrunk to 6 steps that pass
     * alone): closing a mirror in one process briefly hid another process's pages in device memory
     * from it. The eviction on close handed the whole device-memory chunk to
     * {@code migrate_device_range()}, which unmaps every page it is given in every process that
     * maps it (this process's mirror was invalidated and its snapshot saw no device page) and maps
     * back those it does not migrate. Fixed in kmod/dmem.c: a close evicts runs of its own pages
     * only.
     */
    @Test
    void aMirrorClosedInAnotherProcessLeavesThisProcesssDevicePagesAlone() throws Exception {
        try (Mirror mirror = Mirror.open(0); Memory mem = Memory.anonymous(16)) {
            assumeTrue(mirror.version().has(Capability.MIGRATE), "kernel " + System.getProperty("os.version")
                    + " lacks CONFIG_DEVICE_PRIVATE: no device memory");
            mem.fill((byte) 0x5a);
            assertEquals(16, mirror.migrateToDevice(mem.address(), 16).migrated(), "16 pages to device 0");
            mirror.invalidations(); // what the migration itself reported
            List<String> cmd = new ArrayList<>(ChildJvm.command(DeviceMemoryElsewhere.class.getName(),
                    "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "--enable-native-access=ALL-UNNAMED"));
            cmd.add("64");
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(300, TimeUnit.SECONDS), "the other process hung:\n" + out);
            assertEquals(0, p.exitValue(), "the other process migrated and closed:\n" + out);
            long end = mem.address() + 16L * Memory.pageSize();
            List<Invalidation> mine = mirror.invalidations().stream().filter(e -> e.overlaps(mem.address(), end))
                    .toList();
            assertEquals(List.of(), mine, "another process's close must not invalidate this process's device pages");
            Snapshot s = mirror.snapshot(mem);
            assertTrue(s.all(PageState.DEVICE_PRIVATE), "all 16 pages still in device 0's memory: " + s);
            byte[] got = mirror.read(mem.address(), 16);
            for (int i = 0; i < got.length; i++) {
                assertEquals((byte) 0x5a, got[i], "byte " + i + " read from device memory");
            }
        }
    }

    /**
     * Found on built-7.2-debug by the campaign of seed 20261208 (two jobs and fuzzing beside it;
     * program seed 3066220762770765111, shrunk to 12 steps that pass alone): a page of a THP region
     * the model had in device 1's memory was in device 0's after device 0 migrated the region. The
     * kernel's khugepaged had brought it back meanwhile: it counts a device-private entry as a swap
     * entry and "swaps in" up to {@code max_ptes_swap} (64) of them, i.e. migrates them back from
     * device memory, to collapse the range into a THP ({@code ThpMigrationIT} shows the same with
     * {@code MADV_COLLAPSE}); a model checked after every step cannot know when. The explorer now
     * keeps khugepaged off ranges in device memory while it runs ({@code max_ptes_swap} 0). This
     * shows both halves with khugepaged scanning every 100 ms: without that setting the pages come
     * back; with it they stay.
     */
    @Test
    void khugepagedBringsDevicePagesBackUnlessTheExplorerKeepsItOff() throws Exception {
        Path khugepaged = Path.of("/sys/kernel/mm/transparent_hugepage/khugepaged");
        assumeTrue(Files.isDirectory(khugepaged), "the kernel lacks CONFIG_TRANSPARENT_HUGEPAGE");
        String sleep = Files.readString(khugepaged.resolve("scan_sleep_millisecs")).strip();
        String scan = Files.readString(khugepaged.resolve("pages_to_scan")).strip();
        String swap = Files.readString(khugepaged.resolve("max_ptes_swap")).strip();
        try (Mirror mirror = Mirror.open(0)) {
            assumeTrue(mirror.version().has(Capability.MIGRATE), "kernel " + System.getProperty("os.version")
                    + " lacks CONFIG_DEVICE_PRIVATE: no device memory");
            Files.writeString(khugepaged.resolve("scan_sleep_millisecs"), "100");
            Files.writeString(khugepaged.resolve("pages_to_scan"), "4096");
            long took;
            try (Memory m = thpWithPagesInDeviceMemory(mirror)) {
                long start = System.nanoTime();
                long deadline = start + 30_000_000_000L;
                while (mirror.snapshot(m).count(PageState.DEVICE_PRIVATE) > 0 && System.nanoTime() < deadline) {
                    Thread.sleep(100);
                }
                took = System.nanoTime() - start;
                assumeTrue(mirror.snapshot(m).none(PageState.DEVICE_PRIVATE), "khugepaged did not collapse the range"
                        + " within 30 s on kernel " + System.getProperty("os.version") + ": nothing to keep it from");
                System.out.printf("[explore] khugepaged brought 20 pages back from device memory in %.1f s%n",
                        took / 1e9);
            }
            try (AutoCloseable held = Kernel.keepKhugepagedOffDeviceMemory();
                    Memory m = thpWithPagesInDeviceMemory(mirror)) {
                assertEquals("0", Files.readString(khugepaged.resolve("max_ptes_swap")).strip());
                Thread.sleep(Math.max(3_000, 3 * took / 1_000_000));
                Snapshot s = mirror.snapshot(m);
                assertEquals(20, s.count(PageState.DEVICE_PRIVATE), "the pages stay in device memory: " + s);
            }
            assertEquals(swap, Files.readString(khugepaged.resolve("max_ptes_swap")).strip(), "restored on close");
        } finally {
            Files.writeString(khugepaged.resolve("scan_sleep_millisecs"), sleep);
            Files.writeString(khugepaged.resolve("pages_to_scan"), scan);
            Files.writeString(khugepaged.resolve("max_ptes_swap"), swap);
        }
    }

    /** A collapsed THP whose pages 100-119 are in device memory (the kernel splits its PMD for that). */
    private static Memory thpWithPagesInDeviceMemory(Mirror mirror) throws Exception {
        int pages = (int) (Memory.hugePageSize() / Memory.pageSize());
        Memory m = Memory.hugeAnonymous(1);
        try {
            m.fill((byte) 0x3c);
            m.adviseCollapse(0, pages);
            assertEquals(20, mirror.migrateToDevice(m.address() + 100 * Memory.pageSize(), 20).migrated(),
                    "20 pages to device memory");
            return m;
        } catch (Exception | Error e) {
            m.close();
            throw e;
        }
    }
}
