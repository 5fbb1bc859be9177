package dev.hmmmirror.vm.runner;

import dev.hmmmirror.vm.boot.Accelerator;
import dev.hmmmirror.vm.config.Settings;
import dev.hmmmirror.vm.host.Exec;
import dev.hmmmirror.vm.host.Progress;
import dev.hmmmirror.vm.host.SetupException;
import dev.hmmmirror.vm.host.Toolchain;
import dev.hmmmirror.vm.image.GuestImage;
import dev.hmmmirror.vm.image.ImageCache;
import dev.hmmmirror.vm.image.KernelProfile;
import dev.hmmmirror.vm.image.Scripts;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The container runner on a Docker engine that does not share this host's filesystem
 * ({@code hmm.runner=docker:tcp://HOST:PORT}): nothing of this host is mounted into the container.
 *
 * <ul>
 * <li><b>Image</b>: the same runner image as {@link ContainerRunner}'s (the profile's kernel root +
 * QEMU), built on that engine by the same recipe when it lacks it (the kernel root is streamed
 * to the engine by {@code docker import}; apt runs there).
 * <li><b>Inputs</b>: the cache entries the guest reads (userland, vmlinux + initramfs) are copied
 * once per engine into named volumes ({@code hmm-cache-<entry>}; entries are immutable, so the
 * name is the key), mounted read-only at their host paths; the kernel root is the image itself
 * (a symlink at its host path points to {@code /}). The run's staged files (module, jars, scripts)
 * are copied into the container before QEMU starts, and the module's build directory before and
 * after the build.
 * <li><b>Outputs</b>: the console is QEMU's standard output, streamed by {@code docker exec}; the
 * results share ({@code out/}) is copied back after every command in the guest and at the end.
 * <li><b>Agent</b>: QEMU listens for the agent's serial port on TCP inside the container (its own
 * loopback: the container has no network); a {@code docker exec} of bash's {@code /dev/tcp}
 * bridges it to this JVM.
 * </ul>
 * Every docker call has a time limit; an engine that stops answering ends the guest (its exec
 * streams close) and {@link #lost()} says so, so that the run reports "could not build or boot"
 * instead of hanging.
 */
public final class EngineRunner implements GuestRunner {
    static final String LABEL = "dev.hmmmirror.runner";
    static final String OWNER_LABEL = "dev.hmmmirror.owner";
    private static final String QEMU_PID = "/run/hmm-qemu.pid";
    static final int AGENT_PORT = 5555;
    private static final ConcurrentHashMap<String, ReentrantLock> LOCKS = new ConcurrentHashMap<>();

    private final DockerEngine engine;
    private final String name;
    private final String tag;
    private final Path runDir;
    private final Path log;
    private volatile boolean closed;

    private EngineRunner(DockerEngine engine, String name, String tag, Path runDir, Path log) {
        this.engine = engine;
        this.name = name;
        this.tag = tag;
        this.runDir = runDir;
        this.log = log;
    }

    /** KVM only when asked for ({@code hmm.accel=kvm}): this host cannot probe the engine's /dev/kvm. */
    public static Accelerator.Choice accel(Settings settings, String host) {
        return settings.accel().equalsIgnoreCase("kvm")
                ? new Accelerator.Choice(Accelerator.Kind.KVM, "requested with hmm.accel=kvm on " + host)
                : new Accelerator.Choice(Accelerator.Kind.TCG, "engine " + host + ": KVM only with hmm.accel=kvm");
    }

    /** Ensures the image and the cache volumes on the engine at {@code host} and starts this session's container. */
    public static EngineRunner start(Settings settings, ImageCache cache, GuestImage guest, Path runDir,
            Accelerator.Choice accel, String host) {
        if (guest.profile().kind() != KernelProfile.Kind.STOCK) {
            throw new SetupException("a Docker engine runs the stock Debian kernels only; run "
                    + guest.profile().name() + " with --runner local (-Dhmm.runner=local)");
        }
        DockerEngine engine = new DockerEngine(host);
        long t0 = System.nanoTime();
        String version = engine.ping(30).orElseThrow(() -> new SetupException("the Docker engine " + host
                + " does not answer (docker -H " + host + " version); is dockerd listening there, and are "
                + "DOCKER_TLS_VERIFY / DOCKER_CERT_PATH set if it wants TLS?"));
        Path log = runDir.resolve("engine.log");
        try {
            Files.createDirectories(runDir);
            Files.deleteIfExists(log);
        } catch (IOException e) {
            throw new SetupException("cannot create " + runDir + ": " + e.getMessage(), e);
        }
        removeStale(engine);
        String tag = ContainerRunner.imageTag(settings, cache, guest);
        ensureImage(engine, guest, tag, runDir.resolve("engine-image-build.log"));
        Path kernelEntry = guest.toolRoot().getParent();
        List<String> volumes = new ArrayList<>();
        for (Path entry : guest.cacheEntries()) {
            if (!entry.equals(kernelEntry)) {
                volumes.add("-v");
                volumes.add(ensureVolume(engine, tag, entry, log) + ":" + entry + ":ro");
            }
        }
        String name = "hmm-guest-" + guest.profile().name() + "-" + ProcessHandle.current().pid() + "-"
                + Long.toHexString(System.nanoTime() & 0xffffff);
        List<String> run = new ArrayList<>(List.of("run", "-d", "--name", name, "--network", "none",
                "--label", LABEL + "=guest", "--label", OWNER_LABEL + "=" + owner()));
        run.addAll(volumes);
        if (accel.kvm()) {
            run.addAll(List.of("--device", "/dev/kvm"));
        }
        run.addAll(List.of(tag, "sleep", "infinity"));
        engine.output(120, run.toArray(String[]::new));
        EngineRunner r = new EngineRunner(engine, name, tag, runDir, log);
        try {
            // the kernel root is the image: its host path leads to / (QEMU's modules share, the build's headers)
            r.exec(60, "mkdir -p " + DockerEngine.sh(kernelEntry.toString()) + " && ln -sfn / "
                    + DockerEngine.sh(guest.toolRoot().toString()) + " && mkdir -p " + DockerEngine.sh(runDir.resolve("out").toString()));
        } catch (RuntimeException e) {
            r.close();
            throw e;
        }
        Progress.say("engine %s (Docker %s): container %s from %s ready in %s, nothing of this host mounted", host,
                version, name, tag, Progress.since(t0));
        return r;
    }

    /** {@code <hostname>:<pid>}: whose container it is, so that a later run on this host can remove a killed run's. */
    private static String owner() {
        String host;
        try {
            host = java.net.InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            host = "unknown";
        }
        return host + ":" + ProcessHandle.current().pid();
    }

    private static void removeStale(DockerEngine engine) {
        String me = owner();
        String myHost = me.substring(0, me.lastIndexOf(':'));
        String list = engine.output(60, "ps", "-a", "--filter", "label=" + LABEL, "--format",
                "{{.ID}} {{.Label \"" + OWNER_LABEL + "\"}}");
        for (String line : list.lines().toList()) {
            String[] w = line.strip().split(" ");
            if (w.length < 2 || !w[1].startsWith(myHost + ":")) {
                continue; // another machine's run: not ours to judge
            }
            String pid = w[1].substring(myHost.length() + 1);
            boolean alive = pid.matches("\\d+") && ProcessHandle.of(Long.parseLong(pid)).map(ProcessHandle::isAlive)
                    .orElse(false);
            if (!alive) {
                Progress.say("engine %s: removing stale container %s (its run is gone)", engine.host(), w[0]);
                engine.output(60, "rm", "-f", w[0]);
            }
        }
    }

    private static ReentrantLock lock(String what) {
        return LOCKS.computeIfAbsent(what, k -> new ReentrantLock());
    }

    /** Builds the runner image {@code tag} on the engine unless it has it. */
    private static void ensureImage(DockerEngine engine, GuestImage guest, String tag, Path buildLog) {
        ReentrantLock l = lock(engine.host() + " " + tag);
        l.lock();
        try {
            try {
                engine.output(60, "image", "inspect", "--format", "{{.Id}}", tag);
                return;
            } catch (SetupException absent) {
                // build it below
            }
            long t = System.nanoTime();
            Progress.say("engine %s: building the runner image %s there (kernel root + QEMU), about 1-3 min; log %s",
                    engine.host(), tag, buildLog);
            Exec.run(buildLog, 1800, List.of("env", "DOCKER_HOST=" + engine.host(), "bash",
                    Scripts.install("build-runner-image.sh", buildLog.resolveSibling("engine-scripts")).toString(),
                    guest.toolRoot().toString(), tag, String.valueOf(ProcessHandle.current().pid())));
            Progress.say("engine %s: runner image built in %s", engine.host(), Progress.since(t));
        } finally {
            l.unlock();
        }
    }

    /** The volume holding a copy of cache entry {@code entry} on the engine, copied there when it is not complete. */
    private static String ensureVolume(DockerEngine engine, String tag, Path entry, Path log) {
        String volume = ("hmm-cache-" + entry.getFileName()).replaceAll("[^A-Za-z0-9_.-]", "_");
        ReentrantLock l = lock(engine.host() + " " + volume);
        l.lock();
        try {
            try {
                engine.output(120, "run", "--rm", "--network", "none", "-v", volume + ":/v", tag,
                        "test", "-f", "/v/.hmm-volume-complete");
                return volume;
            } catch (SetupException absent) {
                // copy it below
            }
            long t = System.nanoTime();
            Progress.say("engine %s: copying %s into volume %s (once per engine)", engine.host(), entry.getFileName(),
                    volume);
            DockerEngine.run(1800, log, null, List.of("sh", "-c", "tar -C " + DockerEngine.sh(entry.toString())
                    + " -c . | " + engine.shell("run", "-i", "--rm", "--network", "none", "--label", LABEL + "=copy",
                            "-v", volume + ":/v", tag, "sh", "-c",
                            "find /v -mindepth 1 -delete && tar -C /v -x && touch /v/.hmm-volume-complete")));
            Progress.say("engine %s: volume %s ready in %s", engine.host(), volume, Progress.since(t));
            return volume;
        } finally {
            l.unlock();
        }
    }

    /** Runs {@code script} in the container, output to the engine log. */
    private void exec(long seconds, String script) {
        DockerEngine.run(seconds, log, null, engine.command("exec", name, "sh", "-c", script));
    }

    /** Copies {@code dir} (under the run folder) into the container at the same path, replacing what was there. */
    private void copyIn(Path dir) {
        String parent = DockerEngine.sh(dir.getParent().toString());
        DockerEngine.run(600, log, null, List.of("sh", "-c", "tar -C " + parent + " -c "
                + DockerEngine.sh(dir.getFileName().toString()) + " | " + engine.shell("exec", "-i", name, "sh", "-c",
                        "rm -rf " + DockerEngine.sh(dir.toString()) + " && mkdir -p " + parent + " && tar -C " + parent + " -x")));
    }

    /** Copies {@code dir} of the container back to the same path here (files added or changed there). */
    private void copyOut(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new SetupException("cannot create " + dir + ": " + e.getMessage(), e);
        }
        DockerEngine.run(600, log, null, List.of("sh", "-c", engine.shell("exec", name, "tar", "-C", dir.toString(), "-c",
                ".") + " | tar -C " + DockerEngine.sh(dir.toString()) + " -x"));
    }

    @Override
    public void collectResults(Path outShare) {
        if (!closed) {
            try {
                copyOut(outShare);
            } catch (SetupException e) {
                Progress.say("engine %s: could not copy the results back: %s", engine.host(), e.getMessage());
            }
        }
    }

    @Override
    public Optional<String> lost() {
        return engine.ping(15).isPresent() ? Optional.empty()
                : Optional.of("the Docker engine " + engine.host() + " stopped answering during the run");
    }

    @Override
    public String describe() {
        return "engine " + engine.host() + ", container " + name;
    }

    @Override
    public String qemu() {
        return "qemu-system-x86_64";
    }

    @Override
    public Path socketDir() {
        return dev.hmmmirror.vm.boot.QemuHost.agentSocketDir(); // unused: the agent port is TCP in the container
    }

    @Override
    public String agentChardev(Path socket) {
        return "socket,id=agent,host=127.0.0.1,port=" + AGENT_PORT + ",server=on,wait=off";
    }

    @Override
    public AgentChannel connectAgent(Path socket) throws IOException {
        // bash's /dev/tcp: connect once QEMU listens (it does once it runs), then copy both ways
        String bridge = "end=$((SECONDS + 600)); while ! { exec 3<>/dev/tcp/127.0.0.1/" + AGENT_PORT + "; } 2>/dev/null; do"
                + " [ $SECONDS -lt $end ] || exit 1; sleep 0.1; done; cat <&3 & exec cat >&3";
        Process p = new ProcessBuilder(engine.command("exec", "-i", name, "bash", "-c", bridge))
                .redirectError(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        return new AgentChannel(p.getInputStream(), p.getOutputStream(), () -> {
            p.getOutputStream().close();
            if (!waitQuietly(p, 5)) {
                p.destroyForcibly();
            }
        });
    }

    private static boolean waitQuietly(Process p, long seconds) {
        try {
            return p.waitFor(seconds, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    @Override
    public Toolchain toolchain(GuestImage image) {
        Path kbuild = runDir.resolve("kbuild");
        return new Toolchain() {
            @Override
            public Path scratch(String dirName) throws IOException {
                return Toolchain.emptyDir(kbuild.resolve(dirName));
            }

            @Override
            public String path(Path hostPath) {
                return hostPath.toString();
            }

            @Override
            public void run(Path buildLog, long timeoutSeconds, String script) {
                copyIn(kbuild);
                DockerEngine.run(timeoutSeconds, buildLog, null, engine.command("exec", name, "sh", "-c", script));
                copyOut(kbuild);
            }
        };
    }

    @Override
    public Process launch(List<String> command) throws IOException {
        copyIn(runDir.resolve("host"));
        exec(60, "rm -rf " + DockerEngine.sh(runDir.resolve("out").toString()) + " && mkdir -p "
                + DockerEngine.sh(runDir.resolve("out").toString()));
        List<String> cmd = new ArrayList<>(List.of("exec", name, "sh", "-c", "echo $$ > " + QEMU_PID + " && exec \"$@\"",
                "sh"));
        cmd.addAll(command);
        Process cli = new ProcessBuilder(engine.command(cmd.toArray(String[]::new))).redirectErrorStream(true).start();
        cli.getOutputStream().close();
        return new QemuProcess(cli);
    }

    @Override
    public String diagnostics() {
        return "\nrunner: " + describe() + " (image " + tag + ", nothing of this host mounted); docker calls and "
                + "copies: " + log;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        collectResults(runDir.resolve("out"));
        closed = true;
        try {
            engine.output(60, "rm", "-f", name);
        } catch (SetupException e) {
            Progress.say("could not remove container %s on %s: %s (the next run from this host removes it)", name,
                    engine.host(), e.getMessage());
        }
    }

    /** QEMU run by {@code docker exec}: killing it kills QEMU in the container, not only the docker client. */
    private final class QemuProcess extends Process {
        private final Process cli;

        QemuProcess(Process cli) {
            this.cli = cli;
        }

        @Override
        public OutputStream getOutputStream() {
            return cli.getOutputStream();
        }

        @Override
        public InputStream getInputStream() {
            return cli.getInputStream();
        }

        @Override
        public InputStream getErrorStream() {
            return cli.getErrorStream();
        }

        @Override
        public int waitFor() throws InterruptedException {
            return cli.waitFor();
        }

        @Override
        public boolean waitFor(long timeout, TimeUnit unit) throws InterruptedException {
            return cli.waitFor(timeout, unit);
        }

        @Override
        public int exitValue() {
            return cli.exitValue();
        }

        @Override
        public boolean isAlive() {
            return cli.isAlive();
        }

        @Override
        public void destroy() {
            try {
                exec(30, "kill -9 $(cat " + QEMU_PID + ")");
            } catch (SetupException e) {
                // the engine is gone, or QEMU is: nothing left to kill there
            }
            if (!waitQuietly(cli, 10)) {
                cli.destroyForcibly();
            }
        }

        @Override
        public Process destroyForcibly() {
            destroy();
            return this;
        }

        @Override
        public long pid() {
            throw new UnsupportedOperationException("QEMU runs in container " + name + " on " + engine.host());
        }
    }
}
