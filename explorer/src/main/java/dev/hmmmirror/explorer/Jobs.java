package dev.hmmmirror.explorer;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/**
 * The other processes of a campaign that runs on several CPUs ({@code --jobs}): each is this
 * explorer in a JVM of its own (its own address space, so its mirrors see none of the others'
 * invalidations), with its output prefixed by its name and its figures read back from the
 * {@code explorer.properties} it writes.
 */
final class Jobs {
    private Jobs() {}

    /** One running job. */
    static final class Job {
        private final String name;
        private final Process process;
        private final Path out;
        private final Thread pump;
        private volatile boolean stopping;

        private Job(String name, Process process, Path out, Thread pump) {
            this.name = name;
            this.process = process;
            this.out = out;
            this.pump = pump;
        }

        /** The job's name, e.g. {@code job-2} or {@code fuzz}. */
        String name() {
            return name;
        }

        /** Waits for the job; its exit code and the figures it wrote (empty when it wrote none). */
        Done await() throws InterruptedException {
            if (stopping && !process.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)) {
                process.destroyForcibly(); // stuck (in the kernel?): its figures are lost
            }
            int rc = process.waitFor();
            pump.join();
            Properties p = new Properties();
            Path file = out.resolve("explorer.properties");
            if (Files.isRegularFile(file)) {
                try (var in = Files.newBufferedReader(file)) {
                    p.load(in);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
            return new Done(name, rc, p, out);
        }

        /**
         * Stops the job (the campaign failed elsewhere): SIGTERM, on which the explorer writes the
         * figures it has so far ({@code stopped=true}) before it exits.
         */
        void stop() {
            stopping = true;
            process.destroy();
        }
    }

    /**
     * What a job did.
     *
     * @param name       the job's name
     * @param exitCode   the explorer's exit code (0 nothing found, 1 a failure)
     * @param properties its {@code explorer.properties}
     * @param out        its report folder
     */
    record Done(String name, int exitCode, Properties properties, Path out) {
        long count(String key) {
            return Long.parseLong(properties.getProperty(key, "0"));
        }
    }

    /** Starts {@code mainClass} (the explorer's command line) with {@code args} in a JVM of its own, reporting into {@code out}. */
    static Job start(String name, String mainClass, List<String> args, Path out) throws IOException {
        Files.createDirectories(out);
        List<String> cmd = new ArrayList<>(ChildJvm.command(mainClass, "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                "-XX:-UsePerfData", "--enable-native-access=ALL-UNNAMED"));
        cmd.addAll(args);
        cmd.addAll(List.of("--out", out.toString(), "--name", name));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        Thread pump = Thread.ofPlatform().daemon().name("explorer-" + name).start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(),
                    StandardCharsets.UTF_8))) {
                for (String l; (l = r.readLine()) != null; ) {
                    System.out.println("[" + name + "] " + l);
                }
            } catch (IOException e) {
                System.out.println("[" + name + "] output lost: " + e.getMessage());
            }
        });
        return new Job(name, p, out, pump);
    }
}
