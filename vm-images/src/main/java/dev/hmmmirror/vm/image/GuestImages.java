package dev.hmmmirror.vm.image;

import dev.hmmmirror.vm.config.Settings;
import dev.hmmmirror.vm.host.Exec;
import dev.hmmmirror.vm.host.Prerequisites;
import dev.hmmmirror.vm.host.Progress;
import dev.hmmmirror.vm.host.SetupException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Makes sure the guest image of a kernel profile exists in the cache, building what is missing:
 * the shared userland (Debian sid with a Java 25 runtime), the profile's kernel (a stock package,
 * a kernel built here from linux-source, or the user's own tree) and the boot files (uncompressed
 * vmlinux, initramfs).
 */
public final class GuestImages {
    private static final List<String> USERLAND_PACKAGES = List.of("openjdk-25-jre-headless", "busybox-static", "kmod");
    private static final List<String> KERNEL_PACKAGES = List.of("linux-image-%k", "linux-headers-%k");

    private final ImageCache cache;
    private final Settings settings;
    private final BootFiles boot;

    public GuestImages(ImageCache cache, Settings settings) {
        this.cache = cache;
        this.settings = settings;
        this.boot = new BootFiles(cache);
    }

    /** The guest image of {@code profile}, built if needed. */
    public GuestImage ensure(KernelProfile profile) {
        long t0 = System.nanoTime();
        if (profile.kind() == KernelProfile.Kind.TREE) {
            KernelTrees.check(profile.tree()); // before any download: a tree that cannot boot the suite says why
        }
        String mirror = AptSources.debianMirror(settings);
        PackageIndex index = new PackageIndex(cache, mirror);
        Userland userland = userland(profile, index, mirror);
        if (profile.foreign() && profile.kind() == KernelProfile.Kind.TREE) {
            throw new SetupException(profile.name() + ": only stock and built " + profile.arch()
                    + " kernels are supported so far");
        }
        GuestImage image = switch (profile.kind()) {
            case STOCK -> stock(profile, index, mirror, userland);
            case BUILT -> new BuiltKernels(cache, boot).ensure(profile, index, mirror, userland);
            case TREE -> new KernelTrees(cache, boot).ensure(profile, userland);
        };
        Progress.say("image %s: ready in %s (kernel %s, cache %s)", profile.name(), Progress.since(t0),
                image.kernelRelease(), cache.root());
        return image;
    }

    private Userland userland(KernelProfile profile, PackageIndex index, String mirror) {
        String arch = profile.arch();
        String suite = KernelProfile.USERLAND_SUITE;
        Map<String, String> uv = new TreeMap<>(index.resolve(suite, arch, USERLAND_PACKAGES));
        uv.remove("kernel.release");
        // amd64 keeps its key and entry name; another architecture is part of both
        String userlandKey = profile.foreign() ? Scripts.hash(List.of("build-userland.sh"), suite, uv.toString(), arch)
                : Scripts.hash(List.of("build-userland.sh"), suite, uv.toString());
        String name = profile.foreign() ? suite + "-" + arch : suite;
        Path userland = cache.ensure("userland-" + name, userlandKey,
                "guest userland (" + name + ", Java 25)", dir -> {
                    BootFiles.prepareRootBuild(dir, "the guest userland");
                    long t = System.nanoTime();
                    Progress.say("image %s: building the guest userland (%s: %s) with mmdebstrap, about %s; log %s",
                            profile.name(), name, uv, profile.foreign() ? "10-20 min (" + arch + " under qemu-user)"
                                    : "1-4 min", dir.resolve("build.log"));
                    Exec.run(dir.resolve("build.log"), 3600, ForeignArch.command(arch, dir.resolve("scripts"),
                            List.of("bash", Scripts.install("build-userland.sh", dir.resolve("scripts")).toString(),
                                    dir.resolve("root").toString(), suite, mirror)));
                    Progress.say("image %s: userland mmdebstrap %s", profile.name(), Progress.since(t));
                }).resolve("root");
        return new Userland(userland, userlandKey);
    }

    private GuestImage stock(KernelProfile profile, PackageIndex index, String mirror, Userland userland) {
        String arch = profile.arch();
        Map<String, String> kv = new TreeMap<>(index.resolve(profile.suite(), arch, profile.flavour(), KERNEL_PACKAGES));
        String krel = kv.get("kernel.release");
        // another architecture's kernel root is a cross root of this host's architecture (nothing of arch runs in it)
        String script = profile.foreign() ? "build-kernel-root-cross.sh" : "build-kernel-root.sh";
        String kernelKey = profile.foreign()
                ? Scripts.hash(List.of(script), profile.suite(), kv.toString(), arch)
                : Scripts.hash(List.of(script), profile.suite(), kv.toString());
        String name = profile.foreign() ? profile.suite() + "-" + profile.flavour() : profile.suite();
        Path kernelRoot = cache.ensure("kernel-" + name, kernelKey,
                "kernel root " + profile.suite() + " " + krel, dir -> {
                    BootFiles.prepareRootBuild(dir, "the kernel root of " + profile.name());
                    long t = System.nanoTime();
                    Progress.say("image %s: building the kernel root (%s %s, headers, gcc%s) with mmdebstrap, about %s; "
                            + "log %s", profile.name(), name, krel, profile.foreign() ? " cross-compiling for " + arch : "",
                            "2-5 min", dir.resolve("build.log"));
                    List<String> args = new java.util.ArrayList<>(List.of("bash",
                            Scripts.install(script, dir.resolve("scripts")).toString(), dir.resolve("root").toString(),
                            profile.suite(), mirror, krel));
                    if (profile.foreign()) {
                        Prerequisites.require("mmdebstrap", "mmdebstrap");
                        args.add(arch);
                    }
                    Exec.run(dir.resolve("build.log"), 3600, args);
                    Progress.say("image %s: kernel root mmdebstrap %s", profile.name(), Progress.since(t));
                }).resolve("root");
        Path modules = BootFiles.modulesDir(kernelRoot, krel);
        // arm64: QEMU loads Debian's gzip-compressed Image itself (decompressed on the host)
        Path bootDir = boot.ensure("boot-" + name, profile, krel, kernelKey, userland,
                kernelRoot.resolve("boot/vmlinuz-" + krel), kernelRoot, !profile.foreign());
        // Debian ships the config in /boot (6.1, 6.12) or next to the modules (7.x)
        Path config = Files.exists(kernelRoot.resolve("boot/config-" + krel)) ? kernelRoot.resolve("boot/config-" + krel)
                : modules.resolve(krel).resolve("config");
        return new GuestImage(profile, krel, userland.root(), kernelRoot, Map.of(), "/usr/src/linux-headers-" + krel,
                bootDir.resolve("vmlinux"), bootDir.resolve("initramfs.gz"), modules, config, Optional.empty(), "",
                kernelRoot.getParent().getFileName().toString(),
                List.of(userland.root().getParent(), kernelRoot.getParent(), bootDir));
    }
}
