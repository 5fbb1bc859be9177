package dev.hmmmirror.programs;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Our module against the kernel's own test_hmm, side by side in one guest, run in the guest agent:
 * loads test_hmm beside hmm_mirror.ko ({@code modprobe test_hmm}, as DifferentialIT does), runs the
 * static C program {@code /hmm/host/driver_bench}, which measures both drivers with interleaved
 * repetitions and prints the table (device fault + read and write, migration and back, munmap of a
 * mirrored GiB, the per-page cost of 1 GiB over 1 MiB), then unloads test_hmm again. The measuring
 * is in C so that neither driver's figure carries a JVM; this class only orchestrates. The JSON goes
 * to {@code /hmm/out/driver-bench.json} (the run folder's {@code out/} on the host).
 */
public final class DriverBench {
    /** Name of the C side in the guest ({@code /hmm/host/driver_bench}); the harness builds it static. */
    public static final String C_PROGRAM = "driver_bench";
    /** The JSON file's name in the results share. */
    public static final String JSON = "driver-bench.json";

    private static final Path TEST_HMM_DEVICE = Path.of("/dev/hmm_dmirror0");

    private DriverBench() {}

    /** The C side's source, built for the guest by the session. */
    public static byte[] cSource() {
        try (InputStream in = DriverBench.class.getResourceAsStream(C_PROGRAM + ".c")) {
            if (in == null) {
                throw new IllegalStateException("missing resource " + C_PROGRAM + ".c");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Entry point in the agent: test_hmm in, the C program's table out, test_hmm out. */
    public static void main(String[] args) throws Exception {
        boolean loadedHere = false;
        if (!Files.exists(TEST_HMM_DEVICE)) {
            String out = command("modprobe", "test_hmm");
            if (!Files.exists(TEST_HMM_DEVICE)) {
                throw new IllegalStateException("kernel " + System.getProperty("os.version") + " has no test_hmm ("
                        + out + "): run the benchmark on a kernel built with CONFIG_TEST_HMM=m, e.g. --kernel built-7.2");
            }
            loadedHere = true;
        }
        try {
            Path outDir = Path.of("/hmm/out");
            Path json = (Files.isDirectory(outDir) ? outDir : Path.of(System.getProperty("java.io.tmpdir"))).resolve(JSON);
            Process p = new ProcessBuilder("/hmm/host/" + C_PROGRAM, json.toString())
                    .redirectErrorStream(true).start();
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                r.lines().forEach(System.out::println);
            }
            int rc = p.waitFor();
            if (rc != 0) {
                throw new IllegalStateException(C_PROGRAM + " exited with " + rc + " (its last line above says why)");
            }
            System.out.println("JSON: " + json + (json.startsWith(outDir) ? " (the run folder's out/ on the host)" : ""));
        } finally {
            if (loadedHere) {
                command("rmmod", "test_hmm");
            }
        }
    }

    /** Runs a command to its end (at most a minute) and returns its output. */
    private static String command(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException(String.join(" ", command) + " did not finish within a minute");
        }
        return out.isEmpty() ? String.join(" ", command) + ": exit " + p.exitValue() : out;
    }
}
