package dev.hmmmirror.guest.mm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hmmmirror.Invalidation.Reason;
import dev.hmmmirror.Memory;
import dev.hmmmirror.Mirror;
import dev.hmmmirror.junit.GuestTest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Writeback, nothing lost: device writes into a shared mapping of a file on ext4 (a block-backed
 * file system, on a loop device) reach the disk. The data-loss case HMM must get right: writeback
 * write-protects a page it cleans (folio_mkclean, an invalidation), so a device write after it must
 * fault again and dirty the page; a device that kept writing through its old mapping would write
 * into a clean page, and the write would be lost when the page cache is dropped.
 */
@GuestTest
class WritebackIT {
    private static final Path DIR = Path.of("/mnt/hmm-ext4");
    private static final int PAGES = 32;

    @BeforeEach
    void mount() {
        Machinery.requireExt4(DIR, 32);
    }

    @AfterEach
    void unmount() {
        Machinery.unmountExt4(DIR);
    }

    /** Unmounts and mounts the file system again: what is read afterwards comes from the disk. */
    private static void remount() {
        Machinery.Result u = Machinery.sh("umount", DIR.toString());
        assertEquals(0, u.code(), "umount: " + u.output());
        Machinery.dropCaches();
        Machinery.Result m = Machinery.sh("mount", "-o", "loop", "/tmp/hmm-ext4.img", DIR.toString());
        assertEquals(0, m.code(), "mount: " + m.output());
    }

    @Test
    void deviceWritesToAFileMappingSurviveMsyncAndADroppedPageCache() throws Exception {
        Path file = DIR.resolve("device-written");
        byte[] data = Coherence.expected(PAGES, 0xa0);
        Set<Reason> reasons;
        try (Mirror mirror = Mirror.open(0); Memory mem = Memory.file(file, PAGES)) {
            long a = mem.address();
            try (EventWatch w = EventWatch.start(mirror)) {
                mirror.write(a, data);
                Sys.msync(a, PAGES * Coherence.PAGE);
                w.close();
                reasons = w.reasons(a, a + PAGES * Coherence.PAGE);
            }
        }
        remount();
        assertArrayEquals(data, Files.readAllBytes(file), "the device's writes did not reach the disk");
        MmReport.record("writeback: device write, msync, reread", reasons, "pass: " + PAGES
                + " device-written pages on disk");
    }

    @Test
    void deviceWritesRacingWritebackAreNeverLost() throws Exception {
        Path file = DIR.resolve("raced");
        Path expire = Path.of("/proc/sys/vm/dirty_expire_centisecs");
        Path interval = Path.of("/proc/sys/vm/dirty_writeback_centisecs");
        String oldExpire = Machinery.read(expire), oldInterval = Machinery.read(interval);
        int rounds = 12;
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong flushes = new AtomicLong();
        Set<Reason> reasons = EnumSet.noneOf(Reason.class);
        try (Mirror mirror = Mirror.open(0); Memory mem = Memory.file(file, PAGES)) {
            long a = mem.address();
            long len = PAGES * Coherence.PAGE;
            Machinery.write(expire, "1");
            Machinery.write(interval, "1");
            Thread flusher = Thread.ofPlatform().name("writeback").start(() -> {
                while (!stop.get()) {
                    Sys.msync(a, len);
                    if (flushes.incrementAndGet() % 8 == 0) {
                        Machinery.sh("sync");
                    }
                }
            });
            byte[] page = new byte[(int) Coherence.PAGE];
            try (EventWatch w = EventWatch.start(mirror)) {
                for (int r = 1; r <= rounds; r++) {
                    for (int p = 0; p < PAGES; p++) {
                        Arrays.fill(page, (byte) (r * 16 + p));
                        mirror.write(a + p * Coherence.PAGE, page);
                    }
                }
                stop.set(true);
                flusher.join(60_000);
                Sys.msync(a, len);
                w.close();
                reasons.addAll(w.reasons(a, a + len));
            }
        } finally {
            stop.set(true);
            Machinery.write(expire, oldExpire);
            Machinery.write(interval, oldInterval);
        }
        assertTrue(flushes.get() > 1, "writeback must have overlapped the device writes");
        remount();
        byte[] disk = Files.readAllBytes(file);
        for (int p = 0; p < PAGES; p++) {
            byte want = (byte) (rounds * 16 + p);
            for (int i = 0; i < Coherence.PAGE; i++) {
                if (disk[(int) (p * Coherence.PAGE) + i] != want) {
                    throw new AssertionError("page " + p + " on disk holds " + disk[(int) (p * Coherence.PAGE) + i]
                            + " at +" + i + ", the device's last write was " + want + ": a device write was lost");
                }
            }
        }
        MmReport.record("writeback: device writes racing writeback", reasons, "pass: " + rounds * PAGES
                + " device writes, " + flushes.get() + " msyncs, none lost");
    }
}
