package dev.hmmmirror.vm;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Makes sure the guest image of a kernel profile exists in the cache, building what is missing:
 * the shared userland (Debian sid with a Java 25 runtime), the profile's kernel root (the
 * release's stock kernel, headers and gcc) and the boot files (uncompressed vmlinux, initramfs).
 */
public final class GuestImages {
    private static final List<String> USERLAND_PACKAGES = List.of("openjdk-25-jre-headless", "busybox-static", "kmod");
    private static final List<String> KERNEL_PACKAGES = List.of("linux-image-%k", "linux-headers-%k");
    private static final long ROOT_SPACE = 3L << 30;

    private final ImageCache cache;

    public GuestImages(ImageCache cache) {
        this.cache = cache;
    }

    /** The guest image of {@code profile}, built if needed. */
    public GuestImage ensure(KernelProfile profile) {
        long t0 = System.nanoTime();
        String mirror = AptSources.debianMirror();
        PackageIndex index = new PackageIndex(cache, mirror);

        Map<String, String> uv = new TreeMap<>(index.resolve(KernelProfile.USERLAND_SUITE, USERLAND_PACKAGES));
        uv.remove("kernel.release");
        String userlandKey = Scripts.hash(List.of("build-userland.sh"), KernelProfile.USERLAND_SUITE, uv.toString());
        Path userland = cache.ensure("userland-" + KernelProfile.USERLAND_SUITE, userlandKey,
                "guest userland (" + KernelProfile.USERLAND_SUITE + ", Java 25)", dir -> {
                    prepareRootBuild(dir, "the guest userland");
                    long t = System.nanoTime();
                    Progress.say("image %s: building the guest userland (%s: %s) with mmdebstrap, about 1-4 min; log %s",
                            profile.name(), KernelProfile.USERLAND_SUITE, uv, dir.resolve("build.log"));
                    Exec.run(dir.resolve("build.log"), 3600, List.of("bash",
                            Scripts.install("build-userland.sh", dir.resolve("scripts")).toString(),
                            dir.resolve("root").toString(), KernelProfile.USERLAND_SUITE, mirror));
                    Progress.say("image %s: userland mmdebstrap %s", profile.name(), Progress.since(t));
                }).resolve("root");

        Map<String, String> kv = new TreeMap<>(index.resolve(profile.suite(), KERNEL_PACKAGES));
        String krel = kv.get("kernel.release");
        String kernelKey = Scripts.hash(List.of("build-kernel-root.sh"), profile.suite(), kv.toString());
        Path kernelRoot = cache.ensure("kernel-" + profile.suite(), kernelKey,
                "kernel root " + profile.suite() + " " + krel, dir -> {
                    prepareRootBuild(dir, "the kernel root of " + profile.name());
                    long t = System.nanoTime();
                    Progress.say("image %s: building the kernel root (%s %s, headers, gcc) with mmdebstrap, about 2-5 min; log %s",
                            profile.name(), profile.suite(), krel, dir.resolve("build.log"));
                    Exec.run(dir.resolve("build.log"), 3600, List.of("bash",
                            Scripts.install("build-kernel-root.sh", dir.resolve("scripts")).toString(),
                            dir.resolve("root").toString(), profile.suite(), mirror, krel));
                    Progress.say("image %s: kernel root mmdebstrap %s", profile.name(), Progress.since(t));
                }).resolve("root");

        String bootKey = Scripts.hash(List.of("extract-vmlinux.sh", "mkinitramfs.sh", "init"), kernelKey, userlandKey);
        Path boot = cache.ensure("boot-" + profile.suite(), bootKey, "boot files " + krel, dir -> {
            long t = System.nanoTime();
            Path log = dir.resolve("build.log");
            Path vmlinuz = kernelRoot.resolve("boot/vmlinuz-" + krel);
            Path vmlinux = dir.resolve("vmlinux");
            try {
                Exec.run(log, 300, List.of("bash", Scripts.install("extract-vmlinux.sh", dir.resolve("scripts")).toString(),
                        vmlinuz.toString(), vmlinux.toString()));
            } catch (SetupException e) {
                Progress.say("image %s: no uncompressed vmlinux in %s, booting the compressed image (slower under TCG)",
                        profile.name(), vmlinuz);
                Files.copy(vmlinuz, vmlinux);
            }
            Path busybox = userland.resolve("usr/bin/busybox");
            Exec.run(log, 300, List.of("bash", Scripts.install("mkinitramfs.sh", dir.resolve("scripts")).toString(),
                    kernelRoot.toString(), krel, busybox.toString(),
                    Scripts.install("init", dir.resolve("scripts")).toString(), dir.resolve("initramfs.gz").toString()));
            Progress.say("image %s: vmlinux + initramfs %s", profile.name(), Progress.since(t));
        });
        GuestImage image = new GuestImage(profile, krel, userland, kernelRoot, boot.resolve("vmlinux"),
                boot.resolve("initramfs.gz"));
        Progress.say("image %s: ready in %s (kernel %s, cache %s)", profile.name(), Progress.since(t0), krel, cache.root());
        return image;
    }

    private void prepareRootBuild(Path dir, String what) {
        Prerequisites.requireRoot("building " + what);
        Prerequisites.require("mmdebstrap", "mmdebstrap");
        Prerequisites.requireFreeSpace(dir, ROOT_SPACE, what);
    }
}
