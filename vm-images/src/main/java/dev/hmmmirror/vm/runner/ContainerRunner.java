package dev.hmmmirror.vm.runner;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.async.ResultCallback;
import com.github.dockerjava.api.command.WaitContainerResultCallback;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.AccessMode;
import com.github.dockerjava.api.model.Bind;
import com.github.dockerjava.api.model.Container;
import com.github.dockerjava.api.model.Device;
import com.github.dockerjava.api.model.Frame;
import com.github.dockerjava.api.model.HostConfig;
import com.github.dockerjava.api.model.StreamType;
import com.github.dockerjava.api.model.Volume;
import dev.hmmmirror.vm.boot.Accelerator;
import dev.hmmmirror.vm.boot.QemuHost;
import dev.hmmmirror.vm.config.Settings;
import dev.hmmmirror.vm.host.Exec;
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
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongPredicate;
import org.apache.commons.io.file.PathUtils;

/**
 * Runs the guest's QEMU, and builds the module, in a container on a Docker engine
 * ({@link DockerEngine}): this host's engine ({@code hmm.runner=container}) or one at an address
 * that shares no files with this host ({@code hmm.runner=docker:tcp://HOST:PORT}). The host needs
 * the engine and this JVM, not QEMU or the kernel's gcc.
 *
 * <p><b>The image</b> ({@code hmm-mirror/runner:<suite>-<key>}) is the profile's kernel root, as
 * built for the local runner, imported into the engine and given QEMU from the same Debian
 * release ({@code buildImage}, {@code scripts/runner-image-qemu.sh}); nothing is pulled. Why the kernel root and not
 * a QEMU-only image with the kernel root mounted: the module must be built by the kernel's own gcc
 * against its headers, and in an image made of that root they are the container's own toolchain,
 * so the build is a plain {@code make} in the container, with no chroot and no root on the host.
 * One image per profile (about 1 GB), built once per engine, keyed by the kernel root's key and
 * QEMU's version.
 *
 * <p><b>The container</b> (one per guest session, {@code hmm-guest-<profile>-<pid>-<n>}) sleeps;
 * QEMU runs as an exec whose output streams into the console, the build as another exec. No
 * network, no {@code --privileged}; {@code /dev/kvm} only when the accelerator is KVM.
 * <ul>
 * <li><b>This host's engine</b>: the cache is bind-mounted read-only, the run directory and the
 * agent socket directory read-write, all at their host paths, so the QEMU command line, the 9p
 * shares, the console log and the agent socket (created by QEMU, connected to by this JVM) are
 * those of the local runner.
 * <li><b>An engine elsewhere</b>: nothing of this host is mounted. The cache entries the guest
 * reads are copied once per engine into named volumes ({@code hmm-cache-<entry>}: entries are
 * immutable, the name is the key), mounted read-only at their host paths; the kernel root is the
 * image itself (a symlink at its host path points to {@code /}). The run's staged files are copied
 * in before QEMU starts, the module's build directory before and after the build, the results
 * share ({@code out/}) back after every command in the guest and at the end. QEMU listens for the
 * agent on TCP on the container's own loopback; an exec of bash's {@code /dev/tcp} bridges it to
 * this JVM.
 * </ul>
 *
 * <p><b>Whose container</b>: every container and build container carries the labels
 * {@code dev.hmmmirror.runner} (guest, copy, build) and {@code dev.hmmmirror.owner=<host>:<pid>}
 * of the JVM that made it. When a runner starts it removes the containers of its own host whose
 * JVM is gone (a killed run), never one of another host or of a live run ({@link #stale}), on
 * whichever engine it uses.
 *
 * <p><b>No docker CLI</b>: every engine call (image build, containers, execs, copies, volumes,
 * cleanup) is docker-java through {@link DockerEngine}, with a time limit on every call
 * ({@link DockerEngine#call}), so an engine that stops answering ends the guest and
 * {@link #lost()} says so. The one docker-java command that does not work, the import of the
 * kernel root ({@code docker import}), goes through docker-java's own HTTP transport
 * ({@link DockerEngine#importImage}). This host's {@code tar} streams the kernel root, the run's
 * staged files and the module's build directory (it writes owners, device nodes and hard links
 * as the image needs them).
 */
public final class ContainerRunner implements GuestRunner {
    static final String LABEL = "dev.hmmmirror.runner";
    static final String OWNER_LABEL = "dev.hmmmirror.owner";
    /** The repository of the runner images, and of their builds' base images. */
    static final String REPOSITORY = "hmm-mirror/runner";
    private static final String QEMU_PID = "/run/hmm-qemu.pid";
    static final int AGENT_PORT = 5555;
    private static final ConcurrentHashMap<String, ReentrantLock> LOCKS = new ConcurrentHashMap<>();

    private final DockerEngine engine;
    private final String name;
    private final String id;
    private final String tag;
    private final Path runDir;
    private final Path log;
    private final Path imageLog;
    private volatile boolean closed;

    private ContainerRunner(DockerEngine engine, String name, String id, String tag, Path runDir, Path log, Path imageLog) {
        this.engine = engine;
        this.name = name;
        this.id = id;
        this.tag = tag;
        this.runDir = runDir;
        this.log = log;
        this.imageLog = imageLog;
    }

    /**
     * Whether this host's Docker engine answers, cheaply: a {@code GET /_ping} on its unix socket
     * ({@code DOCKER_HOST=unix://...}, else {@code /var/run/docker.sock}), 3 s at most.
     */
    public static boolean dockerAvailable(Settings settings) {
        Path sock = DockerEngine.localSocket(settings).orElse(null);
        if (sock == null || !Files.exists(sock)) {
            return false; // tcp engines: pick them explicitly with docker:ADDRESS
        }
        var answer = CompletableFuture.supplyAsync(() -> {
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

    /** KVM on an engine elsewhere only when asked for ({@code hmm.accel=kvm}): this host cannot probe its /dev/kvm. */
    public static Accelerator.Choice accel(Settings settings, String host) {
        return settings.accel().equalsIgnoreCase("kvm")
                ? new Accelerator.Choice(Accelerator.Kind.KVM, "requested with hmm.accel=kvm on " + host)
                : new Accelerator.Choice(Accelerator.Kind.TCG, "engine " + host + ": KVM only with hmm.accel=kvm");
    }

    /** This session's container on this host's engine ({@code hmm.runner=container}). */
    public static ContainerRunner local(Settings settings, ImageCache cache, GuestImage guest, Path runDir,
            Accelerator.Choice accel) {
        stockOnly(guest);
        if (!dockerAvailable(settings)) {
            throw new SetupException("the container runner needs a running Docker engine (none answers on "
                    + "/var/run/docker.sock or DOCKER_HOST); start dockerd (sudo ci/start-docker.sh), or use -Dhmm.runner=local");
        }
        return start(settings, cache, guest, runDir, accel, DockerEngine.local(settings));
    }

    /** This session's container on the engine at {@code host} ({@code hmm.runner=docker:HOST}), nothing of this host mounted. */
    public static ContainerRunner remote(Settings settings, ImageCache cache, GuestImage guest, Path runDir,
            Accelerator.Choice accel, String host) {
        stockOnly(guest);
        DockerEngine engine;
        try {
            engine = DockerEngine.remote(host);
        } catch (SetupException e) {
            throw new SetupException(notAnswering(host) + " (" + e.getMessage() + ")", e);
        }
        return start(settings, cache, guest, runDir, accel, engine);
    }

    private static String notAnswering(String host) {
        return "the Docker engine " + host + " does not answer (docker -H " + host + " version); is dockerd listening "
                + "there, and are DOCKER_TLS_VERIFY / DOCKER_CERT_PATH set if it wants TLS?";
    }

    private static void stockOnly(GuestImage guest) {
        if (guest.profile().kind() != KernelProfile.Kind.STOCK) {
            throw new SetupException("the container runners (container, docker:ADDRESS) run the stock Debian kernels only; run "
                    + guest.profile().name() + " with --runner local (-Dhmm.runner=local)");
        }
    }

    private static ContainerRunner start(Settings settings, ImageCache cache, GuestImage guest, Path runDir,
            Accelerator.Choice accel, DockerEngine engine) {
        long t0 = System.nanoTime();
        try {
            String version = engine.ping(30).orElseThrow(() -> new SetupException(notAnswering(engine.host())));
            Path log = runDir.resolve("engine.log");
            try {
                Files.createDirectories(runDir);
                Files.deleteIfExists(log);
                if (Files.exists(runDir.resolve("kbuild"))) { // a killed run's module build scratch
                    PathUtils.deleteDirectory(runDir.resolve("kbuild"));
                }
            } catch (IOException e) {
                throw new SetupException("cannot create " + runDir + ": " + e.getMessage(), e);
            }
            removeStale(engine);
            String tag = imageTag(settings, cache, guest);
            Path imageLog = runDir.resolve("runner-image-build.log");
            ensureImage(engine, guest, tag, imageLog);
            List<Bind> binds = new ArrayList<>();
            Path kernelEntry = guest.toolRoot().getParent();
            if (engine.sharesFiles()) {
                Path sockets = QemuHost.agentSocketDir();
                binds.add(new Bind(cache.root().toString(), new Volume(cache.root().toString()), AccessMode.ro));
                binds.add(new Bind(runDir.toString(), new Volume(runDir.toString()), AccessMode.rw));
                binds.add(new Bind(sockets.toString(), new Volume(sockets.toString()), AccessMode.rw));
            } else {
                for (Path entry : guest.cacheEntries()) {
                    if (!entry.equals(kernelEntry)) {
                        binds.add(new Bind(ensureVolume(engine, tag, entry, log), new Volume(entry.toString()), AccessMode.ro));
                    }
                }
            }
            String name = "hmm-guest-" + guest.profile().name() + "-" + ProcessHandle.current().pid() + "-"
                    + Long.toHexString(System.nanoTime() & 0xffffff);
            HostConfig host = HostConfig.newHostConfig().withNetworkMode("none").withBinds(binds);
            if (accel.kvm()) {
                host.withDevices(Device.parse("/dev/kvm"));
            }
            String id = create(engine, tag, name, "guest", host);
            ContainerRunner r = new ContainerRunner(engine, name, id, tag, runDir, log, imageLog);
            try {
                engine.call(120, "start container " + name, () -> engine.client().startContainerCmd(id).exec());
                if (!engine.sharesFiles()) {
                    // the kernel root is the image: its host path leads to / (QEMU's modules share, the build's headers)
                    r.exec(60, log, "mkdir -p " + sh(kernelEntry.toString()) + " && ln -sfn / " + sh(guest.toolRoot().toString())
                            + " && mkdir -p " + sh(runDir.resolve("out").toString()));
                }
            } catch (RuntimeException e) {
                r.close();
                throw new SetupException("cannot start container " + name + " from " + tag + ": " + e.getMessage(), e);
            }
            Progress.say("%s: container %s from %s ready in %s%s", engine.sharesFiles() ? "engine of this host"
                    : "engine " + engine.host() + " (Docker " + version + ")", name, tag, Progress.since(t0),
                    (accel.kvm() ? " (with /dev/kvm)" : "") + (engine.sharesFiles() ? "" : ", nothing of this host mounted"));
            return r;
        } catch (RuntimeException e) {
            engine.close();
            throw e;
        }
    }

    /** Creates (does not start) a sleeping container of ours: labels {@code kind} and this JVM as its owner. */
    private static String create(DockerEngine engine, String image, String name, String kind, HostConfig host) {
        return engine.call(120, "create container " + name, () -> engine.client().createContainerCmd(image).withName(name)
                .withCmd("sleep", "infinity").withLabels(Map.of(LABEL, kind, OWNER_LABEL, owner()))
                .withHostConfig(host).exec().getId());
    }

    /** The runner image's tag for {@code guest}: its kernel root's key, the recipe and QEMU's version. */
    static String imageTag(Settings settings, ImageCache cache, GuestImage guest) {
        String suite = guest.profile().suite();
        Map<String, String> qemu = new PackageIndex(cache, AptSources.debianMirror(settings))
                .resolve(suite, List.of("qemu-system-x86"));
        String key = Scripts.hash(List.of("runner-image-qemu.sh"), guest.toolRoot().getParent().getFileName().toString(),
                qemu.toString());
        return REPOSITORY + ":" + suite + "-" + key;
    }

    /** {@code <hostname>:<pid>} of this JVM: the owner label of the containers it makes. */
    static String owner() {
        return thisHost() + ":" + ProcessHandle.current().pid();
    }

    private static String thisHost() {
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "unknown";
        }
    }

    /**
     * Whether a container whose owner label is {@code owner} is a killed run's of this host, to be
     * removed: its host is {@code thisHost} and its pid is not {@code alive}. Another host's run,
     * a live run, and a container without a well-formed owner are never stale.
     */
    static boolean stale(String owner, String thisHost, LongPredicate alive) {
        if (owner == null || !owner.startsWith(thisHost + ":")) {
            return false;
        }
        String pid = owner.substring(thisHost.length() + 1);
        return pid.matches("\\d{1,18}") && !alive.test(Long.parseLong(pid));
    }

    /**
     * The tag of the base image an image build of {@code owner} ({@code <host>:<pid>}) imports
     * ({@code base-<host>-<pid>-<nonce>}, the host made tag-safe): an image carries no label
     * of ours until it is committed, so its tag names its owner.
     */
    static String baseTag(String owner, String nonce) {
        int colon = owner.lastIndexOf(':');
        return "base-" + tagSafe(owner.substring(0, colon)) + "-" + owner.substring(colon + 1) + "-" + nonce;
    }

    /** A host name as it may stand in an image tag (at most 128 characters in all). */
    private static String tagSafe(String host) {
        String safe = host.replaceAll("[^A-Za-z0-9_.-]", "_");
        return safe.length() > 80 ? safe.substring(0, 80) : safe;
    }

    /** The owner ({@code <host>:<pid>}) named by a {@link #baseTag}, if {@code tag} is one. */
    static Optional<String> baseTagOwner(String tag) {
        var m = java.util.regex.Pattern.compile("base-(.+)-(\\d{1,18})-[0-9a-f]+").matcher(tag);
        return m.matches() ? Optional.of(m.group(1) + ":" + m.group(2)) : Optional.empty();
    }

    /**
     * Removes what a killed run of this host left on {@code engine}: the containers of ours that
     * are {@link #stale}, and the base images of its image builds ({@link #baseTag}) by the same rule.
     */
    static void removeStale(DockerEngine engine) {
        DockerClient client = engine.client();
        LongPredicate alive = pid -> ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
        List<Container> ours = engine.call(60, "list containers",
                () -> client.listContainersCmd().withShowAll(true).withLabelFilter(List.of(LABEL)).exec());
        String me = thisHost();
        for (Container c : ours) {
            if (stale(c.getLabels().get(OWNER_LABEL), me, alive)) {
                Progress.say("engine %s: removing stale container %s (its run is gone)", engine.host(),
                        String.join(",", c.getNames()));
                engine.call(60, "remove container " + c.getId(),
                        () -> client.removeContainerCmd(c.getId()).withForce(true).withRemoveVolumes(true).exec());
            }
        }
        String baseHost = tagSafe(me);
        for (var image : engine.call(60, "list images", () -> client.listImagesCmd().withReferenceFilter(REPOSITORY).exec())) {
            for (String ref : image.getRepoTags() == null ? new String[0] : image.getRepoTags()) {
                String tag = ref.substring(ref.lastIndexOf(':') + 1);
                if (ref.startsWith(REPOSITORY + ":") && stale(baseTagOwner(tag).orElse(null), baseHost, alive)) {
                    Progress.say("engine %s: removing stale image %s (its build was killed)", engine.host(), ref);
                    engine.call(60, "remove image " + ref, () -> {
                        try {
                            client.removeImageCmd(ref).exec();
                        } catch (NotFoundException gone) {
                            // removed meanwhile
                        }
                        return null;
                    });
                }
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
            boolean present = engine.call(60, "inspect image " + tag, () -> {
                try {
                    engine.client().inspectImageCmd(tag).exec();
                    return true;
                } catch (NotFoundException absent) {
                    return false;
                }
            });
            if (present) {
                return;
            }
            long t = System.nanoTime();
            Progress.say("image %s: building the runner image %s on the engine %s (kernel root + QEMU), about 1-3 min; log %s",
                    guest.profile().name(), tag, engine.host(), buildLog);
            buildImage(engine, guest.toolRoot(), tag, buildLog);
            Progress.say("image %s: runner image built in %s", guest.profile().name(), Progress.since(t));
        } finally {
            l.unlock();
        }
    }

    /**
     * Builds runner image {@code tag} on the engine: the kernel root {@code root} streamed by this
     * host's {@code tar} (it writes the root's owners, device nodes and hard links as the image
     * needs them) and imported as a base image, a build container of it (labelled as ours, network
     * of the engine's host) that installs QEMU ({@code scripts/runner-image-qemu.sh}), committed as
     * {@code tag}; the base image and the build container are removed, whatever happened.
     */
    private static void buildImage(DockerEngine engine, Path root, String tag, Path buildLog) {
        DockerClient client = engine.client();
        String repository = tag.substring(0, tag.lastIndexOf(':'));
        String version = tag.substring(tag.lastIndexOf(':') + 1);
        String nonce = Long.toHexString(System.nanoTime() & 0xffffff);
        String base = baseTag(owner(), nonce);
        String name = "hmm-runner-build-" + ProcessHandle.current().pid() + "-" + nonce;
        String id = null;
        try {
            Files.createDirectories(buildLog.getParent());
            Files.writeString(buildLog, "$ tar -C " + sh(root.toString()) + " -c . | import as " + repository + ":" + base + "\n");
            Process tar = new ProcessBuilder("tar", "-C", root.toString(), "--exclude=./tmp/*", "-c", ".")
                    .redirectError(ProcessBuilder.Redirect.appendTo(buildLog.toFile())).start();
            try (InputStream in = tar.getInputStream()) {
                engine.importImage(in, repository, base, 1800);
            } finally {
                if (!tar.waitFor(60, TimeUnit.SECONDS)) {
                    tar.destroyForcibly();
                }
            }
            if (tar.exitValue() != 0) {
                throw new SetupException("tar -C " + root + " -c . failed (exit " + tar.exitValue() + "); see " + buildLog);
            }
            String script = new String(Scripts.bytes("runner-image-qemu.sh"), StandardCharsets.UTF_8);
            id = engine.call(120, "create container " + name, () -> client.createContainerCmd(repository + ":" + base)
                    .withName(name).withCmd("sh", "-c", script).withLabels(Map.of(LABEL, "build", OWNER_LABEL, owner()))
                    .withHostConfig(HostConfig.newHostConfig().withNetworkMode("host")).exec().getId());
            String build = id;
            engine.call(120, "start container " + name, () -> client.startContainerCmd(build).exec());
            try (OutputStream out = Files.newOutputStream(buildLog, StandardOpenOption.APPEND)) {
                var logs = client.logContainerCmd(build).withFollowStream(true).withStdOut(true).withStdErr(true)
                        .exec(new ResultCallback.Adapter<Frame>() {
                            @Override
                            public void onNext(Frame frame) {
                                try {
                                    out.write(frame.getPayload());
                                } catch (IOException e) {
                                    // the log is gone; keep draining
                                }
                            }
                        });
                int exit = engine.call(1800, "install QEMU in " + name,
                        () -> client.waitContainerCmd(build).exec(new WaitContainerResultCallback()).awaitStatusCode());
                logs.awaitCompletion(30, TimeUnit.SECONDS);
                check(exit, name, "installing QEMU (scripts/runner-image-qemu.sh)", buildLog);
            }
            engine.call(300, "commit " + name + " as " + tag, () -> client.commitCmd(build).withRepository(repository)
                    .withTag(version).withCmd("sleep", "infinity").exec());
            Long size = engine.call(60, "inspect image " + tag, () -> client.inspectImageCmd(tag).exec().getSize());
            Files.writeString(buildLog, "image " + tag + ": " + (size == null ? "?" : size / (1 << 20)) + " MiB\n",
                    StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new SetupException("cannot build the runner image " + tag + ": " + e.getMessage() + "; see " + buildLog, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SetupException("interrupted while building the runner image " + tag, e);
        } finally {
            String build = id;
            try {
                if (build != null) {
                    engine.call(60, "remove container " + name, () -> client.removeContainerCmd(build).withForce(true).exec());
                }
            } catch (SetupException e) {
                Progress.say("could not remove container %s: %s (the next run from this host removes it)", name, e.getMessage());
            }
            try {
                engine.call(60, "untag " + repository + ":" + base, () -> {
                    try {
                        client.removeImageCmd(repository + ":" + base).exec();
                    } catch (NotFoundException absent) {
                        // the import failed
                    }
                    return null;
                });
            } catch (SetupException e) {
                Progress.say("could not remove the base image %s:%s: %s", repository, base, e.getMessage());
            }
        }
    }

    /** The volume holding a copy of cache entry {@code entry} on the engine, copied there when it is not complete. */
    private static String ensureVolume(DockerEngine engine, String tag, Path entry, Path log) {
        String volume = ("hmm-cache-" + entry.getFileName()).replaceAll("[^A-Za-z0-9_.-]", "_");
        ReentrantLock l = lock(engine.host() + " " + volume);
        l.lock();
        String name = "hmm-copy-" + ProcessHandle.current().pid() + "-" + Long.toHexString(System.nanoTime() & 0xffffff);
        String id = null;
        try {
            id = create(engine, tag, name, "copy", HostConfig.newHostConfig().withNetworkMode("none")
                    .withBinds(new Bind(volume, new Volume("/v"))));
            String copier = id;
            engine.call(120, "start container " + name, () -> engine.client().startContainerCmd(copier).exec());
            if (run(engine, id, name, 60, log, "test -f /v/.hmm-volume-complete") == 0) {
                return volume;
            }
            long t = System.nanoTime();
            Progress.say("engine %s: copying %s into volume %s (once per engine)", engine.host(), entry.getFileName(), volume);
            check(run(engine, id, name, 300, log, "find /v -mindepth 1 -delete"), name, "emptying " + volume, log);
            copyIn(engine, id, name, entry, ".", "/v", log);
            check(run(engine, id, name, 60, log, "touch /v/.hmm-volume-complete"), name, "marking " + volume, log);
            Progress.say("engine %s: volume %s ready in %s", engine.host(), volume, Progress.since(t));
            return volume;
        } finally {
            String copier = id;
            try {
                if (copier != null) {
                    engine.call(60, "remove container " + name,
                            () -> engine.client().removeContainerCmd(copier).withForce(true).exec());
                }
            } catch (SetupException e) {
                Progress.say("could not remove container %s: %s (the next run from this host removes it)", name, e.getMessage());
            }
            l.unlock();
        }
    }

    /** {@code 'text'} for a shell command line. */
    static String sh(String text) {
        return "'" + text.replace("'", "'\\''") + "'";
    }

    /** Runs {@code script} in container {@code id} with at most {@code seconds}, its output appended to {@code log}; its exit code. */
    private static long run(DockerEngine engine, String id, String name, long seconds, Path log, String script) {
        DockerClient client = engine.client();
        try {
            Files.createDirectories(log.getParent());
            Files.writeString(log, "$ [" + name + "] sh -c " + sh(script) + "\n", StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            String exec = engine.call(60, "start a command in " + name, () -> client.execCreateCmd(id)
                    .withCmd("sh", "-c", script).withAttachStdout(true).withAttachStderr(true).exec().getId());
            try (OutputStream out = Files.newOutputStream(log, StandardOpenOption.APPEND)) {
                var done = client.execStartCmd(exec).exec(new ResultCallback.Adapter<Frame>() {
                    @Override
                    public void onNext(Frame frame) {
                        try {
                            synchronized (out) {
                                out.write(frame.getPayload());
                            }
                        } catch (IOException e) {
                            // the log is gone; keep draining
                        }
                    }
                });
                if (!done.awaitCompletion(seconds, TimeUnit.SECONDS)) {
                    done.close();
                    throw new SetupException("sh -c " + sh(script) + " did not finish in " + seconds + " s in " + name
                            + " (the Docker engine " + engine.host() + " does not answer?); see " + log);
                }
            }
            Long code = engine.call(60, "ask how a command ended in " + name,
                    () -> client.inspectExecCmd(exec).exec().getExitCodeLong());
            return code == null ? -1 : code;
        } catch (IOException e) {
            throw new SetupException("cannot run a command in " + name + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SetupException("interrupted while running a command in " + name, e);
        }
    }

    private static void check(long exit, String name, String what, Path log) {
        if (exit != 0) {
            throw new SetupException(what + " failed in " + name + " (exit " + exit + "); last lines of " + log + ":\n"
                    + Exec.tail(log, 25));
        }
    }

    /** Runs {@code script} in this session's container; fails with the tail of {@code log}. */
    private void exec(long seconds, Path log, String script) {
        check(run(engine, id, name, seconds, log, script), name, "sh -c " + sh(script), log);
    }

    /** Copies {@code what} (a name in {@code dir}, or {@code .}) of this host into {@code to} in container {@code id}. */
    private static void copyIn(DockerEngine engine, String id, String name, Path dir, String what, String to, Path log) {
        try {
            Process tar = new ProcessBuilder("tar", "-C", dir.toString(), "-c", what)
                    .redirectError(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
            try (InputStream in = tar.getInputStream()) {
                engine.call(1800, "copy " + dir.resolve(what).normalize() + " into " + name, () -> engine.client()
                        .copyArchiveToContainerCmd(id).withRemotePath(to).withTarInputStream(in).exec());
            } finally {
                if (!tar.waitFor(60, TimeUnit.SECONDS)) {
                    tar.destroyForcibly();
                }
            }
            if (tar.exitValue() != 0) {
                throw new SetupException("tar -C " + dir + " -c " + what + " failed (exit " + tar.exitValue() + "); see " + log);
            }
        } catch (IOException e) {
            throw new SetupException("cannot run tar: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SetupException("interrupted while copying into " + name, e);
        }
    }

    /** Copies {@code dir} (under the run folder) into the container at the same path, replacing what was there. */
    private void copyIn(Path dir) {
        exec(60, log, "rm -rf " + sh(dir.toString()) + " && mkdir -p " + sh(dir.getParent().toString()));
        copyIn(engine, id, name, dir.getParent(), dir.getFileName().toString(), dir.getParent().toString(), log);
    }

    /** Copies {@code dir} of the container back to the same path here (files added or changed there). */
    private void copyOut(Path dir) {
        try {
            Files.createDirectories(dir);
            Process tar = new ProcessBuilder("tar", "-C", dir.getParent().toString(), "-x")
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .redirectError(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
            try (OutputStream out = tar.getOutputStream()) {
                engine.call(600, "copy " + dir + " back from " + name, () -> {
                    try (InputStream in = engine.client().copyArchiveFromContainerCmd(id, dir.toString()).exec()) {
                        return in.transferTo(out);
                    }
                });
            } finally {
                if (!tar.waitFor(60, TimeUnit.SECONDS)) {
                    tar.destroyForcibly();
                }
            }
            if (tar.exitValue() != 0) {
                throw new SetupException("tar -C " + dir.getParent() + " -x failed (exit " + tar.exitValue() + "); see " + log);
            }
        } catch (IOException e) {
            throw new SetupException("cannot copy " + dir + " back: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SetupException("interrupted while copying " + dir + " back", e);
        }
    }

    @Override
    public void collectResults(Path outShare) {
        if (!closed && !engine.sharesFiles()) {
            try {
                copyOut(outShare);
            } catch (SetupException e) {
                Progress.say("engine %s: could not copy the results back: %s", engine.host(), e.getMessage());
            }
        }
    }

    @Override
    public Optional<String> lost() {
        // asked after close() too (the suite runner asks once the session ended): then with a new connection
        Optional<String> answer = closed ? DockerEngine.ping(engine.host(), 15) : engine.ping(15);
        return answer.isPresent() ? Optional.empty()
                : Optional.of("the Docker engine " + engine.host() + " stopped answering during the run");
    }

    @Override
    public String describe() {
        return engine.sharesFiles() ? "container " + name + " (" + tag + ")" : "engine " + engine.host() + ", container " + name;
    }

    @Override
    public String qemu() {
        return "qemu-system-x86_64";
    }

    @Override
    public Path socketDir() {
        // this host's engine: bind-mounted at the same path. Elsewhere unused: the agent port is TCP in the container
        return QemuHost.agentSocketDir();
    }

    @Override
    public String agentChardev(Path socket) {
        return engine.sharesFiles() ? GuestRunner.super.agentChardev(socket)
                : "socket,id=agent,host=127.0.0.1,port=" + AGENT_PORT + ",server=on,wait=off";
    }

    @Override
    public AgentChannel connectAgent(Path socket) throws IOException {
        if (engine.sharesFiles()) {
            return GuestRunner.super.connectAgent(socket);
        }
        // bash's /dev/tcp: connect once QEMU listens (it does once it runs), then copy both ways
        String bridge = "end=$((SECONDS + 600)); while ! { exec 3<>/dev/tcp/127.0.0.1/" + AGENT_PORT + "; } 2>/dev/null; do"
                + " [ $SECONDS -lt $end ] || exit 1; sleep 0.1; done; cat <&3 & exec cat >&3";
        ExecStream bridged = new ExecStream(List.of("bash", "-c", bridge), true);
        return new AgentChannel(bridged.output, bridged.input, () -> {
            bridged.input.close();
            try {
                if (!bridged.streamDone.await(5, TimeUnit.SECONDS)) {
                    bridged.callback.close();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                bridged.callback.close();
            }
        });
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
                if (!engine.sharesFiles()) {
                    copyIn(kbuild);
                }
                exec(timeoutSeconds, buildLog, script);
                if (!engine.sharesFiles()) {
                    copyOut(kbuild);
                }
            }
        };
    }

    @Override
    public Process launch(List<String> command) throws IOException {
        if (!engine.sharesFiles()) {
            copyIn(runDir.resolve("host"));
            exec(60, log, "rm -rf " + sh(runDir.resolve("out").toString()) + " && mkdir -p " + sh(runDir.resolve("out").toString()));
        }
        List<String> cmd = new ArrayList<>(List.of("sh", "-c", "echo $$ > " + QEMU_PID + " && exec \"$@\"", "sh"));
        cmd.addAll(command);
        return new ExecProcess(new ExecStream(cmd, false));
    }

    @Override
    public String diagnostics() {
        return "\nrunner: " + describe() + " (image " + tag + (engine.sharesFiles() ? "" : ", nothing of this host mounted")
                + "); QEMU's output is in the console log; commands and copies: " + log
                + (Files.exists(imageLog) ? "; runner image build log: " + imageLog : "");
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        collectResults(runDir.resolve("out"));
        closed = true;
        try {
            engine.call(60, "remove container " + name,
                    () -> engine.client().removeContainerCmd(id).withForce(true).withRemoveVolumes(true).exec());
        } catch (SetupException e) {
            Progress.say("could not remove container %s on %s: %s (the next run from this host removes it)", name,
                    engine.host(), e.getMessage());
        }
        engine.close();
    }

    /**
     * A command run as an exec in the container: its standard output and error as one stream, its
     * standard input (when {@code stdin}) as another.
     */
    private final class ExecStream {
        final String execId;
        final InputStream output;
        final OutputStream input;
        final CountDownLatch streamDone = new CountDownLatch(1);
        final ResultCallback.Adapter<Frame> callback;

        ExecStream(List<String> cmd, boolean stdin) throws IOException {
            DockerClient client = engine.client();
            execId = engine.call(60, "start a command in " + name, () -> client.execCreateCmd(id)
                    .withCmd(cmd.toArray(String[]::new)).withAttachStdin(stdin).withAttachStdout(true)
                    .withAttachStderr(!stdin).exec().getId());
            // pipes between the docker callback's thread and the reader (java.nio, no thread checks)
            Pipe out = Pipe.open();
            OutputStream sink = Channels.newOutputStream(out.sink());
            output = Channels.newInputStream(out.source());
            var start = client.execStartCmd(execId);
            if (stdin) {
                Pipe in = Pipe.open();
                input = Channels.newOutputStream(in.sink());
                start.withStdIn(Channels.newInputStream(in.source()));
            } else {
                input = OutputStream.nullOutputStream();
            }
            callback = start.exec(new ResultCallback.Adapter<Frame>() {
                @Override
                public void onNext(Frame frame) {
                    if (frame.getStreamType() == StreamType.STDERR && stdin) {
                        return; // the bridge's own complaints: not the agent's bytes
                    }
                    try {
                        sink.write(frame.getPayload());
                    } catch (IOException e) {
                        // the reader went away; keep draining
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
    }

    /** QEMU as an exec in the container, seen as a {@link Process}: output = the exec's stdout and stderr. */
    private final class ExecProcess extends Process {
        private final ExecStream exec;
        private volatile Long exit;

        ExecProcess(ExecStream exec) {
            this.exec = exec;
        }

        @Override
        public OutputStream getOutputStream() {
            return OutputStream.nullOutputStream();
        }

        @Override
        public InputStream getInputStream() {
            return exec.output;
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
            if (exec.streamDone.getCount() > 0) {
                return true;
            }
            try {
                var r = engine.call(15, "ask whether QEMU runs in " + name,
                        () -> engine.client().inspectExecCmd(exec.execId).exec());
                if (Boolean.TRUE.equals(r.isRunning())) {
                    return true;
                }
                exit = r.getExitCodeLong() == null ? -1L : r.getExitCodeLong();
                return false;
            } catch (RuntimeException e) {
                exit = -1L; // the container or the engine is gone
                return false;
            }
        }

        @Override
        public int waitFor() throws InterruptedException {
            while (isAlive()) {
                exec.streamDone.await(100, TimeUnit.MILLISECONDS);
                if (exec.streamDone.getCount() == 0) {
                    Thread.sleep(50);
                }
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
                exec.streamDone.await(100, TimeUnit.MILLISECONDS);
                if (exec.streamDone.getCount() == 0) {
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
                run(engine, id, name, 30, log, "kill -9 $(cat " + QEMU_PID + ")");
                exec.streamDone.await(10, TimeUnit.SECONDS);
            } catch (SetupException e) {
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
            throw new UnsupportedOperationException("QEMU runs in container " + name + " on " + engine.host());
        }
    }
}
