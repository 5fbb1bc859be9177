package dev.hmmmirror.vm;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * Where a guest's QEMU runs and where its module is compiled: on this host ({@link LocalRunner})
 * or in a container ({@link ContainerRunner}). Both see the cache, the stage dir and the results
 * dir at the same absolute paths, so the QEMU command line and everything around it is the same.
 * Chosen by {@link RunnerSelection}.
 */
public interface GuestRunner extends AutoCloseable {
    /** One line for progress output and failure reports. */
    String describe();

    /** The QEMU binary to put in front of the command line. */
    String qemu();

    /**
     * A directory for the agent's unix socket that QEMU (wherever it runs) and this JVM both see.
     * Never the run directory: a unix socket's path must stay under 108 bytes, and a checkout can be
     * as deep as its owner likes.
     */
    Path socketDir();

    /** The longest unix socket path the kernel takes ({@code sun_path} is 108 bytes with its NUL). */
    int MAX_SOCKET_PATH = 107;

    /**
     * The agent sockets' directory: {@code hmm-agent-<user>} (mode 700) in {@code java.io.tmpdir}, or
     * in {@code /tmp} where the temporary directory itself is too deep for a socket path.
     */
    static Path agentSocketDir() {
        String name = "hmm-agent-" + System.getProperty("user.name", "user").replaceAll("[^A-Za-z0-9_.-]", "_");
        Path dir = Path.of(System.getProperty("java.io.tmpdir"), name).toAbsolutePath();
        if (dir.toString().length() > 60) {
            dir = Path.of("/tmp", name);
        }
        try {
            java.nio.file.Files.createDirectories(dir, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                    java.nio.file.attribute.PosixFilePermissions.fromString("rwx------")));
        } catch (IOException e) {
            throw new SetupException("cannot create the agent socket directory " + dir + ": " + e.getMessage(), e);
        }
        return dir;
    }

    /** Where {@code hmm_mirror.ko} and the benchmark are compiled with the kernel's own gcc. */
    ModuleBuild.Toolchain toolchain(GuestImage image);

    /** Starts QEMU with {@code command}; its standard output (the console) is the process's input stream. */
    Process launch(List<String> command) throws IOException;

    /** Where to look when something failed (container name, image, logs). Empty for the local runner. */
    String diagnostics();

    /** Releases what the runner holds (removes the container); QEMU must have ended or is killed. */
    @Override
    void close();

    /** Makes the runner {@code kind} for {@code image} and the run directory {@code runDir}. */
    static GuestRunner create(RunnerSelection.Kind kind, ImageCache cache, GuestImage image, Path runDir,
            Accelerator.Choice accel) {
        return switch (kind) {
            case LOCAL -> new LocalRunner();
            case CONTAINER -> ContainerRunner.start(cache, image, runDir, accel);
        };
    }
}
