package dev.hmmmirror.vm.host;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs host commands with their output kept in a log file, failing with the log's tail. */
public final class Exec {
    private Exec() {}

    /** Runs {@code command}, appending its output to {@code log}; fails with the tail of the log. */
    public static void run(Path log, long timeoutSeconds, List<String> command) {
        try {
            Files.createDirectories(log.getParent());
            Files.writeString(log, "$ " + String.join(" ", command) + "\n", StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            Process p = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                throw new SetupException(command.getFirst() + " did not finish in " + timeoutSeconds
                        + " s; see " + log);
            }
            if (p.exitValue() != 0) {
                String failing = failingLines(log, 20);
                throw new SetupException(command.getFirst() + " failed (exit " + p.exitValue() + ")"
                        + (failing.isEmpty() ? "" : "; its error lines:\n" + failing + "\n") + "; last lines of "
                        + log + ":\n" + tail(log, 25));
            }
        } catch (IOException e) {
            throw new SetupException("cannot run " + command.getFirst() + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SetupException("interrupted while running " + command.getFirst(), e);
        }
    }

    /** Runs {@code command} and returns its standard output; fails on a non-zero exit. */
    public static String output(long timeoutSeconds, List<String> command) {
        try {
            Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.PIPE).start();
            p.getOutputStream().close();
            var err = new StringBuilder();
            Thread t = Thread.ofVirtual().start(() -> {
                try {
                    err.append(new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
                } catch (IOException ignored) {
                    // the process is gone
                }
            });
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new SetupException(command.getFirst() + " did not finish in " + timeoutSeconds + " s");
            }
            t.join();
            if (p.exitValue() != 0) {
                throw new SetupException(String.join(" ", command) + " failed (exit " + p.exitValue() + "): "
                        + err.toString().strip());
            }
            return out;
        } catch (IOException e) {
            throw new SetupException("cannot run " + command.getFirst() + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SetupException("interrupted while running " + command.getFirst(), e);
        }
    }

    /**
     * The first {@code max} lines of a build log that say what failed (compiler errors, make's
     * {@code ***} and {@code Error N} lines, undefined symbols), in order; empty when none.
     */
    public static String failingLines(Path file, int max) {
        try {
            return String.join("\n", Files.readAllLines(file, StandardCharsets.ISO_8859_1).stream()
                    .filter(l -> l.contains("error:") || l.contains("Error ") || l.contains("*** ")
                            || l.contains("undefined") || l.contains("fatal:") || l.contains("No such file"))
                    .limit(max).toList());
        } catch (IOException e) {
            return "";
        }
    }

    /** The last {@code lines} lines of a text file (empty when unreadable). */
    public static String tail(Path file, int lines) {
        try {
            List<String> all = Files.readAllLines(file, StandardCharsets.ISO_8859_1);
            return String.join("\n", new ArrayList<>(all.subList(Math.max(0, all.size() - lines), all.size())));
        } catch (IOException e) {
            return "";
        }
    }
}
