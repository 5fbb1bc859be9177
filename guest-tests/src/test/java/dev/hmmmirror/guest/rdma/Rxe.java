package dev.hmmmirror.guest.rdma;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The guest's rxe (soft-RoCE) device {@value #DEVICE}, made once per guest: a dummy netdev that
 * exists only inside the guest ({@value #NETDEV}, 10.233.0.1/24, MTU 9000 so that rxe's path MTU is
 * 4096, no host networking), the
 * {@code rdma_rxe} module, and {@code rdma link add rxe0 type rxe netdev hmmrxe0} (iproute2's
 * {@code rdma}). rxe loops traffic addressed to its own GID back, so one device serves both ends
 * of a connection.
 */
final class Rxe {
    static final String DEVICE = "rxe0";
    static final String NETDEV = "hmmrxe0";
    private static final Path SYSFS = Path.of("/sys/class/infiniband", DEVICE);
    private static String setupFailure;
    private static boolean done;

    private Rxe() {}

    /**
     * Makes {@value #DEVICE} if it is not there yet.
     *
     * @return empty when the device is there with its port active, else why not (a skip reason
     *         that names the kernel and what it lacks)
     */
    static synchronized Optional<String> ensure() throws IOException, InterruptedException {
        if (done) {
            return Optional.ofNullable(setupFailure);
        }
        done = true;
        String kernel = "kernel " + System.getProperty("os.version");
        Set<String> config = Set.copyOf(Files.readAllLines(Path.of("/hmm/host/kernel.config")));
        for (String needed : List.of("CONFIG_INFINIBAND", "CONFIG_RDMA_RXE", "CONFIG_INFINIBAND_USER_ACCESS")) {
            if (!config.contains(needed + "=m") && !config.contains(needed + "=y")) {
                setupFailure = kernel + " has no " + needed + ": no rxe device";
                return Optional.of(setupFailure);
            }
        }
        if (!Files.isDirectory(SYSFS)) {
            run("modprobe", "rdma_rxe");
            run("modprobe", "ib_uverbs");
            if (!Files.exists(Path.of("/sys/class/net", NETDEV))) {
                run("ip", "link", "add", NETDEV, "type", "dummy");
                run("ip", "addr", "add", "10.233.0.1/24", "dev", NETDEV);
                // rxe's path MTU follows the netdev's: 9000 gives IB MTU 4096, one page per packet
                run("ip", "link", "set", NETDEV, "mtu", "9000");
                run("ip", "link", "set", NETDEV, "up");
            }
            run("rdma", "link", "add", DEVICE, "type", "rxe", "netdev", NETDEV);
        }
        Path state = SYSFS.resolve("ports/1/state");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!Files.readString(state).contains("ACTIVE")) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(DEVICE + " port 1 is not active after 20 s: " + Files.readString(state));
            }
            Thread.sleep(100);
        }
        return Optional.empty();
    }

    /** Runs a command; throws with its output when it fails. */
    static String run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException(String.join(" ", command) + " did not finish in 60 s: " + out);
        }
        if (p.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " exited " + p.exitValue() + ": " + out);
        }
        return out;
    }
}
