package dev.hmmmirror.explorer.leak;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * kmemleak, judged: at the end of a campaign on a kernel with CONFIG_DEBUG_KMEMLEAK, scan (twice,
 * as the kernel's documentation advises, so that objects allocated during the first scan are not
 * reported), read the suspected leaks and split them into ours (a backtrace frame in hmm_mirror)
 * and the kernel's own (e.g. test_hmm's device setup, seen on built kernels), which are reported
 * apart and do not fail a run.
 *
 * @param ours   reports whose backtrace names our module
 * @param others the rest
 */
public record Kmemleak(List<String> ours, List<String> others) {
    public static final Path FILE = Path.of("/sys/kernel/debug/kmemleak");

    /** Whether this kernel has kmemleak (mounting debugfs when it is not). */
    public static boolean available() {
        if (!Files.exists(FILE) && Files.isDirectory(Path.of("/sys/kernel/debug"))) {
            try {
                Process p = new ProcessBuilder("mount", "-t", "debugfs", "debugfs", "/sys/kernel/debug")
                        .redirectErrorStream(true).start();
                p.getInputStream().readAllBytes();
                p.waitFor(30, TimeUnit.SECONDS);
            } catch (IOException e) {
                return false;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return Files.isWritable(FILE);
    }

    /** Scans and reads the report. */
    public static Kmemleak scan() throws IOException {
        Files.writeString(FILE, "scan");
        Files.writeString(FILE, "scan");
        return parse(Files.readString(FILE));
    }

    /** Splits a kmemleak report into its entries ("unreferenced object ..." blocks), ours and others. */
    public static Kmemleak parse(String report) {
        List<String> ours = new ArrayList<>();
        List<String> others = new ArrayList<>();
        StringBuilder entry = null;
        for (String line : (report + "\nunreferenced object END").split("\n")) {
            if (line.startsWith("unreferenced object ")) {
                if (entry != null) {
                    String e = entry.toString();
                    (e.contains("hmm_mirror") ? ours : others).add(e);
                }
                entry = new StringBuilder();
            }
            if (entry != null) {
                entry.append(line).append('\n');
            }
        }
        return new Kmemleak(List.copyOf(ours), List.copyOf(others));
    }
}
