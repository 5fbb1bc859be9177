package dev.hmmmirror.agent;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The kernel's global memory-management knobs around each test: their values before the test, and
 * after it every knob the test changed and did not put back, which this class then puts back.
 *
 * <p>All tests of a guest share one kernel. A test that leaves, say, automatic NUMA balancing on
 * (it did, in December 2026) makes later tests of the same guest fail in ways that depend on
 * the class order: CI saw {@code CopyOnWriteIT} read PROT_NONE hinting entries as missing pages,
 * two tests after {@code NumaMigrationIT}. The agent therefore fails a test that changes a knob
 * without restoring it (naming the knob, the old and the new value) and restores it, so that the
 * tests after it run on the kernel's settings of the session again.
 *
 * <p>The knobs: {@code /proc/sys/kernel/numa_balancing}, the memory sysctls tests tune
 * ({@code vm.nr_hugepages}, overcommit, swappiness, dirty writeback, compaction, reclaim; not
 * {@code min_free_kbytes}, which the kernel itself raises when THP is switched on), every
 * file of {@code /sys/kernel/mm/transparent_hugepage} and its {@code khugepaged} and per-size
 * ({@code hugepages-*kB}) directories, every hugetlb pool ({@code /sys/kernel/mm/hugepages/*})
 * and KSM's controls. Files missing on a kernel are left out; a knob that cannot be read is left out.
 */
final class KnobGuard {
    /** Single files, relative to the root ({@code /} in the guest). */
    static final List<String> FILES = List.of(
            "proc/sys/kernel/numa_balancing",
            "proc/sys/kernel/randomize_va_space",
            "proc/sys/vm/nr_hugepages",
            "proc/sys/vm/nr_overcommit_hugepages",
            "proc/sys/vm/overcommit_memory",
            "proc/sys/vm/overcommit_ratio",
            "proc/sys/vm/swappiness",
            "proc/sys/vm/page-cluster",
            "proc/sys/vm/dirty_expire_centisecs",
            "proc/sys/vm/dirty_writeback_centisecs",
            "proc/sys/vm/dirty_ratio",
            "proc/sys/vm/dirty_background_ratio",
            "proc/sys/vm/compaction_proactiveness",
            "proc/sys/vm/extfrag_threshold",
            "proc/sys/vm/zone_reclaim_mode",
            "proc/sys/vm/watermark_scale_factor",
            "proc/sys/vm/max_map_count");

    /** Directories whose regular, writable files are knobs; a {@code *} part matches any entry. */
    static final List<String> DIRECTORIES = List.of(
            "sys/kernel/mm/transparent_hugepage",
            "sys/kernel/mm/transparent_hugepage/khugepaged",
            "sys/kernel/mm/transparent_hugepage/hugepages-*",
            "sys/kernel/mm/hugepages/*",
            "sys/kernel/mm/ksm");

    /** Files of those directories that are counters or read-only facts, not settings. */
    private static final List<String> NOT_SETTINGS = List.of("free_hugepages", "resv_hugepages", "surplus_hugepages",
            "hpage_pmd_size", "full_scans", "pages_collapsed", "pages_shared", "pages_sharing", "pages_unshared",
            "pages_volatile", "pages_skipped", "pages_scanned", "stable_node_chains",
            "stable_node_dups", "general_profit", "ksm_zero_pages", "zero_pages_sharing", "stats");

    private final Path root;

    KnobGuard(Path root) {
        this.root = root;
    }

    /** The guard of the running guest's kernel. */
    static KnobGuard ofThisKernel() {
        return new KnobGuard(Path.of("/"));
    }

    /** Every knob there is on this kernel, with its value now (file contents, trimmed). */
    Map<Path, String> snapshot() {
        Map<Path, String> values = new LinkedHashMap<>();
        for (String f : FILES) {
            read(root.resolve(f), values);
        }
        for (String d : DIRECTORIES) {
            for (Path dir : expand(d)) {
                try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
                    for (Path f : files) {
                        if (isSetting(f)) {
                            read(f, values);
                        }
                    }
                } catch (IOException | RuntimeException e) {
                    // a directory this kernel does not have, or cannot list: no knobs from it
                }
            }
        }
        return values;
    }

    /** A knob a test changed: its value before the test and after it. */
    record Change(Path knob, String before, String after, boolean restored) {
        @Override
        public String toString() {
            return knob + " was '" + before + "', the test left '" + after + "'"
                    + (restored ? " (put back by the agent)" : " (could not be put back)");
        }
    }

    /**
     * Compares the knobs with {@code before} and writes every changed one back (in the order of the
     * snapshot: a hugetlb pool's size before its overcommit, the THP switch before khugepaged).
     */
    List<Change> restore(Map<Path, String> before) {
        Map<Path, String> now = snapshot();
        List<Change> changes = new ArrayList<>();
        for (Map.Entry<Path, String> e : before.entrySet()) {
            String after = now.get(e.getKey());
            if (after == null || after.equals(e.getValue())) {
                continue;
            }
            changes.add(new Change(e.getKey(), e.getValue(), after, write(e.getKey(), e.getValue())));
        }
        return changes;
    }

    /** The message of a test that left knobs changed. */
    static String message(List<Change> changes) {
        StringBuilder b = new StringBuilder("the test changed the kernel's global settings and did not put them back;"
                + " later tests of this guest would have run with them (restore what a test changes, e.g. in a"
                + " finally block or an AutoCloseable hold):");
        for (Change c : changes) {
            b.append("\n  ").append(c);
        }
        return b.toString();
    }

    private List<Path> expand(String pattern) {
        List<Path> dirs = new ArrayList<>(List.of(root));
        for (String part : pattern.split("/")) {
            List<Path> next = new ArrayList<>();
            for (Path d : dirs) {
                if (!part.contains("*")) {
                    next.add(d.resolve(part));
                    continue;
                }
                try (DirectoryStream<Path> s = Files.newDirectoryStream(d, part)) {
                    s.forEach(next::add);
                } catch (IOException | RuntimeException e) {
                    // nothing matches on this kernel
                }
            }
            dirs = next;
        }
        return dirs.stream().filter(Files::isDirectory).toList();
    }

    /**
     * A regular file whose mode lets its owner write it, and not a counter. (Not {@code isWritable}: for
     * root, access(2) says yes to every file, also sysfs's read-only ones.)
     */
    private static boolean isSetting(Path f) {
        try {
            return Files.isRegularFile(f) && !NOT_SETTINGS.contains(f.getFileName().toString())
                    && Files.getPosixFilePermissions(f).contains(PosixFilePermission.OWNER_WRITE);
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    private static void read(Path f, Map<Path, String> values) {
        try {
            values.put(f, Files.readString(f).strip());
        } catch (IOException | RuntimeException e) {
            // not on this kernel, or not readable: not a knob here
        }
    }

    /**
     * Writes a value back. The THP switches read as the choice list with the current one in brackets
     * ("always [madvise] never"); the kernel takes only the word.
     */
    private static boolean write(Path f, String value) {
        String v = value;
        int open = v.indexOf('['), close = v.indexOf(']');
        if (open >= 0 && close > open) {
            v = v.substring(open + 1, close);
        }
        try {
            Files.writeString(f, v);
            return true;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }
}
