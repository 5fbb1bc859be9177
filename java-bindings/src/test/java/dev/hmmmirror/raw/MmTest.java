package dev.hmmmirror.raw;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hmmmirror.Errno;
import dev.hmmmirror.Memory;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/** The raw mm calls on the host: what the kernel returns, errno included, nothing interpreted. */
class MmTest {
    private static final long PAGE = Memory.pageSize();

    @Test
    void aFixedNoReplaceMappingOverAnotherIsEexistAndTheCallsReturnErrnos() {
        long base = Mm.mmap(0, 2 * PAGE, Mm.PROT_READ | Mm.PROT_WRITE, Mm.MAP_PRIVATE | Mm.MAP_ANONYMOUS, -1, 0);
        assertTrue(base > 0, "mmap: " + base);
        try {
            MemorySegment m = MemorySegment.ofAddress(base).reinterpret(2 * PAGE);
            m.set(ValueLayout.JAVA_LONG, 0, 42);
            assertEquals(-Errno.EEXIST.number(), Mm.mmap(base, PAGE, Mm.PROT_NONE,
                    Mm.MAP_PRIVATE | Mm.MAP_ANONYMOUS | Mm.MAP_FIXED_NOREPLACE, -1, 0));
            assertEquals(0, Mm.madvise(base, PAGE, Mm.MADV_DONTNEED));
            assertEquals(0, m.get(ValueLayout.JAVA_LONG, 0), "private anonymous memory reads zero after DONTNEED");
            assertEquals(0, Mm.mprotect(base, PAGE, Mm.PROT_READ));
            assertEquals(-Errno.EINVAL.number(), Mm.mprotect(base + 1, PAGE, Mm.PROT_READ), "unaligned");
            assertEquals(-Errno.EINVAL.number(), Mm.madvise(base, PAGE, -1), "no such advice");
        } finally {
            assertEquals(0, Mm.munmap(base, 2 * PAGE));
        }
        assertEquals(-Errno.EINVAL.number(), Mm.munmap(base + 1, PAGE));
    }

    @Test
    void movePagesSaysWhereEachPageIsAndThrowsWhenTheCallFails() {
        long base = Mm.mmap(0, 2 * PAGE, Mm.PROT_READ | Mm.PROT_WRITE, Mm.MAP_PRIVATE | Mm.MAP_ANONYMOUS, -1, 0);
        try {
            MemorySegment.ofAddress(base).reinterpret(PAGE).set(ValueLayout.JAVA_LONG, 0, 1);
            int[] status = Mm.movePages(new long[] {base, base + PAGE}, -1);
            assertTrue(status[0] >= 0, "a present page: its node, got " + status[0]);
            assertEquals(-Errno.ENOENT.number(), status[1], "a page never touched is not present");
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> Mm.movePages(new long[] {base}, 1 << 20));
            assertTrue(e.getMessage().contains("ENODEV") || e.getMessage().contains("EINVAL"), e.getMessage());
        } finally {
            Mm.munmap(base, 2 * PAGE);
        }
    }
}
