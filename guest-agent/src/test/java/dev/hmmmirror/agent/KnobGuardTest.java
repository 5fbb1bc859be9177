package dev.hmmmirror.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The knob guard on a fake /proc and /sys laid out as a 7.x kernel's. */
class KnobGuardTest {
    @TempDir
    Path root;

    private KnobGuard guard;

    @BeforeEach
    void kernel() throws IOException {
        knob("proc/sys/kernel/numa_balancing", "0");
        knob("proc/sys/vm/nr_hugepages", "0");
        knob("sys/kernel/mm/transparent_hugepage/enabled", "always [madvise] never");
        knob("sys/kernel/mm/transparent_hugepage/khugepaged/pages_to_scan", "4096");
        knob("sys/kernel/mm/transparent_hugepage/hugepages-64kB/enabled", "always inherit madvise [never]");
        knob("sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages", "0");
        counter("sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages", "0");
        counter("sys/kernel/mm/transparent_hugepage/hpage_pmd_size", "2097152");
        knob("sys/kernel/mm/ksm/run", "0");
        counter("sys/kernel/mm/ksm/pages_shared", "0");
        guard = new KnobGuard(root);
    }

    @Test
    void aTestThatChangesNothingChangesNothing() {
        Map<Path, String> before = guard.snapshot();
        assertEquals(7, before.size(), "the writable settings, not the counters: " + before.keySet());
        assertEquals(List.of(), guard.restore(before));
    }

    @Test
    void knobsLeftChangedAreNamedAndPutBack() throws IOException {
        Map<Path, String> before = guard.snapshot();
        set("proc/sys/kernel/numa_balancing", "1");
        set("sys/kernel/mm/transparent_hugepage/enabled", "[always] madvise never");
        set("sys/kernel/mm/transparent_hugepage/hugepages-64kB/enabled", "always inherit [madvise] never");
        set("sys/kernel/mm/ksm/run", "1");
        List<KnobGuard.Change> changes = guard.restore(before);
        assertEquals(4, changes.size(), changes.toString());
        assertTrue(changes.stream().allMatch(KnobGuard.Change::restored));
        assertEquals("0", read("proc/sys/kernel/numa_balancing"));
        assertEquals("0", read("sys/kernel/mm/ksm/run"));
        // the kernel takes the word of a choice list, not the list
        assertEquals("madvise", read("sys/kernel/mm/transparent_hugepage/enabled"));
        assertEquals("never", read("sys/kernel/mm/transparent_hugepage/hugepages-64kB/enabled"));
        String message = KnobGuard.message(changes);
        assertTrue(message.contains(root.resolve("proc/sys/kernel/numa_balancing") + " was '0', the test left '1'"),
                message);
    }

    @Test
    void countersThatMoveAreNotKnobs() throws IOException {
        Map<Path, String> before = guard.snapshot();
        set("sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages", "3");
        set("sys/kernel/mm/ksm/pages_shared", "12");
        assertEquals(List.of(), guard.restore(before));
    }

    @Test
    void aHugetlbPoolLeftRaisedIsShrunkBack() throws IOException {
        Map<Path, String> before = guard.snapshot();
        set("proc/sys/vm/nr_hugepages", "4");
        set("sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages", "4");
        List<KnobGuard.Change> changes = guard.restore(before);
        assertEquals(2, changes.size(), changes.toString());
        assertEquals("0", read("proc/sys/vm/nr_hugepages"));
        assertEquals("0", read("sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"));
    }

    @Test
    void aKernelWithoutTheKnobsHasNone() {
        assertEquals(Map.of(), new KnobGuard(root.resolve("no-such-kernel")).snapshot());
    }

    private void knob(String path, String value) throws IOException {
        Path p = root.resolve(path);
        Files.createDirectories(p.getParent());
        Files.writeString(p, value + "\n");
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rw-r--r--"));
    }

    private void counter(String path, String value) throws IOException {
        knob(path, value);
        Files.setPosixFilePermissions(root.resolve(path), PosixFilePermissions.fromString("r--r--r--"));
    }

    private void set(String path, String value) throws IOException {
        Files.writeString(root.resolve(path), value + "\n");
    }

    private String read(String path) throws IOException {
        return Files.readString(root.resolve(path)).strip();
    }
}
