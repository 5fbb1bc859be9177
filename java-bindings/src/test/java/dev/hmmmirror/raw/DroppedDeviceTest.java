package dev.hmmmirror.raw;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 25 ("noticed by a new user"): a {@link RawDevice} (like a {@code Mirror}, through the same
 * {@code DeviceFile}) dropped without {@code close()} used to keep its descriptor until the process
 * exited; a cleaner now closes it once it is unreachable, and never one still in use. On the host
 * the device is any file: here a file of the test's own, so its descriptors can be counted.
 */
class DroppedDeviceTest {
    private static final int DROPPED = 150;

    /** How many of this process's descriptors are open on {@code file}. */
    private static long descriptorsOn(Path file) throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.filter(fd -> {
                try {
                    return Files.readSymbolicLink(fd).equals(file);
                } catch (IOException gone) {
                    return false; // the listing's own descriptor, closed by now
                }
            }).count();
        }
    }

    private static void openAndDrop(Path file, int n) throws Exception {
        for (int i = 0; i < n; i++) {
            RawDevice.open(file.toString()).read(RawBuffer.allocate(8));
        }
    }

    @Test
    void droppedDevicesAreClosedByTheCleanerAndAKeptOneStaysOpen(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("device"), "").toRealPath();
        try (RawDevice kept = RawDevice.open(file.toString())) {
            openAndDrop(file, DROPPED);
            assertEquals(DROPPED + 1, descriptorsOn(file), "each open is a descriptor");
            long left = DROPPED + 1;
            for (int i = 0; i < 100 && left > 1; i++) {
                System.gc();
                Thread.sleep(50);
                left = descriptorsOn(file);
            }
            assertEquals(1, left, DROPPED + " devices dropped without close(): their descriptors must be closed once "
                    + "they are unreachable, the kept one must stay open");
            assertEquals(0, kept.read(RawBuffer.allocate(8)), "the device still referenced still works");
            assertTrue(!kept.isClosed());
        }
        assertEquals(0, descriptorsOn(file));
    }
}
