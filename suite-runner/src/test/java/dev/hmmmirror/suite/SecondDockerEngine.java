package dev.hmmmirror.suite;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A Docker engine of the test's own: Debian's {@code dockerd} listening on a loopback TCP port
 * only, with its own data root (kept in the cache, so that its runner image and volumes survive
 * between runs) and its own exec root; started as {@code ci/start-docker.sh} starts one, without
 * touching the host's network. It shares no files with the tests other than what they copy in.
 */
final class SecondDockerEngine implements AutoCloseable {
    private final Process dockerd;
    private final String host;
    private final Path log;

    private SecondDockerEngine(Process dockerd, String host, Path log) {
        this.dockerd = dockerd;
        this.host = host;
        this.log = log;
    }

    /** Whether this host can start one: dockerd installed, and we are root. */
    static String unavailableReason() {
        if (!Files.isExecutable(Path.of("/usr/sbin/dockerd")) && !Files.isExecutable(Path.of("/usr/bin/dockerd"))) {
            return "dockerd is not installed (ci/install-deps.sh installs docker.io)";
        }
        if (!"root".equals(System.getProperty("user.name"))) {
            return "starting a second dockerd needs root";
        }
        return null;
    }

    /** Starts dockerd with its data under {@code dataRoot} and waits (90 s at most) until it answers. */
    static SecondDockerEngine start(Path dataRoot, Path log) throws IOException, InterruptedException {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        String host = "tcp://127.0.0.1:" + port;
        Path exec = Path.of("/tmp", "hmm-engine-" + ProcessHandle.current().pid()); // short: containerd's sockets live there
        Files.createDirectories(dataRoot);
        Files.createDirectories(log.getParent());
        List<String> cmd = new ArrayList<>(List.of("dockerd", "-H", host, "--tls=false", "--data-root", dataRoot.toString(),
                "--exec-root", exec.toString(), "--pidfile", exec + ".pid", "--bridge=none", "--iptables=false",
                "--ip-forward=false"));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        SecondDockerEngine engine = new SecondDockerEngine(p, host, log);
        for (int i = 0; i < 90; i++) {
            if (!p.isAlive()) {
                throw new IOException("dockerd exited (" + p.exitValue() + "); see " + log);
            }
            if (dev.hmmmirror.vm.runner.DockerEngine.ping(host, 5).isPresent()) {
                return engine;
            }
            Thread.sleep(1000);
        }
        engine.close();
        throw new IOException("dockerd did not answer on " + host + " within 90 s; see " + log);
    }

    /** Its address, for {@code docker -H} and {@code hmm.runner=docker:...}. */
    String host() {
        return host;
    }

    /** dockerd's log. */
    Path log() {
        return log;
    }

    /** Stops dockerd as an engine that goes away does (its containers and containerd with it); waits for it. */
    @Override
    public void close() throws InterruptedException {
        if (dockerd.isAlive()) {
            dockerd.destroy(); // SIGTERM: dockerd stops its containers and its containerd
            if (!dockerd.waitFor(60, TimeUnit.SECONDS)) {
                dockerd.descendants().forEach(ProcessHandle::destroyForcibly);
                dockerd.destroyForcibly();
                dockerd.waitFor(10, TimeUnit.SECONDS);
            }
        }
    }
}
