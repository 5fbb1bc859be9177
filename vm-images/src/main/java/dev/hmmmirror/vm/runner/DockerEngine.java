package dev.hmmmirror.vm.runner;

import dev.hmmmirror.vm.host.Prerequisites;
import dev.hmmmirror.vm.host.SetupException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One Docker engine, spoken to with Debian's {@code docker} client ({@code docker -H <host>}): a
 * {@code tcp://} engine on another machine (TLS as the user configured it through
 * {@code DOCKER_TLS_VERIFY} / {@code DOCKER_CERT_PATH}) or any other address. Every call has a
 * time limit, so an engine that stops answering fails the call instead of hanging it.
 *
 * @param host the engine's address, as {@code docker -H} takes it, e.g. {@code tcp://10.0.0.5:2376}
 */
public record DockerEngine(String host) {
    /** The {@code docker} command line for {@code args} on this engine. */
    public List<String> command(String... args) {
        List<String> cmd = new ArrayList<>(List.of(Prerequisites.require("docker", "docker.io").toString(), "-H", host));
        cmd.addAll(List.of(args));
        return cmd;
    }

    /** Whether the engine answers {@code docker version} within {@code seconds}; its version when it does. */
    public java.util.Optional<String> ping(long seconds) {
        try {
            return java.util.Optional.of(output(seconds, "version", "--format", "{{.Server.Version}}").strip());
        } catch (SetupException e) {
            return java.util.Optional.empty();
        }
    }

    /** Runs {@code docker args...}, returns its standard output; fails with its error output, or after {@code seconds}. */
    public String output(long seconds, String... args) {
        return run(seconds, null, null, command(args));
    }

    /**
     * Runs {@code command} (a shell pipeline or a docker command line) with at most {@code seconds},
     * its output appended to {@code log} when given, else returned.
     */
    static String run(long seconds, Path log, Path dir, List<String> command) {
        try {
            ProcessBuilder pb = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
            Path out = log != null ? log : Files.createTempFile("hmm-docker", ".out");
            if (log != null) {
                Files.createDirectories(log.getParent());
                Files.writeString(log, "$ " + String.join(" ", command) + "\n", StandardCharsets.UTF_8,
                        StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            }
            Path err = Files.createTempFile("hmm-docker", ".err");
            try {
                if (dir != null) {
                    pb.directory(dir.toFile());
                }
                pb.redirectOutput(ProcessBuilder.Redirect.appendTo(out.toFile()))
                        .redirectError(ProcessBuilder.Redirect.appendTo((log != null ? log : err).toFile()));
                Process p = pb.start();
                if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
                    p.descendants().forEach(ProcessHandle::destroyForcibly);
                    p.destroyForcibly();
                    throw new SetupException(String.join(" ", command) + " did not finish in " + seconds
                            + " s (the Docker engine does not answer?)");
                }
                if (p.exitValue() != 0) {
                    String why = log != null ? dev.hmmmirror.vm.host.Exec.tail(log, 25) : Files.readString(err).strip();
                    throw new SetupException(String.join(" ", command) + " failed (exit " + p.exitValue() + "): " + why);
                }
                return log != null ? "" : Files.readString(out);
            } finally {
                Files.deleteIfExists(err);
                if (log == null) {
                    Files.deleteIfExists(out);
                }
            }
        } catch (IOException e) {
            throw new SetupException("cannot run docker: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SetupException("interrupted while running docker", e);
        }
    }

    /** {@code 'text'} for a shell command line. */
    static String sh(String text) {
        return "'" + text.replace("'", "'\\''") + "'";
    }

    /** {@code docker -H host} as a shell word list, for pipelines. */
    String shell(String... args) {
        return String.join(" ", command(args).stream().map(DockerEngine::sh).toList());
    }
}
