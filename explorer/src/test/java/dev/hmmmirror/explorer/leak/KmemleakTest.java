package dev.hmmmirror.explorer.leak;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** A kmemleak report is split into our leaks (a frame in hmm_mirror) and the kernel's own. */
class KmemleakTest {
    static final String REPORT = """
            unreferenced object 0xffff888003a1c000 (size 64):
              comm "insmod", pid 231, jiffies 4294893120
              hex dump (first 32 bytes):
                68 6d 6d 5f 64 6d 69 72 72 6f 72 30 00 00 00 00  hmm_dmirror0....
              backtrace (crc 5d3c1b2a):
                __kmalloc_node_track_caller+0x1c2/0x3b0
                kvasprintf+0x6d/0xd0
                dev_set_name+0x5a/0x80
                dmirror_device_init+0x2b/0x120 [test_hmm]
            unreferenced object 0xffff888004b2e400 (size 1024):
              comm "java", pid 402, jiffies 4294901234
              backtrace (crc 12ab34cd):
                __kmalloc_noprof+0x1f5/0x4a0
                hmm_mirror_events_init+0x2a/0x60 [hmm_mirror]
                hmm_mirror_init_mirror+0x88/0x1a0 [hmm_mirror]
                hmm_mirror_open+0x61/0xf0 [hmm_mirror]
            """;

    @Test
    void oursAreTheEntriesWithAFrameInTheModule() {
        Kmemleak k = Kmemleak.parse(REPORT);
        assertEquals(1, k.ours().size(), k.toString());
        assertTrue(k.ours().get(0).contains("hmm_mirror_events_init"));
        assertEquals(1, k.others().size());
        assertTrue(k.others().get(0).contains("[test_hmm]"));
    }

    @Test
    void anEmptyReportHasNoLeaks() {
        Kmemleak k = Kmemleak.parse("");
        assertEquals(0, k.ours().size() + k.others().size());
    }
}
