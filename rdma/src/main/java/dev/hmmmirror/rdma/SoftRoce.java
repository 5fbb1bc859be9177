package dev.hmmmirror.rdma;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The machine's soft-RoCE device {@value #DEVICE}: rxe on a network device that exists only inside
 * this machine, for RDMA with no hardware and no network. {@link #ensure()} makes what is missing,
 * as root:
 *
 * <pre>
 * modprobe rdma_rxe; modprobe ib_uverbs
 * ip link add hmmrxe0 type dummy; ip addr add 10.233.0.1/24 dev hmmrxe0
 * ip link set hmmrxe0 mtu 9000 up                  # rxe's path MTU follows: 4096, a page per packet
 * rdma link add rxe0 type rxe netdev hmmrxe0       # iproute2's rdma
 * </pre>
 *
 * <p>then waits until the port is active. rxe loops traffic addressed to its own GID back, so the
 * one device serves both ends of a {@link RdmaDevice#connectLoopback() loopback connection}. Meant
 * for a test machine or guest ({@code hmm run} runs programs as root): it changes the machine's
 * network devices. Needs the kernel's {@code CONFIG_RDMA_RXE} and {@code CONFIG_INFINIBAND_USER_ACCESS},
 * and the commands {@code modprobe} (kmod), {@code ip} and {@code rdma} (iproute2). It takes a few
 * seconds the first time (about 4 s in a TCG guest) and nothing once the device is there.
 */
public final class SoftRoce {
    /** The rxe device's name. */
    public static final String DEVICE = "rxe0";
    /** The dummy network device it runs on; it has no link to anything outside the machine. */
    public static final String NETDEV = "hmmrxe0";
    /** The address given to {@link #NETDEV} (its IPv4-mapped GID is the one connections use). */
    public static final String ADDRESS = "10.233.0.1/24";

    private static final int EPERM = 1;
    private static final int ENOENT = 2;
    private static final int EIO = 5;
    private static final int ETIMEDOUT = 110;
    private static final Path SYSFS = Path.of("/sys/class/infiniband", DEVICE);
    private static final List<String> SBIN = List.of("/usr/sbin", "/sbin", "/usr/bin", "/bin");

    private SoftRoce() {}

    /**
     * Makes {@value #DEVICE} unless it is there, and waits for its port to be active.
     *
     * @return the device name, {@value #DEVICE}, for {@link RdmaDevice#open(String)}
     * @throws RdmaUnsupportedException naming the kernel, when it has no rxe module
     *                                  ({@code CONFIG_RDMA_RXE}) or no user verbs
     *                                  ({@code CONFIG_INFINIBAND_USER_ACCESS}), or when a command is
     *                                  not installed ({@code ENOENT})
     * @throws RdmaException            {@code EPERM} when not root; {@code EIO} with the command's
     *                                  output when a command failed otherwise; {@code ETIMEDOUT}
     *                                  when the port is not active after 20 s
     */
    public static synchronized String ensure() throws RdmaException {
        if (!Files.isDirectory(SYSFS)) {
            module("rdma_rxe", "CONFIG_RDMA_RXE");
            module("ib_uverbs", "CONFIG_INFINIBAND_USER_ACCESS");
            if (!Files.exists(Path.of("/sys/class/net", NETDEV))) {
                run("ip", "link", "add", NETDEV, "type", "dummy");
                run("ip", "addr", "add", ADDRESS, "dev", NETDEV);
                // rxe's path MTU follows the netdev's: 9000 gives IB MTU 4096, one page per packet
                run("ip", "link", "set", NETDEV, "mtu", "9000");
                run("ip", "link", "set", NETDEV, "up");
            }
            run("rdma", "link", "add", DEVICE, "type", "rxe", "netdev", NETDEV);
        }
        Path state = SYSFS.resolve("ports/1/state");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        try {
            while (!Files.readString(state).contains("ACTIVE")) {
                if (System.nanoTime() > deadline) {
                    throw new RdmaException("wait for the port of", DEVICE, ETIMEDOUT, "port 1 is "
                            + Files.readString(state).strip() + " after 20 s (is " + NETDEV + " up? ip link show "
                            + NETDEV + ")");
                }
                Thread.sleep(100);
            }
        } catch (IOException e) {
            throw new RdmaException("read " + state, DEVICE, ENOENT, "the device vanished: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RdmaException("wait for the port of", DEVICE, 4 /* EINTR */, "interrupted");
        }
        return DEVICE;
    }

    /**
     * {@link #ensure()}, then opens the device.
     *
     * @return the open device {@value #DEVICE}
     * @throws RdmaUnsupportedException as for {@link #ensure()}, and when libibverbs is not installed
     * @throws RdmaException            as for {@link #ensure()} and {@link RdmaDevice#open(String)}
     */
    public static RdmaDevice open() throws RdmaException {
        return RdmaDevice.open(ensure());
    }

    private static void module(String name, String option) throws RdmaException {
        Result r = exec("modprobe", name);
        if (r.exit == 0) {
            return;
        }
        if (r.output.contains("not found")) {
            throw new RdmaUnsupportedException("modprobe " + name, DEVICE, ENOENT, "kernel "
                    + System.getProperty("os.version") + " has no " + name + " module (" + option + "): "
                    + r.output.strip());
        }
        throw failure(r, "modprobe " + name);
    }

    private static void run(String... command) throws RdmaException {
        Result r = exec(command);
        if (r.exit != 0) {
            throw failure(r, String.join(" ", command));
        }
    }

    private static RdmaException failure(Result r, String command) {
        boolean perm = r.output.contains("Operation not permitted") || r.output.contains("Permission denied");
        return new RdmaException(command, DEVICE, perm ? EPERM : EIO, (perm ? "run as root (hmm run does): " : "exit "
                + r.exit + ": ") + r.output.strip());
    }

    private record Result(int exit, String output) {}

    private static Result exec(String... command) throws RdmaException {
        List<String> cmd = new ArrayList<>(List.of(command));
        cmd.set(0, which(command[0]));
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new RdmaException(String.join(" ", command), DEVICE, ETIMEDOUT, "no exit after 60 s: " + out);
            }
            return new Result(p.exitValue(), out);
        } catch (IOException e) {
            throw new RdmaException(String.join(" ", command), DEVICE, EIO, e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RdmaException(String.join(" ", command), DEVICE, 4 /* EINTR */, "interrupted");
        }
    }

    /** The command's path: from PATH, else the sbin folders a non-login PATH may lack. */
    private static String which(String command) throws RdmaUnsupportedException {
        Set<String> dirs = new LinkedHashSet<>();
        String path = System.getenv("PATH");
        if (path != null) {
            dirs.addAll(List.of(path.split(":")));
        }
        dirs.addAll(SBIN);
        for (String d : dirs) {
            if (!d.isEmpty() && Files.isExecutable(Path.of(d, command))) {
                return Path.of(d, command).toString();
            }
        }
        String pkg = command.equals("modprobe") ? "kmod" : "iproute2";
        throw new RdmaUnsupportedException("find " + command, DEVICE, ENOENT, "not in " + dirs
                + ": install " + pkg);
    }
}
