package dev.hmmmirror.vm.image;

import dev.hmmmirror.vm.host.Exec;
import dev.hmmmirror.vm.host.Prerequisites;
import dev.hmmmirror.vm.host.Progress;
import dev.hmmmirror.vm.host.SetupException;
import dev.hmmmirror.vm.host.Toolchain;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Kernels built here from a Debian release's {@code linux-source-X} package: tinyconfig plus the
 * {@code kconfig/hmm.config} and {@code kconfig/rdma.config} fragments (and {@code kconfig/debug.config}
 * for a debug kernel), with
 * the kernel's own {@code test_hmm} module and hmm selftest. Everything is compiled in a root of
 * that release (its gcc), and cached by source package version + fragments + recipe scripts.
 */
final class BuiltKernels {
    /** Where a kernel's cache entry is mounted in the source root while building against it. */
    static final String MOUNT = "/kbuild";

    private final ImageCache cache;
    private final BootFiles boot;

    BuiltKernels(ImageCache cache, BootFiles boot) {
        this.cache = cache;
        this.boot = boot;
    }

    GuestImage ensure(KernelProfile p, PackageIndex index, String mirror, Userland userland) {
        String srcpkg = "linux-source-" + p.source();
        Map<String, String> versions = new TreeMap<>(index.resolve(p.suite(), List.of(srcpkg, "gcc")));
        versions.remove("kernel.release");
        if (versions.getOrDefault(srcpkg, "").isBlank()) {
            throw new SetupException(p.suite() + " has no " + srcpkg + " package (mirror " + mirror + ")");
        }
        String rootKey = Scripts.hash(List.of("build-source-root.sh"), p.suite(), versions.toString());
        Path root = cache.ensure("ksrc-" + p.source(), rootKey, "source root " + srcpkg + " " + versions.get(srcpkg),
                dir -> {
                    BootFiles.prepareRootBuild(dir, "the source root of " + p.name());
                    long t = System.nanoTime();
                    Progress.say("image %s: building the source root (%s %s, %s's gcc, make, flex, bison, libelf) "
                            + "with mmdebstrap, about 3-6 min; log %s", p.name(), srcpkg, versions.get(srcpkg), p.suite(),
                            dir.resolve("build.log"));
                    Exec.run(dir.resolve("build.log"), 3600, List.of("bash",
                            Scripts.install("build-source-root.sh", dir.resolve("scripts")).toString(),
                            dir.resolve("root").toString(), p.suite(), mirror, srcpkg));
                    Progress.say("image %s: source root %s", p.name(), Progress.since(t));
                }).resolve("root");
        if (p.foreign()) {
            return ensureCross(p, srcpkg, root, rootKey, userland);
        }

        // rdma.config: rxe with On-Demand Paging, the second mirror of the rxe tests (x86-64 only so far:
        // the arm64 kernels' keys, each a ~1 h cross compile here, stay as they are)
        List<String> fragments = new ArrayList<>(List.of("hmm.config", "rdma.config"));
        if (p.debug()) {
            fragments.add("debug.config");
        }
        List<String> keyParts = new ArrayList<>(List.of(rootKey));
        fragments.forEach(f -> keyParts.add(f + "\n" + new String(Scripts.resource("kconfig/" + f), StandardCharsets.UTF_8)));
        String kernelKey = Scripts.hash(List.of("build-kernel.sh", "build-kselftest-hmm.sh"), keyParts.toArray(String[]::new));
        String suffix = p.source() + (p.debug() ? "-debug" : "");
        Path kb = cache.ensure("kbuild-" + suffix, kernelKey, "kernel " + p.name(), dir -> build(p, srcpkg, root, fragments, dir));

        String krel = read(kb.resolve("build/kernelrelease"));
        Path modroot = kb.resolve("build/modroot");
        Path modules = BootFiles.modulesDir(modroot, krel);
        // QEMU enters a plain built kernel's ELF through PVH (no decompression under TCG); a KASAN kernel
        // entered that way hangs before its first console line (QEMU 7.2, 7.2.13), so debug kernels boot
        // the bzImage
        Path image = kb.resolve(p.debug() ? "build/arch/x86/boot/bzImage" : "build/vmlinux");
        Path bootDir = boot.ensure("kboot-" + suffix, p, krel, kernelKey, userland, image, modroot, !p.debug());
        return new GuestImage(p, krel, userland.root(), root, Map.of(MOUNT, kb), MOUNT + "/build",
                bootDir.resolve("vmlinux"), bootDir.resolve("initramfs.gz"), modules, kb.resolve("build/.config"),
                Optional.of(kb.resolve("hmm-tests")),
                // under KASAN + TCG the pc machine's ACPI _PRT method runs into ACPICA's 30 s loop timeout
                // once per PCI device (2 min per boot); the BIOS routing table serves as well
                p.debug() ? "pci=noacpi" : "",
                kb.getFileName().toString(), List.of(userland.root().getParent(), root.getParent(), kb, bootDir));
    }

    /**
     * A kernel of another architecture ({@code p.arch()}, arm64), cross-compiled: the source root above with
     * Debian's cross gcc of its gcc major added (a copy: entry {@code ksrc-SOURCE-ARCH}), the fragments
     * {@code hmm.config}, {@code ARCH.config} and the page-size one ({@link #pageFragment}), built by
     * {@code build-kernel-cross.sh}; QEMU boots its uncompressed {@code Image}. The x86-64 entries and keys
     * are untouched by this path.
     */
    private GuestImage ensureCross(KernelProfile p, String srcpkg, Path root, String rootKey, Userland userland) {
        String crossKey = Scripts.hash(List.of("add-cross-gcc.sh"), rootKey, p.arch());
        Path xroot = cache.ensure("ksrc-" + p.source() + "-" + p.arch(), crossKey,
                "cross source root " + srcpkg + " for " + p.arch(), dir -> {
                    BootFiles.prepareRootBuild(dir, "the cross source root of " + p.name());
                    long t = System.nanoTime();
                    Path log = dir.resolve("build.log");
                    Progress.say("image %s: copying the source root of %s and adding Debian's cross gcc for %s, "
                            + "about 1-2 min; log %s", p.name(), srcpkg, p.arch(), log);
                    Exec.run(log, 1800, List.of("cp", "-a", root.toString(), dir.resolve("root").toString()));
                    Exec.run(log, 1800, List.of("bash", Scripts.install("add-cross-gcc.sh", dir.resolve("scripts")).toString(),
                            dir.resolve("root").toString(), p.arch()));
                    Progress.say("image %s: cross source root %s", p.name(), Progress.since(t));
                }).resolve("root");
        List<String> fragments = List.of("hmm.config", p.arch() + ".config", pageFragment(p));
        List<String> keyParts = new ArrayList<>(List.of(crossKey, p.arch()));
        fragments.forEach(f -> keyParts.add(f + "\n" + new String(Scripts.resource("kconfig/" + f), StandardCharsets.UTF_8)));
        String kernelKey = Scripts.hash(List.of("build-kernel-cross.sh", "build-kselftest-hmm.sh"),
                keyParts.toArray(String[]::new));
        String suffix = p.source() + "-" + p.flavour();
        Path kb = cache.ensure("kbuild-" + suffix, kernelKey, "kernel " + p.name(),
                dir -> buildCross(p, srcpkg, xroot, fragments, dir));
        String krel = read(kb.resolve("build/kernelrelease"));
        Path modroot = kb.resolve("build/modroot");
        Path modules = BootFiles.modulesDir(modroot, krel);
        // QEMU loads arm64's uncompressed Image as it is
        Path bootDir = boot.ensure("kboot-" + suffix, p, krel, kernelKey, userland, kb.resolve("build/boot-image"),
                modroot, false);
        return new GuestImage(p, krel, userland.root(), xroot, Map.of(MOUNT, kb), MOUNT + "/build",
                bootDir.resolve("vmlinux"), bootDir.resolve("initramfs.gz"), modules, kb.resolve("build/.config"),
                Optional.of(kb.resolve("hmm-tests")), "", kb.getFileName().toString(),
                List.of(userland.root().getParent(), xroot.getParent(), kb, bootDir));
    }

    /**
     * The page-size fragment of a built foreign kernel: {@code kconfig/FLAVOUR.config} ({@code arm64-64k}),
     * or {@code kconfig/ARCH-4k.config} for the flavour named like the architecture.
     */
    static String pageFragment(KernelProfile p) {
        return p.flavour().equals(p.arch()) ? p.arch() + "-4k.config" : p.flavour() + ".config";
    }

    /**
     * Installs the build script, the selftest build script and the fragments into {@code dir/scripts};
     * returns the fragments' paths as the build script's arguments (" /mnt/scripts/F ...").
     */
    private static String stageScripts(Path dir, String buildScript, List<String> fragments) throws IOException {
        Path scripts = dir.resolve("scripts");
        Scripts.install(buildScript, scripts);
        Scripts.install("build-kselftest-hmm.sh", scripts);
        StringBuilder fragmentArgs = new StringBuilder();
        for (String f : fragments) {
            Files.write(scripts.resolve(f), Scripts.resource("kconfig/" + f));
            fragmentArgs.append(' ').append(MOUNT).append("/scripts/").append(f);
        }
        return fragmentArgs.toString();
    }

    private static void buildCross(KernelProfile p, String srcpkg, Path root, List<String> fragments, Path dir)
            throws Exception {
        Prerequisites.requireFreeSpace(dir, 3L << 30, "building " + p.name());
        String fragmentArgs = stageScripts(dir, "build-kernel-cross.sh", fragments);
        Toolchain tc = Toolchain.chroot(root, Map.of(MOUNT, dir));
        Path log = dir.resolve("build.log");
        int jobs = Runtime.getRuntime().availableProcessors();
        long t = System.nanoTime();
        Progress.say("kernel %s: cross-compiling /usr/src/%s for %s (tinyconfig + %s) with %d jobs: about 1,500 "
                + "files, 30-60 min on 2 cores, hours under load; cached afterwards; log %s", p.name(), srcpkg, p.arch(),
                String.join(" + ", fragments), jobs, log);
        try (AutoCloseable ticker = Progress.every(Duration.ofSeconds(60), () -> status(p, log))) {
            tc.run(log, 4 * 3600, "sh " + MOUNT + "/scripts/build-kernel-cross.sh /usr/src/" + srcpkg + " " + MOUNT
                    + "/build " + jobs + " " + p.arch() + fragmentArgs);
        }
        Progress.say("kernel %s: %s built in %s", p.name(), read(dir.resolve("build/kernelrelease")), Progress.since(t));
        tc.run(log, 900, "CC=$(ls /usr/bin/" + p.gnuCpu() + "-linux-gnu-gcc-[0-9]* | head -n 1) sh " + MOUNT
                + "/scripts/build-kselftest-hmm.sh /usr/src/" + srcpkg + " " + MOUNT + "/build/usr/include " + MOUNT
                + "/hmm-tests");
        Progress.say("kernel %s: the kernel's hmm selftest (hmm-tests) cross-built", p.name());
    }

    private static void build(KernelProfile p, String srcpkg, Path root, List<String> fragments, Path dir)
            throws Exception {
        Prerequisites.requireFreeSpace(dir, 3L << 30, "building " + p.name());
        String fragmentArgs = stageScripts(dir, "build-kernel.sh", fragments);
        Toolchain tc = Toolchain.chroot(root, Map.of(MOUNT, dir));
        Path log = dir.resolve("build.log");
        int jobs = Runtime.getRuntime().availableProcessors();
        long t = System.nanoTime();
        Progress.say("kernel %s: compiling /usr/src/%s (tinyconfig + %s) with %d jobs: about %s on 2 cores, "
                + "cached afterwards; log %s", p.name(), srcpkg, String.join(" + ", fragments), jobs,
                p.debug() ? "14-20 min" : "12-15 min", log);
        try (AutoCloseable ticker = Progress.every(Duration.ofSeconds(60), () -> status(p, log))) {
            tc.run(log, 4 * 3600, "sh " + MOUNT + "/scripts/build-kernel.sh /usr/src/" + srcpkg + " " + MOUNT
                    + "/build " + jobs + fragmentArgs);
        }
        Progress.say("kernel %s: %s built in %s", p.name(), read(dir.resolve("build/kernelrelease")), Progress.since(t));
        tc.run(log, 900, "sh " + MOUNT + "/scripts/build-kselftest-hmm.sh /usr/src/" + srcpkg + " " + MOUNT
                + "/build/usr/include " + MOUNT + "/hmm-tests");
        Progress.say("kernel %s: the kernel's hmm selftest (hmm-tests) built", p.name());
    }

    /** One progress line from the build log: phase and how many files were compiled so far. */
    private static String status(KernelProfile p, Path log) {
        try (var lines = Files.lines(log, StandardCharsets.ISO_8859_1)) {
            long[] cc = {0};
            String[] phase = {"starting"};
            lines.forEach(l -> {
                if (l.startsWith("@@ ")) {
                    phase[0] = l.substring(3);
                } else if (l.startsWith("  CC ")) {
                    cc[0]++;
                }
            });
            return "kernel " + p.name() + ": " + phase[0] + ", " + cc[0] + " files compiled";
        } catch (IOException | java.io.UncheckedIOException e) {
            return null;
        }
    }

    private static String read(Path f) {
        try {
            return Files.readString(f).strip();
        } catch (IOException e) {
            throw new SetupException("cannot read " + f + ": " + e.getMessage(), e);
        }
    }
}
