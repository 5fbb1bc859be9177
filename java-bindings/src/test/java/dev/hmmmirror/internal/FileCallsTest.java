package dev.hmmmirror.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hmmmirror.Errno;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * open, ioctl and close go through {@code syscall(2)} with one downcall shape (docs/performance.md,
 * run M): each still returns the result or {@code -errno}, and an ioctl's argument segment is still
 * checked to be alive, as it was with libc's own wrappers.
 */
class FileCallsTest {
    @Test
    void eachCallReturnsItsResultOrMinusErrno() {
        assertEquals(-Errno.ENOENT.number(), Posix.open("/nonexistent/hmm-mirror", Posix.O_RDWR | Posix.O_CLOEXEC));
        int fd = Posix.open("/dev/null", Posix.O_RDWR | Posix.O_CLOEXEC);
        assertTrue(fd >= 0, "open(/dev/null): " + fd);
        try (Arena arena = Arena.ofConfined()) {
            assertEquals(-Errno.ENOTTY.number(), Posix.ioctl(fd, 0xc0104800L, arena.allocate(16)));
        }
        assertEquals(0, Posix.close(fd));
        assertEquals(-Errno.EBADF.number(), Posix.close(fd));
        assertEquals(-Errno.EBADF.number(), Posix.ioctl(fd, 0xc0104800L, MemorySegment.NULL));
    }

    @Test
    void openPassesItsFlags(@TempDir Path dir) throws Exception {
        Path created = dir.resolve("created");
        int fd = Posix.open(created.toString(), Posix.O_RDWR | Posix.O_CREAT | Posix.O_CLOEXEC);
        assertTrue(fd >= 0, "open(O_CREAT): " + fd);
        assertEquals(0, Posix.close(fd));
        assertTrue(Files.exists(created), "O_CREAT reached the kernel");
        assertEquals(-Errno.ENOENT.number(), Posix.open(dir.resolve("absent").toString(), Posix.O_RDWR));
    }

    @Test
    void anIoctlArgumentOfAClosedArenaIsRefusedBeforeTheKernelSeesIt() {
        int fd = Posix.open("/dev/null", Posix.O_RDWR | Posix.O_CLOEXEC);
        try {
            MemorySegment dead;
            try (Arena arena = Arena.ofConfined()) {
                dead = arena.allocate(16);
            }
            assertThrows(IllegalStateException.class, () -> Posix.ioctl(fd, 0xc0104800L, dead));
        } finally {
            Posix.close(fd);
        }
    }
}
