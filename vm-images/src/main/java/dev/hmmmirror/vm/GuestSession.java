package dev.hmmmirror.vm;

import dev.hmmmirror.vm.agent.GuestResult;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import org.apache.commons.io.file.PathUtils;

/**
 * A booted guest for one kernel profile, with hmm_mirror.ko loaded and the guest agent JVM
 * running: the image is ensured, the module built with the kernel's gcc, this JVM's classpath
 * staged into the host share, QEMU booted. One per run and profile; requests run one at a time.
 */
public final class GuestSession implements AutoCloseable {
    /** The guest's Java runtime (from the userland). */
    static final String GUEST_JAVA = "/usr/lib/jvm/java-25-openjdk-amd64/bin/java";

    private final KernelProfile profile;
    private final GuestImage image;
    private final GuestVm vm;
    private final GuestRunner runner;
    private final Path runDir;
    private final Timings timings;
    private final Accelerator.Choice accel;
    private int splatsReported;

    /**
     * What a session start took, in host seconds.
     *
     * @param image      ensuring the image (and module build)
     * @param init       QEMU start to the initramfs /init
     * @param agentReady QEMU start to the guest agent's HELLO
     */
    public record Timings(double image, double init, double agentReady) {}

    private List<AutoCloseable> holds = List.of();

    private GuestSession(KernelProfile profile, GuestImage image, GuestVm vm, GuestRunner runner, Path runDir,
            Timings timings, Accelerator.Choice accel) {
        this.accel = accel;
        this.profile = profile;
        this.image = image;
        this.vm = vm;
        this.runner = runner;
        this.runDir = runDir;
        this.timings = timings;
    }

    /** Timeout of one request: {@code hmm.test.timeout} seconds, default 600 under TCG, 120 with KVM. */
    public static Duration requestTimeout(Accelerator.Choice accel) {
        return Duration.ofSeconds(Long.getLong("hmm.test.timeout", accel.kvm() ? 120 : 600));
    }

    /** Timeout of a boot up to the agent: {@code hmm.boot.timeout} seconds, default 300 under TCG, 90 with KVM. */
    public static Duration bootTimeout(Accelerator.Choice accel) {
        return Duration.ofSeconds(Long.getLong("hmm.boot.timeout", accel.kvm() ? 90 : 300));
    }

    private Duration requestTimeout() {
        return requestTimeout(accel);
    }

    /** Where a local run's logs go: {@code hmm.run.dir}, else {@code target/hmm-guest/<profile>}. */
    public static Path runDir(KernelProfile profile) {
        return runDir(profile, RunnerSelection.Kind.LOCAL);
    }

    /**
     * Where a run's logs go: {@code hmm.run.dir}, else {@code target/hmm-guest/<profile>}, with
     * {@code -container} appended for the container runner (so that both runs' logs stay apart).
     */
    public static Path runDir(KernelProfile profile, RunnerSelection.Kind kind) {
        String d = System.getProperty("hmm.run.dir");
        String name = profile.dirName() + (kind == RunnerSelection.Kind.CONTAINER ? "-container" : "");
        return (d != null ? Path.of(d) : Path.of("target", "hmm-guest")).resolve(name).toAbsolutePath();
    }

    /** Ensures the image, builds the module, boots (with the runner of {@link RunnerSelection}) and waits for the agent. */
    public static GuestSession start(KernelProfile profile, List<Path> classpath, boolean echo) {
        return start(profile, classpath, echo, RunnerSelection.selected(profile));
    }

    /** Ensures the image, builds the module, boots with runner {@code kind} and waits for the agent. */
    public static GuestSession start(KernelProfile profile, List<Path> classpath, boolean echo,
            RunnerSelection.Kind kind) {
        long t0 = System.nanoTime();
        ImageCache cache = ImageCache.forUser();
        if (kind == RunnerSelection.Kind.LOCAL) {
            Prerequisites.require("qemu-system-x86_64", "qemu-system-x86");
        }
        GuestImage image = new GuestImages(cache).ensure(profile);
        // the guest reads these entries over 9p for its whole life: keep them from being pruned
        List<AutoCloseable> holds = image.cacheEntries().stream().map(cache::use).toList();
        Path runDir = runDir(profile, kind);
        GuestRunner runner;
        Accelerator.Choice accel;
        try {
            accel = Accelerator.forGuest(image, cache);
            runner = GuestRunner.create(kind, cache, image, runDir, accel);
        } catch (RuntimeException e) {
            release(holds);
            throw e;
        }
        try {
            GuestSession session = start(profile, classpath, echo, cache, image, runner, runDir, t0, accel);
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

    private static GuestSession start(KernelProfile profile, List<Path> classpath, boolean echo, ImageCache cache,
            GuestImage image, GuestRunner runner, Path runDir, long t0, Accelerator.Choice accel) {
        ModuleBuild builds = new ModuleBuild(cache, ModuleBuild.projectRoot());
        Path ko = builds.build(image, runner.toolchain(image));
        Path bench = builds.buildBench(image, runner.toolchain(image));
        double imageSeconds = (System.nanoTime() - t0) / 1e9;
        Path stage = runDir.resolve("host");
        try {
            if (Files.exists(stage)) {
                PathUtils.deleteDirectory(stage);
            }
            Files.createDirectories(stage.resolve("lib"));
            Files.copy(ko, stage.resolve("hmm_mirror.ko"));
            Files.copy(bench, stage.resolve("mirror_bench"), java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
            Files.writeString(stage.resolve("module-params"), System.getProperty("hmm.module.params", "ndevices=2") + "\n");
            Scripts.install("guest-init.sh", stage);
            if (Files.isRegularFile(image.config())) {
                Files.copy(image.config(), stage.resolve("kernel.config")); // what tests expect of this kernel
            }
            if (image.selftests().isPresent()) {
                // the kernel's own hmm selftest, run at the end of a suite (KernelSelftests)
                Files.createDirectories(stage.resolve("kselftest"));
                Files.copy(image.selftests().get(), stage.resolve("kselftest/hmm-tests"),
                        java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
                Scripts.install("kselftest-hmm.sh", stage.resolve("kselftest"));
            }
            List<String> jars = stageClasspath(classpath, stage.resolve("lib"));
            boolean aot = AgentCache.prepare(cache, image, stage, jars, jvmFlags(profile));
            Files.writeString(stage.resolve("run-agent.sh"), agentCommand(jars, profile, aot) + "\n");
            Path out = runDir.resolve("out");
            if (Files.exists(out)) {
                PathUtils.deleteDirectory(out);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot stage the guest files in " + stage, e);
        }
        Progress.say("boot %s: kernel %s, %s, %s, console %s", profile.name(), image.kernelRelease(),
                accel.describe(), runner.describe(), runDir.resolve("console.log"));
        GuestVm vm = GuestVm.start(new GuestVm.Spec(image, stage, runDir.resolve("out"), runDir.resolve("console.log"),
                false, 2048, System.getProperty("hmm.cmdline", ""), Boolean.getBoolean("hmm.verbose"), accel), runner);
        try {
            vm.awaitAgent(bootTimeout(accel));
            double init = vm.console().markers().stream().filter(m -> m.text().startsWith("INIT")).findFirst()
                    .map(Console.Marker::seconds).orElse(-1.0);
            // the console (ttyS0) can trail the agent's HELLO (ttyS1) on a loaded host: wait for the marker
            var module = vm.console().await(t -> t.startsWith("MODULE"), System.nanoTime() + 30_000_000_000L);
            if (module.isEmpty() || !module.get().text().startsWith("MODULE rc=0")) {
                throw new GuestFailure("insmod hmm_mirror.ko failed in the guest (" + module.map(Console.Marker::text)
                        .orElse("no MODULE marker") + ")", vm.console().log(), vm.console().tail(30));
            }
            Timings timings = new Timings(imageSeconds, init, vm.helloSeconds());
            Progress.say("boot %s: init at %.1f s, module loaded, guest JVM ready at %.1f s", image.kernelRelease(),
                    init, vm.helloSeconds());
            return new GuestSession(profile, image, vm, runner, runDir, timings, accel);
        } catch (InterruptedException e) {
            vm.kill();
            Thread.currentThread().interrupt();
            throw new GuestFailure("interrupted while booting", vm.console().log(), vm.console().tail(20));
        } catch (RuntimeException e) {
            vm.kill();
            throw e;
        }
    }

    /** The classpath of this JVM, as files (manifest-only jars expanded, build-tool jars left out). */
    public static List<Path> currentClasspath() {
        Set<Path> out = new LinkedHashSet<>();
        for (String e : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
            if (!e.isBlank()) {
                addEntry(Path.of(e).toAbsolutePath().normalize(), out);
            }
        }
        return new ArrayList<>(out);
    }

    private static void addEntry(Path p, Set<Path> out) {
        String s = p.toString();
        if (s.contains("/org/apache/maven/surefire/") || s.contains("/surefire/") || s.contains("surefirebooter")) {
            if (Files.isRegularFile(p) && s.endsWith(".jar")) {
                try (JarFile jar = new JarFile(p.toFile())) {
                    Manifest m = jar.getManifest();
                    String cp = m == null ? null : m.getMainAttributes().getValue("Class-Path");
                    if (cp != null) {
                        for (String u : cp.trim().split("\\s+")) {
                            addEntry(Path.of(java.net.URI.create(u).isAbsolute() ? java.net.URI.create(u)
                                    : p.getParent().toUri().resolve(u)), out);
                        }
                    }
                } catch (IOException e) {
                    // not a readable jar: skip it
                }
            }
            return;
        }
        if (Files.exists(p)) {
            out.add(p);
        }
    }

    static List<String> stageClasspath(List<Path> classpath, Path lib) throws IOException {
        List<String> jars = new ArrayList<>();
        int i = 0;
        for (Path p : classpath) {
            String name = String.format("%02d-%s", i++, p.getFileName().toString());
            if (Files.isDirectory(p)) {
                name = name + ".jar";
                jarDirectory(p, lib.resolve(name)); // AOT caches and 9p both prefer jars to class trees
            } else {
                // keep the timestamp: an AOT cache stays valid while its jars are unchanged
                Files.copy(p, lib.resolve(name), java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
            }
            jars.add("/hmm/host/lib/" + name);
        }
        return jars;
    }

    /** Zips a class tree deterministically: same content, same bytes and timestamp. */
    private static void jarDirectory(Path dir, Path jar) throws IOException {
        long newest = 0;
        try (OutputStream o = Files.newOutputStream(jar); JarOutputStream j = new JarOutputStream(o);
                Stream<Path> files = Files.walk(dir)) {
            for (Path f : files.filter(Files::isRegularFile).sorted().toList()) {
                ZipEntry e = new ZipEntry(dir.relativize(f).toString().replace('\\', '/'));
                e.setTime(0);
                j.putNextEntry(e);
                try (InputStream in = Files.newInputStream(f)) {
                    in.transferTo(j);
                }
                j.closeEntry();
                newest = Math.max(newest, Files.getLastModifiedTime(f).toMillis());
            }
        }
        Files.setLastModifiedTime(jar, java.nio.file.attribute.FileTime.fromMillis(newest));
    }

    /** Flags of the guest JVM; the AOT training run uses the same ones. */
    static List<String> jvmFlags(KernelProfile profile) {
        // Under TCG the JIT compiler runs emulated too and costs more than it saves: with the AOT
        // cache, the agent's first request took 4.4-5.5 s interpreted vs 8.4-13 s with C1 only
        // (README, Performance). -Dhmm.guest.jit=true turns C1 on for compute-heavy tests.
        return List.of(Boolean.getBoolean("hmm.guest.jit") ? "-XX:TieredStopAtLevel=1" : "-Xint",
                "-XX:+UseSerialGC", "-XX:-UsePerfData", "-XX:ErrorFile=/hmm/out/hs_err_pid%p.log",
                "--enable-native-access=ALL-UNNAMED", "-Djava.io.tmpdir=/tmp", "-Dhmm.guest=true",
                "-Dhmm.kernel=" + profile.name());
    }

    private static String agentCommand(List<String> jars, KernelProfile profile, boolean aot) {
        return "exec " + GUEST_JAVA + " " + String.join(" ", jvmFlags(profile))
                + (aot ? " -XX:AOTCache=/hmm/host/" + AgentCache.FILE : "")
                + " -cp " + String.join(":", jars) + " dev.hmmmirror.vm.agent.GuestAgent";
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

    /** The console. */
    public Console console() {
        return vm.console();
    }

    /** Runs the JUnit test with {@code uniqueId} in the guest. */
    public GuestResult runTest(String uniqueId) throws InterruptedException {
        return vm.request("RUN", uniqueId, requestTimeout());
    }

    /** Runs a shell command in the guest. */
    public GuestResult exec(String command, Duration timeout) throws InterruptedException {
        return vm.request("EXEC", command, timeout);
    }

    /** Runs {@code className.main(new String[0])} in the guest JVM. */
    public GuestResult runMain(String className) throws InterruptedException {
        return vm.request("MAIN", className, requestTimeout());
    }

    /** Kernel reports not returned by an earlier call. */
    public synchronized List<KernelSplat> newSplats() {
        List<KernelSplat> all = vm.console().splats();
        List<KernelSplat> fresh = List.copyOf(all.subList(Math.min(splatsReported, all.size()), all.size()));
        splatsReported = all.size();
        return fresh;
    }

    /** Whether the guest still runs. */
    public boolean isAlive() {
        return vm.isAlive();
    }

    /** Stops the guest agent (the guest unloads the module and powers off), then releases the runner. */
    @Override
    public void close() {
        try {
            vm.close();
        } finally {
            try {
                runner.close();
            } finally {
                release(holds);
            }
        }
    }
}
