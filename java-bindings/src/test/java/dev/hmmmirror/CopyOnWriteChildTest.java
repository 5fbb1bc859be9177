package dev.hmmmirror;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * The copy-on-write child on the host (no module needed): it sits in {@code pause()}, its memory
 * is this process's as of the fork, later writes of either side are not shared, close kills and
 * reaps it.
 */
class CopyOnWriteChildTest {
    @Test
    void theChildKeepsTheMemoryAsOfTheForkAndWaitsInPause() throws Exception {
        try (Memory mem = Memory.anonymous(2)) {
            mem.fill((byte) 5);
            int pid;
            try (CopyOnWriteChild child = CopyOnWriteChild.fork()) {
                pid = child.pid();
                mem.setByte(0, (byte) 7);
                byte[] seen = child.bytes(mem.address(), 16);
                byte[] expected = new byte[16];
                Arrays.fill(expected, (byte) 5);
                assertArrayEquals(expected, seen, "the child keeps the bytes of the fork, not the parent's later write");
                assertEquals(7, mem.getByte(0));
                assertTrue(sleepsInPause(pid), "the child waits in pause(): /proc/" + pid + "/syscall");
            }
            assertFalse(Files.exists(Path.of("/proc/" + pid)), "close killed and reaped the child");
        }
    }

    @Test
    void manyChildrenComeAndGo() throws Exception {
        try (Memory mem = Memory.anonymous(1)) {
            for (int i = 0; i < 50; i++) {
                mem.setByte(0, (byte) i);
                try (CopyOnWriteChild child = CopyOnWriteChild.fork()) {
                    assertEquals((byte) i, child.bytes(mem.address(), 1)[0]);
                }
            }
        }
    }

    @Test
    void aClosedChildRefusesReads() throws Exception {
        CopyOnWriteChild child = CopyOnWriteChild.fork();
        child.close();
        child.close();
        assertThrows(IllegalStateException.class, () -> child.bytes(0, 1));
    }

    @Test
    void anEndOfFileIsEioWithItsOwnHintNotWrappedInItself() throws Exception {
        // /proc/PID/mem ends early only when the child exits between open and read; a short file
        // takes the same path through the read loop and its catch
        Path file = Files.createTempFile("cow-child", ".mem");
        try {
            Files.write(file, new byte[8]);
            HmmException e = assertThrows(HmmException.class, () -> CopyOnWriteChild.read(file, 0, 16));
            assertEquals(Errno.EIO.number(), e.errno());
            assertEquals("read " + file, e.operation());
            assertEquals("0x8", e.target(), "where the data ended");
            assertEquals("read " + file + " 0x8 failed: EIO (" + Errno.EIO.description()
                    + "): the child has no mapping there or has exited", e.getMessage());
        } finally {
            Files.delete(file);
        }
    }

    @Test
    void aChildThatIsGoneGivesEio() throws Exception {
        try (Memory mem = Memory.anonymous(1); CopyOnWriteChild child = CopyOnWriteChild.fork()) {
            // killed behind the object's back, not reaped: a zombie has no memory to read
            assertEquals(0, dev.hmmmirror.internal.Posix.kill(child.pid(), dev.hmmmirror.internal.Posix.SIGKILL));
            Path stat = Path.of("/proc/" + child.pid() + "/stat");
            for (int i = 0; i < 500 && !Files.readString(stat).contains(") Z "); i++) {
                Thread.sleep(10);
            }
            HmmException e = assertThrows(HmmException.class, () -> child.bytes(mem.address(), 8));
            assertEquals(Errno.EIO.number(), e.errno(), e.getMessage());
            assertEquals("read /proc/" + child.pid() + "/mem", e.operation());
        }
    }

    /** {@code /proc/PID/syscall} names the syscall a blocked task sits in: 34 is pause on x86-64. */
    private static boolean sleepsInPause(int pid) throws Exception {
        Path syscall = Path.of("/proc/" + pid + "/syscall");
        for (int i = 0; i < 200; i++) {
            String s = Files.readString(syscall).trim();
            if (s.startsWith("34 ")) {
                return true;
            }
            Thread.sleep(10);
        }
        return false;
    }
}
