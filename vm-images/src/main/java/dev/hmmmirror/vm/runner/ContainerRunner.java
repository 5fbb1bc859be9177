package dev.hmmmirror.vm.runner;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.async.ResultCallback;
import com.github.dockerjava.api.model.AccessMode;
import com.github.dockerjava.api.model.Bind;
import com.github.dockerjava.api.model.Container;
import com.github.dockerjava.api.model.Device;
import com.github.dockerjava.api.model.Frame;
import com.github.dockerjava.api.model.Volume;
import dev.hmmmirror.vm.boot.Accelerator;
import dev.hmmmirror.vm.boot.Console;
import dev.hmmmirror.vm.boot.QemuHost;
import dev.hmmmirror.vm.config.Settings;
import dev.hmmmirror.vm.host.Exec;
import dev.hmmmirror.vm.host.Prerequisites;
import dev.hmmmirror.vm.host.Progress;
import dev.hmmmirror.vm.host.SetupException;
import dev.hmmmirror.vm.host.Toolchain;
import dev.hmmmirror.vm.image.AptSources;
import dev.hmmmirror.vm.image.GuestImage;
import dev.hmmmirror.vm.image.ImageCache;
import dev.hmmmirror.vm.image.KernelProfile;
import dev.hmmmirror.vm.image.PackageIndex;
import dev.hmmmirror.vm.image.Scripts;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.Pipe;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.commons.io.file.PathUtils;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.Container.ExecResult;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.utility.DockerImageName;

/**
 * Runs the guest's QEMU, and builds the module, in a container (Testcontainers) from a locally
 * built image: the host needs a Docker engine and this JVM, not QEMU or the kernel's gcc.
 *
 * <p><b>The image</b> ({@code hmm-mirror/runner:<suite>-<key>}) is the profile's kernel root, as
 * built for the local runner, imported with {@code docker import} and given QEMU from the same
 * Debian release ({@code scripts/build-runner-image.sh}); nothing is pulled. Why the kernel root
 * and not a QEMU-only image with the kernel root bind-mounted: the module must be built by the
 * kernel's own gcc against its headers, and in an image made of that root they are simply the
 * container's own toolchain, so the build is a plain {@code make} in the container, with no
 * chroot, no {@code /proc} mount and no root needed on the host. The cost is one image per
 * profile (about 1 GB, built once, keyed by the kernel root's key and QEMU's version).
 *
 * <p><b>The container</b> (one per guest session, {@code hmm-guest-<profile>-<pid>}) sleeps; the
 * cache is bind-mounted read-only and the run directory read-write, both at their host paths, so
 * that the QEMU command line, the 9p shares, the console log and the agent socket (created by
 * QEMU in the run directory: same kernel, so this JVM connects to it directly) are the same as
 * with the local runner. QEMU runs as an exec whose output streams into {@link Console}. No
 * network, no {@code --privileged}; {@code /dev/kvm} is passed only when it is usable here.
 * The container is removed on {@link #close()}; containers of runs that were killed (their JVM
 * is gone) are removed when the next container runner starts.
 */
public final class ContainerRunner implements GuestRunner {
    private static final String LABEL = "dev.hmmmirror.runner";
    private static final String PID_LABEL = "dev.hmmmirror.pid";
    private static final String QEMU_PID = "/run/hmm-qemu.pid";

    private final GenericContainer<?> container;
    private final String name;
    private final String image;
    private final Path runDir;
    private final Path imageLog;

    private ContainerRunner(GenericContainer<?> container, String name, String image, Path runDir, Path imageLog) {
        this.container = container;
        this.name = name;
        this.image = image;
        this.runDir = runDir;
        this.imageLog = imageLog;
    }

    /**
     * Whether a Docker engine answers, cheaply: a {@code GET /_ping} on its unix socket
     * ({@code DOCKER_HOST=unix://...}, else {@code /var/run/docker.sock}). Initialising
     * Testcontainers for this would be slower and, without the settings of {@link #start}, may try
     * to pull helper images.
     */
    public static boolean dockerAvailable(Settings settings) {
        String host = settings.foreignEnv("DOCKER_HOST").orElse(null);
        Path sock;
        if (host == null || host.isBlank()) {
            sock = Path.of("/var/run/docker.sock");
        } else if (host.startsWith("unix://")) {
            sock = Path.of(host.substring("unix://".length()));
        } else {
            return false; // tcp engines: pick the container runner explicitly
        }
        if (!Files.exists(sock)) {
            return false;
        }
        // a hung engine must not hang the selection: ask on another thread, wait 3 s at most
        var answer = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                ch.connect(UnixDomainSocketAddress.of(sock));
                ch.write(ByteBuffer.wrap("GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n".getBytes(StandardCharsets.US_ASCII)));
                byte[] b = new byte[64];
                int n = Channels.newInputStream(ch).readNBytes(b, 0, b.length);
                String status = new String(b, 0, n, StandardCharsets.US_ASCII);
                return status.startsWith("HTTP/1.") && status.contains(" 200 ");
            } catch (IOException | RuntimeException e) {
                return false;
            }
        });
        try {
            return answer.get(3, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            answer.cancel(true);
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Ensures the profile's runner image and starts this session's container. */
    public static ContainerRunner start(Settings settings, ImageCache cache, GuestImage guest, Path runDir,
            Accelerator.Choice accel) {
        if (guest.profile().kind() != KernelProfile.Kind.STOCK) {
            throw new SetupException("the container runner runs the stock Debian kernels only; run "
                    + guest.profile().name() + " with --runner local (-Dhmm.runner=local)");
        }
        if (!"true".equals(settings.foreignEnv("TESTCONTAINERS_RYUK_DISABLED").orElse(null))
                || settings.foreignEnv("TESTCONTAINERS_HOST_OVERRIDE").isEmpty()) {
            throw new SetupException("the container runner needs TESTCONTAINERS_RYUK_DISABLED=true and "
                    + "TESTCONTAINERS_HOST_OVERRIDE=localhost in the environment (the poms' Surefire/Failsafe "
                    + "configuration and ci/hmm set them); otherwise Testcontainers pulls helper images");
        }
        if (!dockerAvailable(settings)) {
            throw new SetupException("the container runner needs a running Docker engine (none answers on "
                    + "/var/run/docker.sock or DOCKER_HOST); start dockerd, or use -Dhmm.runner=local");
        }
        removeStale();
        long t0 = System.nanoTime();
        String tag = ensureImage(settings, cache, guest);
        Path imageLog = cache.root().resolve(tagEntry(guest, tag)).resolve("build.log");
        String name = "hmm-guest-" + guest.profile().name() + "-" + ProcessHandle.current().pid() + "-"
                + Long.toHexString(System.nanoTime() & 0xffffff);
        try {
            Files.createDirectories(runDir);
            // leftovers of a killed run in this run directory: module build scratch
            if (Files.exists(runDir.resolve("kbuild"))) {
                PathUtils.deleteDirectory(runDir.resolve("kbuild"));
            }
        } catch (IOException e) {
            throw new SetupException("cannot create " + runDir + ": " + e.getMessage(), e);
        }
        boolean kvm = accel.kvm();
        Path sockets = QemuHost.agentSocketDir();
        @SuppressWarnings("resource") // closed by close()
        GenericContainer<?> c = new GenericContainer<>(DockerImageName.parse(tag))
                .withCommand("sleep", "infinity")
                .withNetworkMode("none")
                .withLabels(Map.of(LABEL, "guest", PID_LABEL, String.valueOf(ProcessHandle.current().pid())))
                .withCreateContainerCmdModifier(cmd -> {
                    cmd.withName(name);
                    // binds set here, not with withFileSystemBind: Testcontainers would first check
                    // "file mounting" by starting a helper image, which it would have to pull
                    cmd.getHostConfig().withBinds(
                            new Bind(cache.root().toString(), new Volume(cache.root().toString()), AccessMode.ro),
                            new Bind(runDir.toString(), new Volume(runDir.toString()), AccessMode.rw),
                            new Bind(sockets.toString(), new Volume(sockets.toString()), AccessMode.rw));
                    if (kvm) {
                        cmd.getHostConfig().withDevices(Device.parse("/dev/kvm"));
                    }
                });
        try {
            c.start();
        } catch (RuntimeException e) {
            c.close();
            throw new SetupException("cannot start container " + name + " from " + tag + ": " + e.getMessage(), e);
        }
        Progress.say("container %s from %s started in %s%s", name, tag, Progress.since(t0), kvm ? " (with /dev/kvm)" : "");
        return new ContainerRunner(c, name, tag, runDir, imageLog);
    }

    /** The runner image's tag for {@code guest}: its kernel root's key, the recipe and QEMU's version. */
    static String imageTag(Settings settings, ImageCache cache, GuestImage guest) {
        String suite = guest.profile().suite();
        Map<String, String> qemu = new PackageIndex(cache, AptSources.debianMirror(settings))
                .resolve(suite, List.of("qemu-system-x86"));
        String key = Scripts.hash(List.of("build-runner-image.sh"), guest.toolRoot().getParent().getFileName().toString(),
                qemu.toString());
        return "hmm-mirror/runner:" + suite + "-" + key;
    }

    private static String tagEntry(GuestImage guest, String tag) {
        return "runner-" + guest.profile().suite() + "-" + tag.substring(tag.lastIndexOf('-') + 1);
    }

    /** The runner image of {@code guest}'s profile, built when it is not in the engine yet. */
    static String ensureImage(Settings settings, ImageCache cache, GuestImage guest) {
        String tag = imageTag(settings, cache, guest);
        String suite = guest.profile().suite();
        String key = tag.substring(tag.lastIndexOf('-') + 1);
        Path entry = cache.ensure("runner-" + suite, key, "runner image " + tag, dir -> build(guest, tag, dir));
        if (!imageExists(tag)) { // the entry outlived the image (docker image prune, another engine)
            build(guest, tag, entry);
        }
        return tag;
    }

    private static void build(GuestImage guest, String tag, Path dir) {
        Prerequisites.require("docker", "docker.io");
        long t = System.nanoTime();
        Progress.say("image %s: building the runner image %s (kernel root + QEMU), about 1-3 min; log %s",
                guest.profile().name(), tag, dir.resolve("build.log"));
        Exec.run(dir.resolve("build.log"), 1800, List.of("bash",
                Scripts.install("build-runner-image.sh", dir.resolve("scripts")).toString(),
                guest.toolRoot().toString(), tag, String.valueOf(ProcessHandle.current().pid())));
        Progress.say("image %s: runner image built in %s", guest.profile().name(), Progress.since(t));
    }

    private static boolean imageExists(String tag) {
        try {
            Exec.output(60, List.of("docker", "image", "inspect", "--format", "{{.Id}}", tag));
            return true;
        } catch (SetupException e) {
            return false;
        }
    }

    /** Removes containers of ours whose JVM is gone (a killed run). */
    private static void removeStale() {
        DockerClient client = DockerClientFactory.instance().client();
        List<Container> ours = client.listContainersCmd().withShowAll(true).withLabelFilter(List.of(LABEL)).exec();
        for (Container c : ours) {
            String owner = c.getLabels().getOrDefault(PID_LABEL, "");
            boolean alive = owner.matches("\\d+") && ProcessHandle.of(Long.parseLong(owner)).map(ProcessHandle::isAlive)
                    .orElse(false);
            if (!alive) {
                Progress.say("removing stale container %s (its run is gone)", String.join(",", c.getNames()));
                client.removeContainerCmd(c.getId()).withForce(true).withRemoveVolumes(true).exec();
            }
        }
    }

    @Override
    public String describe() {
        return "container " + name + " (" + image + ")";
    }

    @Override
    public String qemu() {
        return "qemu-system-x86_64";
    }

    @Override
    public Path socketDir() {
        // bind-mounted at the same path: QEMU creates the socket, this JVM connects
        return QemuHost.agentSocketDir();
    }

    @Override
    public Toolchain toolchain(GuestImage guest) {
        return new Toolchain() {
            @Override
            public Path scratch(String dirName) throws IOException {
                return Toolchain.emptyDir(runDir.resolve("kbuild").resolve(dirName));
            }

            @Override
            public String path(Path hostPath) {
                return hostPath.toString();
            }

            @Override
            public void run(Path log, long timeoutSeconds, String script) {
                exec(log, script);
            }
        };
    }

    private void exec(Path log, String script) {
        try {
            Files.createDirectories(log.getParent());
            Files.writeString(log, "$ [" + name + "] sh -c '" + script + "'\n", StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            ExecResult r = container.execInContainer("sh", "-c", script + " 2>&1");
            Files.writeString(log, r.getStdout() + r.getStderr(), StandardCharsets.UTF_8, StandardOpenOption.APPEND);
            if (r.getExitCode() != 0) {
                throw new SetupException("sh -c '" + script + "' failed in " + name + " (exit " + r.getExitCode()
                        + "); last lines of " + log + ":\n" + Exec.tail(log, 25));
            }
        } catch (IOException e) {
            throw new SetupException("cannot run a command in " + name + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SetupException("interrupted while running a command in " + name, e);
        }
    }

    @Override
    public Process launch(List<String> command) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("sh", "-c", "echo $$ > " + QEMU_PID + " && exec \"$@\"", "sh"));
        cmd.addAll(command);
        return new ExecProcess(cmd);
    }

    @Override
    public String diagnostics() {
        String logs;
        try {
            logs = container.isRunning() ? container.getLogs() : "(container gone)";
        } catch (RuntimeException e) {
            logs = "(no logs: " + e.getMessage() + ")";
        }
        return "\nrunner: " + describe() + "; QEMU's output is in the console log; runner image build log: " + imageLog
                + (logs.isBlank() ? "" : "\n--- container logs ---\n" + logs.strip());
    }

    @Override
    public void close() {
        try {
            container.stop(); // kills and removes the container (QEMU with it)
        } catch (RuntimeException e) {
            Progress.say("could not remove container %s: %s (the next run removes it)", name, e.getMessage());
        }
    }

    /** QEMU as an exec in the container, seen as a {@link Process}: output = the exec's stdout and stderr. */
    private final class ExecProcess extends Process {
        private final DockerClient client = DockerClientFactory.instance().client();
        private final String execId;
        private final InputStream output;
        private final CountDownLatch streamDone = new CountDownLatch(1);
        private volatile Long exit;

        ExecProcess(List<String> cmd) throws IOException {
            execId = client.execCreateCmd(container.getContainerId()).withCmd(cmd.toArray(String[]::new))
                    .withAttachStdout(true).withAttachStderr(true).exec().getId();
            // a pipe between the docker callback's thread and Console.pump (java.nio, no thread checks)
            Pipe pipe = Pipe.open();
            OutputStream sink = Channels.newOutputStream(pipe.sink());
            output = Channels.newInputStream(pipe.source());
            client.execStartCmd(execId).exec(new ResultCallback.Adapter<Frame>() {
                @Override
                public void onNext(Frame frame) {
                    try {
                        sink.write(frame.getPayload());
                    } catch (IOException e) {
                        // the console reader went away; keep draining
                    }
                }

                @Override
                public void onError(Throwable t) {
                    finish();
                    super.onError(t);
                }

                @Override
                public void onComplete() {
                    finish();
                    super.onComplete();
                }

                private void finish() {
                    try {
                        sink.close();
                    } catch (IOException e) {
                        // already closed
                    }
                    streamDone.countDown();
                }
            });
        }

        @Override
        public OutputStream getOutputStream() {
            return OutputStream.nullOutputStream();
        }

        @Override
        public InputStream getInputStream() {
            return output;
        }

        @Override
        public InputStream getErrorStream() {
            return InputStream.nullInputStream();
        }

        @Override
        public boolean isAlive() {
            if (exit != null) {
                return false;
            }
            if (streamDone.getCount() > 0) {
                return true;
            }
            try {
                var r = client.inspectExecCmd(execId).exec();
                if (Boolean.TRUE.equals(r.isRunning())) {
                    return true;
                }
                exit = r.getExitCodeLong() == null ? -1L : r.getExitCodeLong();
                return false;
            } catch (RuntimeException e) {
                exit = -1L; // the container is gone
                return false;
            }
        }

        @Override
        public int waitFor() throws InterruptedException {
            while (isAlive()) {
                Thread.sleep(100);
            }
            return exitValue();
        }

        @Override
        public boolean waitFor(long timeout, TimeUnit unit) throws InterruptedException {
            long deadline = System.nanoTime() + unit.toNanos(timeout);
            while (isAlive()) {
                if (System.nanoTime() >= deadline) {
                    return false;
                }
                streamDone.await(100, TimeUnit.MILLISECONDS);
                if (streamDone.getCount() == 0) {
                    Thread.sleep(50);
                }
            }
            return true;
        }

        @Override
        public int exitValue() {
            if (isAlive()) {
                throw new IllegalThreadStateException("QEMU still runs in " + name);
            }
            return exit.intValue();
        }

        @Override
        public void destroy() {
            try {
                container.execInContainer("sh", "-c", "kill -9 $(cat " + QEMU_PID + ")");
            } catch (IOException | RuntimeException e) {
                close(); // cannot reach it: remove the container
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                close();
            }
        }

        @Override
        public Process destroyForcibly() {
            destroy();
            return this;
        }

        @Override
        public long pid() {
            throw new UnsupportedOperationException("QEMU runs in container " + name);
        }
    }
}
