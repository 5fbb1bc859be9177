package dev.hmmmirror.vm.boot;

import dev.hmmmirror.vm.host.SetupException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

/** Where QEMU runs, as {@link GuestVm} needs it: this host, or a container (the runners). */
public interface QemuHost {
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
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(
                    PosixFilePermissions.fromString("rwx------")));
        } catch (IOException e) {
            throw new SetupException("cannot create the agent socket directory " + dir + ": " + e.getMessage(), e);
        }
        return dir;
    }

    /** Starts QEMU with {@code command}; its standard output (the console) is the process's input stream. */
    Process launch(List<String> command) throws IOException;

    /** Where to look when something failed (container name, image, logs). Empty on this host. */
    String diagnostics();
}
