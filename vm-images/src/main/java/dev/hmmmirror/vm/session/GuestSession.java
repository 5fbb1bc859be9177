package dev.hmmmirror.vm.session;

import dev.hmmmirror.agent.protocol.GuestResult;
import dev.hmmmirror.agent.protocol.Markers;
import dev.hmmmirror.agent.protocol.Protocol;
import dev.hmmmirror.vm.boot.Accelerator;
import dev.hmmmirror.vm.boot.Console;
import dev.hmmmirror.vm.boot.GuestFailure;
import dev.hmmmirror.vm.boot.GuestVm;
import dev.hmmmirror.vm.boot.KernelSplat;
import dev.hmmmirror.vm.build.ModuleBuild;
import dev.hmmmirror.vm.build.ModuleCoverageBuild;
import dev.hmmmirror.vm.build.ModuleSources;
import dev.hmmmirror.vm.config.Setting;
import dev.hmmmirror.vm.config.Settings;
import dev.hmmmirror.vm.host.Prerequisites;
import dev.hmmmirror.vm.host.Progress;
import dev.hmmmirror.vm.host.Toolchain;
import dev.hmmmirror.vm.image.GuestImage;
import dev.hmmmirror.vm.image.GuestImages;
import dev.hmmmirror.vm.image.ImageCache;
import dev.hmmmirror.vm.image.KernelProfile;
import dev.hmmmirror.vm.image.Scripts;
import dev.hmmmirror.vm.runner.GuestRunner;
import dev.hmmmirror.vm.runner.RunnerSelection;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.commons.io.file.PathUtils;

/**
 * A booted guest for one kernel profile, with hmm_mirror.ko loaded and the guest agent JVM
 * running: the image is ensured, the module built with the kernel's gcc, the guest's part of the
 * classpath staged into the host share ({@link GuestClasspath}), QEMU booted. One per run and
 * profile; requests run one at a time. Its {@linkplain SessionHook hooks} run when it closes.
 */
public final class GuestSession implements AutoCloseable {
    private final Settings settings;
    private final KernelProfile profile;
    private final GuestImage image;
    private final GuestVm vm;
    private final GuestRunner runner;
    private final Path runDir;
    private final Timings timings;
    private Startup startup;
    private final Accelerator.Choice accel;
    private final List<SessionHook<?>> hooks;
    private Optional<ModuleCoverageBuild> moduleCoverage = Optional.empty();
    private List<AutoCloseable> holds = List.of();
    private int splatsReported;
    private End end;
    private boolean closed;

    /**
     * What a session start took, in host seconds.
     *
     * @param image      ensuring the image (and module build)
     * @param init       QEMU start to the initramfs /init
     * @param agentReady QEMU start to the guest agent's HELLO
     */
    public record Timings(double image, double init, double agentReady) {}

    /**
     * Where a session's start went, in host seconds from QEMU start: the console markers and the
     * agent's HELLO carry the guest's uptime, which is put on the host's clock at the /init
     * marker. -1 where the guest did not say.
     *
     * @param init     the initramfs /init ran
     * @param root     the userland was mounted (9p and overlay modules loaded), switching to it
     * @param module   {@code insmod hmm_mirror.ko} returned
     * @param jvmStart the agent's JVM process started
     * @param jvmMain  the agent's {@code main} ran
     * @param hello    the agent said HELLO (guest clock)
     */
    public record Startup(double init, double root, double module, double jvmStart, double jvmMain, double hello) {
        /** From the console's markers and the agent's HELLO text. */
        static Startup of(List<Console.Marker> markers, String hello) {
            double initHost = -1;
            double initUptime = -1;
            double root = -1;
            double module = -1;
            for (Console.Marker m : markers) {
                double up = value(m.text(), "uptime");
                if (m.text().startsWith(Markers.INIT + " ") && initHost < 0) {
                    initHost = m.seconds();
                    initUptime = up;
                } else if (m.text().startsWith(Markers.ROOT + " ") && root < 0) {
                    root = up;
                } else if (m.text().startsWith(Markers.MODULE + " ") && module < 0) {
                    module = up;
                }
            }
            double offset = initHost - initUptime;
            boolean known = initHost >= 0 && initUptime >= 0;
            java.util.function.DoubleUnaryOperator host = up -> known && up >= 0 ? up + offset : -1;
            return new Startup(initHost, host.applyAsDouble(root), host.applyAsDouble(module),
                    host.applyAsDouble(value(hello, "start")), host.applyAsDouble(value(hello, "main")),
                    host.applyAsDouble(value(hello, "hello")));
        }

        /** The number after {@code key=} in {@code text}, or -1. */
        static double value(String text, String key) {
            if (text == null) {
                return -1;
            }
            for (String w : text.split(" ")) {
                if (w.startsWith(key + "=")) {
                    try {
                        return Double.parseDouble(w.substring(key.length() + 1));
                    } catch (NumberFormatException e) {
                        return -1;
                    }
                }
            }
            return -1;
        }
    }

    /**
     * How a session ended.
     *
     * @param lateSplats kernel reports after the last request (while hooks ran, at rmmod, at power-off)
     * @param unloaded   whether {@code rmmod hmm_mirror} succeeded at the end
     * @param results    each hook's result, by hook
     * @param hookFailure a hook that killed the guest, or null
     */
    public record End(List<KernelSplat> lateSplats, boolean unloaded, Map<SessionHook<?>, Object> results,
            GuestFailure hookFailure) {
        /** The result of {@code hook}, when it ran. */
        @SuppressWarnings("unchecked")
        public <R> Optional<R> result(SessionHook<R> hook) {
            return Optional.ofNullable((R) results.get(hook));
        }
    }

    /**
     * What to start: the settings, the kernel, what goes into the guest.
     *
     * @param settings  the run's configuration
     * @param profile   the kernel profile
     * @param classpath the host classpath to take the guest's part of ({@link GuestClasspath#forGuest})
     * @param programs  static C programs built for the guest and staged at {@code /hmm/host/<name>}
     * @param hooks     work done in the guest before it powers off
     * @param workDir   a host directory the guest mounts read-write at the same path, or null
     */
    public record Spec(Settings settings, KernelProfile profile, List<Path> classpath, Map<String, byte[]> programs,
            List<SessionHook<?>> hooks, Path workDir) {
        public Spec {
            settings = settings.with(Setting.KERNEL, profile.name()); // one name for the kernel, whoever asks
            workDir = workDir == null ? null : workDir.toAbsolutePath().normalize();
        }

        /** Without a work directory. */
        public Spec(Settings settings, KernelProfile profile, List<Path> classpath, Map<String, byte[]> programs,
                List<SessionHook<?>> hooks) {
            this(settings, profile, classpath, programs, hooks, null);
        }

        /** The same, with {@code dir} mounted read-write in the guest at its host path. */
        public Spec withWorkDir(Path dir) {
            return new Spec(settings, profile, classpath, programs, hooks, dir);
        }

        /** The tests' usual session: this JVM's classpath, no extra programs. */
        public static Spec of(Settings settings, KernelProfile profile, List<SessionHook<?>> hooks) {
            return new Spec(settings, profile, GuestClasspath.current(), Map.of(), hooks);
        }
    }

    private GuestSession(Spec spec, GuestImage image, GuestVm vm, GuestRunner runner, Path runDir, Timings timings,
            Accelerator.Choice accel) {
        this.settings = spec.settings();
        this.profile = spec.profile();
        this.hooks = List.copyOf(spec.hooks());
        this.image = image;
        this.vm = vm;
        this.runner = runner;
        this.runDir = runDir;
        this.timings = timings;
        this.accel = accel;
    }

    /** The guest's java launcher (a user program started with it sees {@code /dev/hmm_mirrorN}). */
    public static final String GUEST_JAVA = GuestJvm.JAVA;

    /** JVM flags for a user's Java program in the guest ({@code hmm run --java}): native access, the guest's mode. */
    public static List<String> programJvmFlags(Settings settings) {
        return GuestJvm.programFlags(settings);
    }

    /**
     * Stages {@code classpath} (jars or class folders, in this order) into the results share
     * ({@code /hmm/out/java}) and returns the guest shell command that runs {@code program} (a main
     * class and its arguments) with them: {@code exec java <programJvmFlags> <jvmOptions> -cp ...}.
     * For {@code hmm run --java}, {@code hmm explore} and the mutation campaign's explorer: one way
     * a host-side tool starts a Java program of its own in the guest.
     *
     * @throws UncheckedIOException if an entry cannot be copied into the share
     */
    public String javaCommand(List<Path> classpath, List<String> jvmOptions, List<String> program) {
        Path staged = runDir.resolve("out/java");
        List<String> cp = new ArrayList<>();
        try {
            Files.createDirectories(staged);
            int i = 0;
            for (Path e : classpath) {
                Path to = staged.resolve(String.format("%02d-%s", i++, e.getFileName()));
                if (Files.isDirectory(e)) {
                    PathUtils.copyDirectory(e, to);
                } else {
                    Files.copy(e, to, StandardCopyOption.REPLACE_EXISTING);
                }
                cp.add("/hmm/out/java/" + to.getFileName());
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot stage the Java program's classpath into " + staged + ": "
                    + e.getMessage(), e);
        }
        List<String> cmd = new ArrayList<>(List.of(GUEST_JAVA));
        cmd.addAll(programJvmFlags(settings));
        cmd.addAll(jvmOptions);
        cmd.add("-cp");
        cmd.add(String.join(":", cp));
        cmd.addAll(program);
        return "exec " + shellQuote(cmd);
    }

    /** {@code words} as one line for the guest's shell, each word in single quotes. */
    public static String shellQuote(List<String> words) {
        StringBuilder b = new StringBuilder();
        for (String w : words) {
            b.append(b.isEmpty() ? "" : " ").append('\'').append(w.replace("'", "'\\''")).append('\'');
        }
        return b.toString();
    }

    /** Timeout of one request: {@code hmm.test.timeout} seconds, default 600 under TCG, 120 with KVM. */
    public static Duration requestTimeout(Settings settings, Accelerator.Choice accel) {
        return Duration.ofSeconds(settings.testTimeoutSeconds().orElse(accel.kvm() ? 120 : 600));
    }

    /** Timeout of a boot up to the agent: {@code hmm.boot.timeout} seconds, default 300 under TCG, 90 with KVM. */
    public static Duration bootTimeout(Settings settings, Accelerator.Choice accel) {
        return Duration.ofSeconds(settings.bootTimeoutSeconds().orElse(accel.kvm() ? 90 : 300));
    }

    /**
     * Where a run's files go: {@code <hmm.run.dir>/<profile>}, with {@code -container} appended for the
     * container runner (so that both runs' logs stay apart).
     */
    public static Path runDir(Settings settings, KernelProfile profile, RunnerSelection.Kind kind) {
        return settings.runDir().resolve(profile.dirName() + (kind == RunnerSelection.Kind.CONTAINER ? "-container" : ""));
    }

    /** Ensures the image, builds the module, boots with the runner the settings select and waits for the agent. */
    public static GuestSession start(Spec spec) {
        return start(spec, RunnerSelection.selected(spec.settings(), spec.profile()));
    }

    /** Ensures the image, builds the module, boots with runner {@code kind} and waits for the agent. */
    public static GuestSession start(Spec spec, RunnerSelection.Kind kind) {
        long t0 = System.nanoTime();
        Settings settings = spec.settings();
        ImageCache cache = ImageCache.of(settings);
        if (kind == RunnerSelection.Kind.LOCAL && !spec.profile().foreign()) {
            Prerequisites.require("qemu-system-x86_64", "qemu-system-x86");
        } else if (kind == RunnerSelection.Kind.LOCAL) {
            Prerequisites.require("qemu-system-aarch64", "qemu-system-arm");
        }
        GuestImage image = new GuestImages(cache, settings).ensure(spec.profile());
        // the guest reads these entries over 9p for its whole life: keep them from being pruned
        List<AutoCloseable> holds = image.cacheEntries().stream().map(cache::use).toList();
        Path runDir = runDir(settings, spec.profile(), kind);
        GuestRunner runner;
        Accelerator.Choice accel;
        try {
            accel = kind == RunnerSelection.Kind.ENGINE
                    ? dev.hmmmirror.vm.runner.ContainerRunner.accel(settings, RunnerSelection.engineHost(settings))
                    : Accelerator.forGuest(settings, image, cache);
            runner = GuestRunner.create(kind, settings, cache, image, runDir, accel);
        } catch (RuntimeException e) {
            release(holds);
            throw e;
        }
        try {
            GuestSession session = boot(spec, cache, image, runner, runDir, t0, accel);
            session.holds = holds;
            return session;
        } catch (RuntimeException e) {
            runner.close();
            release(holds);
            throw e;
        }
    }

    private static void release(List<AutoCloseable> holds) {
        for (AutoCloseable h : holds) {
            try {
                h.close();
            } catch (Exception e) {
                Progress.say("could not release a cache entry: %s", e.getMessage());
            }
        }
    }

    private static GuestSession boot(Spec spec, ImageCache cache, GuestImage image, GuestRunner runner, Path runDir,
            long t0, Accelerator.Choice accel) {
        Settings settings = spec.settings();
        ModuleBuild builds = new ModuleBuild(cache, ModuleSources.resolve(settings, runDir.resolve("module-source")));
        Path ko = builds.build(image, runner.toolchain(image));
        Map<String, Path> programs = new LinkedHashMap<>();
        spec.programs().forEach((name, src) -> programs.put(name, builds.buildProgram(image, runner.toolchain(image),
                name, src)));
        double imageSeconds = (System.nanoTime() - t0) / 1e9;
        Path stage = runDir.resolve("host");
        try {
            if (Files.exists(stage)) {
                PathUtils.deleteDirectory(stage);
            }
            Files.createDirectories(stage.resolve("lib"));
            Files.copy(ko, stage.resolve("hmm_mirror.ko"));
            for (var p : programs.entrySet()) {
                Files.copy(p.getValue(), stage.resolve(p.getKey()), StandardCopyOption.COPY_ATTRIBUTES);
            }
            Files.writeString(stage.resolve("module-params"), settings.moduleParams() + "\n");
            if (spec.workDir() != null) {
                Files.writeString(stage.resolve("work-dir"), spec.workDir() + "\n"); // guest-init.sh mounts it there
            }
            Scripts.install("guest-init.sh", stage);
            if (Files.isRegularFile(image.config())) {
                Files.copy(image.config(), stage.resolve("kernel.config")); // what tests expect of this kernel
            }
            for (SessionHook<?> hook : spec.hooks()) {
                if (hook instanceof StagedHook staged) {
                    staged.stage(image, stage);
                }
            }
            List<String> jars = GuestClasspath.stage(GuestClasspath.forGuest(spec.classpath()), stage.resolve("lib"));
            boolean aot = AgentCache.prepare(settings, cache, image, stage, jars);
            Files.writeString(stage.resolve("run-agent.sh"), GuestJvm.command(jars, settings, aot, image.profile().arch()) + "\n");
            Path out = runDir.resolve("out");
            if (Files.exists(out)) {
                PathUtils.deleteDirectory(out);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot stage the guest files in " + stage, e);
        }
        Progress.say("boot %s: kernel %s, %s, %s, console %s", spec.profile().name(), image.kernelRelease(),
                accel.describe(), runner.describe(), runDir.resolve("console.log"));
        GuestVm vm = GuestVm.start(new GuestVm.Spec(image, stage, runDir.resolve("out"), runDir.resolve("console.log"),
                false, settings.guestMemoryMiB(image.profile()), settings.cmdline(), settings.verbose(), accel,
                spec.workDir(), settings.guestCpus()),
                runner);
        try {
            String hello = vm.awaitAgent(bootTimeout(settings, accel));
            double init = vm.console().markers().stream().filter(m -> m.text().startsWith(Markers.INIT)).findFirst()
                    .map(Console.Marker::seconds).orElse(-1.0);
            // the console (ttyS0) can trail the agent's HELLO (ttyS1) on a loaded host: wait for the marker
            var module = vm.console().await(t -> t.startsWith(Markers.MODULE), System.nanoTime() + 30_000_000_000L);
            if (module.isEmpty() || !module.get().text().startsWith(Markers.MODULE + " rc=0")) {
                throw new GuestFailure("insmod hmm_mirror.ko failed in the guest (" + module.map(Console.Marker::text)
                        .orElse("no " + Markers.MODULE + " marker") + ")", vm.console().log(), vm.console().tail(30));
            }
            Timings timings = new Timings(imageSeconds, init, vm.helloSeconds());
            Progress.say("boot %s: init at %.1f s, module loaded, guest JVM ready at %.1f s", image.kernelRelease(),
                    init, vm.helloSeconds());
            GuestSession session = new GuestSession(spec, image, vm, runner, runDir, timings, accel);
            session.startup = Startup.of(vm.console().markers(), hello);
            session.moduleCoverage = ModuleCoverageBuild.of(ko); // read once: hooks ask before every test
            return session;
        } catch (InterruptedException e) {
            vm.kill();
            Thread.currentThread().interrupt();
            throw new GuestFailure("interrupted while booting", vm.console().log(), vm.console().tail(20));
        } catch (RuntimeException e) {
            vm.kill();
            throw e;
        }
    }

    /** A hook that puts files into the host share before the boot (the kernel's selftest binary, say). */
    public interface StagedHook {
        /** Copies what the hook needs into {@code stage} (seen in the guest at {@code /hmm/host}). */
        void stage(GuestImage image, Path stage) throws IOException;
    }

    /** The run's configuration. */
    public Settings settings() {
        return settings;
    }

    /** The kernel profile. */
    public KernelProfile profile() {
        return profile;
    }

    /** The guest image. */
    public GuestImage image() {
        return image;
    }

    /** The console log file. */
    public Path consoleLog() {
        return vm.console().log();
    }

    /** Where the guest runs (local, or which container), and where to look when it failed. */
    public String runnerDiagnostics() {
        String d = runner.diagnostics();
        return d.isBlank() ? "runner: " + runner.describe() : d.strip();
    }

    /** Where this run's files are. */
    public Path runDir() {
        return runDir;
    }

    /** KVM or TCG, and why. */
    public Accelerator.Choice accel() {
        return accel;
    }

    /** Start-up timings. */
    public Timings timings() {
        return timings;
    }

    /** Where the start went (the boot benchmark's breakdown). */
    public Startup startup() {
        return startup;
    }

    /** The console. */
    public Console console() {
        return vm.console();
    }

    /** Runs the JUnit test with {@code uniqueId} in the guest (after the hooks' {@link SessionHook#beforeTest}). */
    public GuestResult runTest(String uniqueId) throws InterruptedException {
        for (SessionHook<?> hook : hooks) {
            if (vm.isAlive()) {
                hook.beforeTest(this, uniqueId);
            }
        }
        return vm.request(Protocol.RUN, uniqueId, requestTimeout(settings, accel));
    }

    /** The gcov build of the loaded module, when the kernel has gcov support ({@code CONFIG_GCOV_KERNEL}). */
    public Optional<ModuleCoverageBuild> moduleCoverage() {
        return moduleCoverage;
    }

    /** Where this session's module and programs were compiled: coverage is computed there too. */
    public Toolchain toolchain() {
        return runner.toolchain(image);
    }

    /** Runs a shell command in the guest. */
    public GuestResult exec(String command, Duration timeout) throws InterruptedException {
        try {
            return vm.request(Protocol.EXEC, command, timeout);
        } finally {
            runner.collectResults(runDir.resolve("out")); // what the command wrote there, for the caller to read
        }
    }

    /** Why the machine the guest ran on went away during the run (a remote Docker engine), if it did. */
    public Optional<String> runnerLost() {
        return runner.lost();
    }

    /**
     * Runs a shell command in the guest with its output streamed to {@code output} and {@code input}
     * (or nothing, when null) as its standard input; the result's message is {@code exit N}
     * ({@link dev.hmmmirror.agent.protocol.Protocol#exitCode}).
     */
    public GuestResult stream(String command, java.util.function.Consumer<byte[]> output, java.io.InputStream input,
            Duration timeout) throws InterruptedException {
        return vm.stream(command, output, input, timeout);
    }

    /** Runs {@code className.main(new String[0])} in the guest JVM. */
    public GuestResult runMain(String className) throws InterruptedException {
        return vm.request(Protocol.MAIN, className, requestTimeout(settings, accel));
    }

    /** Kernel reports not returned by an earlier call. */
    public synchronized List<KernelSplat> newSplats() {
        List<KernelSplat> all = vm.console().splats();
        List<KernelSplat> fresh = List.copyOf(all.subList(Math.min(splatsReported, all.size()), all.size()));
        splatsReported = all.size();
        return fresh;
    }

    /**
     * Stops the guest's QEMU at once (a guest judged hung by its caller: a request or stream waiting
     * on it then ends with a {@link dev.hmmmirror.vm.boot.GuestFailure}); {@link #finish} or
     * {@link #close} still release the rest.
     */
    public void kill() {
        vm.kill();
    }

    /** Whether the guest still runs. */
    public boolean isAlive() {
        return vm.isAlive();
    }

    /**
     * Runs the hooks (when the guest is alive and {@code healthy}), stops the guest agent (the
     * guest unloads the module and powers off), releases the runner, and says how it ended.
     * Idempotent: a second call returns the first end.
     */
    public synchronized End finish(boolean healthy) {
        if (end != null) {
            return end;
        }
        List<KernelSplat> late = new ArrayList<>();
        Map<SessionHook<?>, Object> results = new LinkedHashMap<>();
        GuestFailure hookFailure = null;
        try {
            for (SessionHook<?> hook : hooks) {
                if (!healthy || !vm.isAlive() || !hook.wanted(this)) {
                    continue;
                }
                try {
                    results.put(hook, hook.run(this));
                } catch (GuestFailure e) {
                    hookFailure = e;
                    break;
                }
                late.addAll(newSplats());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            close();
        }
        late.addAll(newSplats());
        boolean unloaded = vm.console().markers().stream().anyMatch(m -> m.text().startsWith(Markers.RMMOD + " rc=0"));
        end = new End(List.copyOf(late), unloaded, results, hookFailure);
        return end;
    }

    /** Stops the guest without hooks (the guest unloads the module and powers off), then releases the runner. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            vm.close();
        } finally {
            try {
                runner.close();
            } finally {
                release(holds);
                holds = List.of();
            }
        }
    }
}
