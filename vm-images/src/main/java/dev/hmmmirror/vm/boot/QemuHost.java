package dev.hmmmirror.vm.boot;

import dev.hmmmirror.vm.host.SetupException;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

/** Where QEMU runs, as {@link GuestVm} needs it: this host, or a container (the runners). */
public interface QemuHost {
    /** One line for progress output and failure reports. */
    String describe();

    /** The QEMU binary to put in front of the command line (of an x86-64 guest). */
    String qemu();

    /**
     * The QEMU binary of a guest of Debian architecture {@code arch}: {@link #qemu()} for amd64; other
     * architectures only where the runner has their QEMU (the local runner).
     */
    default String qemu(String arch) {
        if (dev.hmmmirror.vm.image.KernelProfile.AMD64.equals(arch)) {
            return qemu();
        }
        throw new SetupException("the " + describe() + " runner has no QEMU for " + arch + " guests: run them with "
                + "--runner local (-Dhmm.runner=local)");
    }

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

    /**
     * QEMU's {@code -chardev} of the agent's serial port: by default a unix socket at {@code socket}
     * (in {@link #socketDir()}), which this JVM connects to.
     */
    default String agentChardev(Path socket) {
        return "socket,id=agent,path=" + socket + ",server=on,wait=off";
    }

    /**
     * Connects to the agent's serial port of {@link #agentChardev}; throws while QEMU does not
     * listen yet (the caller retries).
     */
    default AgentChannel connectAgent(Path socket) throws IOException {
        SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            ch.connect(UnixDomainSocketAddress.of(socket));
        } catch (IOException e) {
            ch.close();
            throw e;
        }
        return new AgentChannel(Channels.newInputStream(ch), Channels.newOutputStream(ch), ch);
    }

    /**
     * The byte stream to the guest agent's serial port.
     *
     * @param in    what the agent writes
     * @param out   what the agent reads
     * @param connection releases the connection
     */
    record AgentChannel(InputStream in, OutputStream out, Closeable connection) implements Closeable {
        @Override
        public void close() throws IOException {
            connection.close();
        }
    }

    /** Starts QEMU with {@code command}; its standard output (the console) is the process's input stream. */
    Process launch(List<String> command) throws IOException;

    /** Where to look when something failed (container name, image, logs). Empty on this host. */
    String diagnostics();
}
