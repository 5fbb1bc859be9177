package dev.hmmmirror.guest;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Free hugetlbfs pages for a test: raises {@code /proc/sys/vm/nr_hugepages} until the pool has the
 * free pages asked for, and puts the old size back on close. Skips the test, saying why, when the
 * kernel has no hugetlbfs or cannot find the memory. {@link #keep()} only remembers the size, for
 * code that reserves pages itself (the explorer reserves four): the guest agent fails a test that
 * leaves the pool bigger than it found it.
 */
public final class HugetlbPool implements AutoCloseable {
    private static final Path NR = Path.of("/proc/sys/vm/nr_hugepages");
    private static final Path FREE = Path.of("/sys/kernel/mm/hugepages");
    private final long before;

    private HugetlbPool(long before) {
        this.before = before;
    }

    /** The pool's size now, put back on close (nothing to put back on a kernel without hugetlbfs). */
    public static HugetlbPool keep() throws IOException {
        return new HugetlbPool(Files.isWritable(NR) ? Long.parseLong(Files.readString(NR).strip()) : -1);
    }

    /**
     * Raises the pool until it has {@code free} free pages; skips the test, saying why, when it cannot.
     *
     * @param free the free huge pages needed
     * @return the pool, put back to its old size on close
     * @throws IOException when /proc/sys/vm/nr_hugepages cannot be read or written
     */
    public static HugetlbPool reserve(long free) throws IOException {
        assumeTrue(Files.isWritable(NR), "no hugetlbfs in kernel " + System.getProperty("os.version")
                + " (CONFIG_HUGETLBFS): " + NR + " is missing");
        long before = Long.parseLong(Files.readString(NR).strip());
        HugetlbPool pool = new HugetlbPool(before);
        long have = meminfo("HugePages_Free:");
        if (have < free) {
            Files.writeString(NR, Long.toString(before + free - have));
        }
        long now = meminfo("HugePages_Free:");
        if (now < free) {
            pool.close();
            assumeTrue(false, "the kernel found only " + now + " free huge pages of the " + free + " asked for (memory "
                    + "too fragmented or too small; " + FREE + ")");
        }
        return pool;
    }

    /** Huge pages of the pool in use now. */
    long inUse() throws IOException {
        return meminfo("HugePages_Total:") - meminfo("HugePages_Free:");
    }

    private static long meminfo(String key) throws IOException {
        return Files.readAllLines(Path.of("/proc/meminfo")).stream().filter(l -> l.startsWith(key))
                .mapToLong(l -> Long.parseLong(l.replaceAll("[^0-9]", ""))).findFirst().orElse(0);
    }

    @Override
    public void close() throws IOException {
        if (before >= 0) {
            Files.writeString(NR, Long.toString(before));
        }
    }

    @Override
    public String toString() {
        try {
            return "hugetlb pool: total " + meminfo("HugePages_Total:") + ", free " + meminfo("HugePages_Free:");
        } catch (IOException e) {
            return "hugetlb pool: " + e.getMessage();
        }
    }
}
