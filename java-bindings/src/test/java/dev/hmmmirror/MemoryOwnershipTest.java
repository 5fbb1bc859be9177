package dev.hmmmirror;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hmmmirror.internal.Posix;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * Bug 3 of issue 10: a {@link Memory} owns only what it has not unmapped. Once part of it is
 * unmapped, anything in the process (the JVM, a library) may map something new into the hole;
 * {@code close()} and a second {@code unmap} must leave that mapping alone. Needs no kernel module.
 */
class MemoryOwnershipTest {
    private static final long PAGE = Posix.pageSize();

    /** Maps two anonymous pages exactly at {@code address} (never over an existing mapping). */
    private static long mapIntoHole(long address, long pages) {
        long a = Posix.mmap(address, pages * PAGE, Posix.PROT_READ | Posix.PROT_WRITE,
                Posix.MAP_PRIVATE | Posix.MAP_ANONYMOUS | Posix.MAP_FIXED_NOREPLACE, -1, 0);
        assertEquals(address, a, "MAP_FIXED_NOREPLACE into the hole (errno " + -a + ")");
        return a;
    }

    /** Whether every byte of {@code [start, end)} is inside a mapping, per /proc/self/maps. */
    private static boolean mapped(long start, long end) throws IOException {
        long covered = start;
        boolean progress = true;
        while (covered < end && progress) {
            progress = false;
            for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
                String[] range = line.substring(0, line.indexOf(' ')).split("-");
                long from = Long.parseUnsignedLong(range[0], 16);
                long to = Long.parseUnsignedLong(range[1], 16);
                if (from <= covered && covered < to) {
                    covered = to;
                    progress = true;
                }
            }
        }
        return covered >= end;
    }

    @Test
    void closeAfterPartialUnmapLeavesWhatWasMappedIntoTheHoleAlone() throws Exception {
        Memory mem = Memory.anonymous(4);
        long hole = mem.address() + PAGE;
        mem.unmap(1, 2);
        long other = mapIntoHole(hole, 2);
        try {
            MemorySegment.ofAddress(other).reinterpret(2 * PAGE).fill((byte) 0x42);
            mem.close();
            assertTrue(mapped(other, other + 2 * PAGE),
                    "close() unmapped pages 1-2, which the Memory had given up and someone else mapped since");
            assertEquals(0x42, MemorySegment.ofAddress(other).reinterpret(2 * PAGE)
                    .get(ValueLayout.JAVA_BYTE, 2 * PAGE - 1), "the new mapping's contents survive");
            assertFalse(mapped(mem.address(), mem.address() + PAGE), "page 0 (still owned) is unmapped by close()");
            assertFalse(mapped(hole + 2 * PAGE, hole + 3 * PAGE), "page 3 (still owned) is unmapped by close()");
        } finally {
            Posix.munmap(other, 2 * PAGE);
        }
    }

    @Test
    void unmappingAHoleAgainLeavesWhatWasMappedIntoItAlone() throws Exception {
        try (Memory mem = Memory.anonymous(3)) {
            long hole = mem.address() + PAGE;
            mem.unmap(1, 1);
            long other = mapIntoHole(hole, 1);
            try {
                mem.unmap(0, 3);
                assertTrue(mapped(other, other + PAGE), "unmap(0, 3) unmapped page 1, no longer the Memory's");
            } finally {
                Posix.munmap(other, PAGE);
            }
        }
    }

    /** Maps {@code pages} of 0x5a bytes and drops the {@code Memory}; returns the address. */
    private static long mapAndDrop(long pages) throws Exception {
        Memory mem = Memory.anonymous(pages);
        mem.fill((byte) 0x5a);
        return mem.address();
    }

    @Test
    void aMemoryDroppedWithoutCloseStaysMappedUntilTheProcessExits() throws Exception {
        long a = mapAndDrop(3);
        try {
            for (int i = 0; i < 3; i++) {
                System.gc();
                Thread.sleep(50);
            }
            assertTrue(mapped(a, a + 3 * PAGE), "the garbage collector unmapped a dropped Memory: its address "
                    + "may still be in use (the javadoc says it stays mapped)");
            assertEquals(0x5a, MemorySegment.ofAddress(a).reinterpret(3 * PAGE).get(ValueLayout.JAVA_BYTE, 3 * PAGE - 1));
        } finally {
            Posix.munmap(a, 3 * PAGE);
        }
    }
}
