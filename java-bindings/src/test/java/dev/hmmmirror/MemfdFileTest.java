package dev.hmmmirror;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A memfd's file stays reachable while its Memory is open (no module needed: a host test). */
class MemfdFileTest {
    @Test
    void theMemfdIsReachableThroughItsFileUntilClose() throws Exception {
        Path file;
        try (Memory mem = Memory.memfd(2)) {
            file = mem.file().orElseThrow();
            assertTrue(file.toString().startsWith("/proc/self/fd/"), file.toString());
            mem.fill((byte) 9);
            byte[] expected = new byte[(int) (2 * Memory.pageSize())];
            Arrays.fill(expected, (byte) 9);
            assertArrayEquals(expected, Files.readAllBytes(file), "the file holds what the CPU wrote");
            Files.write(file, new byte[] {1, 2, 3}, java.nio.file.StandardOpenOption.WRITE);
            assertEquals(1, mem.getByte(0), "what is written to the file is in the mapping");
            assertEquals(3, mem.getByte(2));
        }
        Memory closed = Memory.memfd(1);
        closed.close();
        assertThrows(IllegalStateException.class, closed::file, "a closed memfd has no file");
    }

    @Test
    void aFileMappingNamesItsPathAndAnonymousMemoryNone(@TempDir Path dir) throws Exception {
        try (Memory f = Memory.file(dir.resolve("backing"), 1); Memory anon = Memory.anonymous(1)) {
            assertEquals(dir.resolve("backing").toAbsolutePath(), f.file().orElseThrow());
            assertTrue(anon.file().isEmpty());
        }
    }
}
