package dev.hmmmirror.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hmmmirror.Errno;
import dev.hmmmirror.HmmException;
import org.junit.jupiter.api.Test;

/**
 * {@code pidfd_getfd(2)} through {@link Posix#pidfdGetfd} and {@link DeviceFile#ofProcess}: the duplicate is
 * the same open file, not a new one (a pipe's reader sees no end of file while only the duplicate of its
 * writer is open), and the refusals carry the kernel's errno.
 */
class PidfdGetfdTest {
    @Test
    void theDuplicateIsTheSameOpenFile() {
        int[] p = new int[2];
        assertEquals(0, Posix.pipe(p));
        int dup = Posix.pidfdGetfd(Posix.getpid(), p[1]);
        try {
            assertTrue(dup >= 0, "pidfd_getfd of our own pipe: " + dup);
            assertEquals(0, Posix.close(p[1]));
            assertEquals(0, Posix.pollIn(p[0], 0), "the duplicate still holds the pipe's writer open");
            assertEquals(0, Posix.close(dup));
            dup = -1;
            assertEquals(1, Posix.pollIn(p[0], 0), "the last writer closed: the reader sees the hang-up");
        } finally {
            if (dup >= 0) {
                Posix.close(dup);
            }
            Posix.close(p[0]);
        }
    }

    @Test
    void aMissingDescriptorIsEbadfAndAMissingProcessEsrch() {
        HmmException noFd = assertThrows(HmmException.class, () -> DeviceFile.ofProcess(Posix.getpid(), 99_999));
        assertEquals(Errno.EBADF.number(), noFd.errno(), noFd.getMessage());
        assertTrue(noFd.getMessage().contains("has no descriptor 99999"), noFd.getMessage());
        HmmException noPid = assertThrows(HmmException.class, () -> DeviceFile.ofProcess(Integer.MAX_VALUE, 0));
        assertEquals(Errno.ESRCH.number(), noPid.errno(), noPid.getMessage());
    }
}
