package dev.hmmmirror.guest.rdma;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.hmmmirror.rdma.OdpOperation;
import dev.hmmmirror.rdma.RdmaDevice;
import dev.hmmmirror.rdma.RdmaUnsupportedException;
import dev.hmmmirror.rdma.SoftRoce;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The guest's rxe (soft-RoCE) device {@value #DEVICE}, made once per guest by the API's
 * {@link SoftRoce#ensure()} (a dummy netdev that exists only inside the guest, MTU 9000 so that
 * rxe's path MTU is 4096, no host networking): first the staged kernel config says whether this
 * kernel has rxe at all, so a skip names the missing option.
 */
final class Rxe {
    static final String DEVICE = SoftRoce.DEVICE;
    private static String setupFailure;
    private static boolean done;

    private Rxe() {}

    /**
     * Makes {@value #DEVICE} if it is not there yet.
     *
     * @return empty when the device is there with its port active, else why not (a skip reason
     *         that names the kernel and what it lacks)
     */
    static synchronized Optional<String> ensure() throws IOException {
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
        try {
            SoftRoce.ensure();
        } catch (RdmaUnsupportedException e) {
            setupFailure = e.getMessage();
            return Optional.of(setupFailure);
        }
        return Optional.empty();
    }

    /**
     * Opens {@value #DEVICE} for a test that needs On-Demand Paging for {@code operations}, making
     * the device first; skips the test, saying why, where this kernel has no rxe or its ODP lacks
     * one of them.
     */
    static RdmaDevice openForOdp(OdpOperation... operations) throws IOException {
        Optional<String> missing = ensure();
        assumeTrue(missing.isEmpty(), () -> missing.orElseThrow());
        RdmaDevice device = RdmaDevice.open(DEVICE);
        try {
            device.requireOdp(operations);
        } catch (RdmaUnsupportedException e) {
            device.close();
            assumeTrue(false, e.getMessage());
        }
        return device;
    }

    /** Closes what a test opened, in this order, leaving out what it did not get to open (null). */
    static void close(AutoCloseable... opened) throws Exception {
        Exception first = null;
        for (AutoCloseable c : opened) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
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
