package dev.hmmmirror;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The records' texts, built without java.util.Formatter (its first use costs a guest JVM ~0.6 s under TCG). */
class ToStringTest {
    @Test
    void anInvalidationReadsAsItDid() {
        Invalidation i = new Invalidation(7, 0x7f00_0000_0000L, 0x7f00_0000_2000L, 42, Invalidation.Reason.CLEAR, true,
                true, 2);
        assertEquals(String.format("Invalidation#%d[%s 0x%x-0x%x, %d pages, seq %d%s]", 7L, Invalidation.Reason.CLEAR,
                0x7f00_0000_0000L, 0x7f00_0000_2000L, 2L, 42L, ", after overflow"), i.toString());
        assertEquals("Invalidation#7[UNMAP 0x1000-0x3000, 2 pages, seq 42]",
                new Invalidation(7, 0x1000, 0x3000, 42, Invalidation.Reason.UNMAP, false, false, 2).toString());
    }

    @Test
    void aPageFrameReadsAsItDid() {
        assertEquals("PageFrame[cpu 0x1a2b, device -, ref 3, map 1]", new PageFrame(0x1a2b, PageFrame.NONE, 3, 1).toString());
        assertEquals(String.format("PageFrame[cpu %s, device %s, ref %d, map %d]", "0x" + "ffff", "0x10", -1, 0),
                new PageFrame(0xffff, 0x10, -1, 0).toString());
    }
}
