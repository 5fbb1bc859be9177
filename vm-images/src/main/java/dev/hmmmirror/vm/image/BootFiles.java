package dev.hmmmirror.vm.image;

import dev.hmmmirror.vm.host.Exec;
import dev.hmmmirror.vm.host.Prerequisites;
import dev.hmmmirror.vm.host.Progress;
import dev.hmmmirror.vm.host.SetupException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * What every kind of kernel needs to boot as a guest (stock, built, a user's tree): the boot
 * files (uncompressed vmlinux, initramfs), the modules directory, and the checks before a root
 * is built. Used by {@link GuestImages}, {@link BuiltKernels} and {@link KernelTrees}; uses none of them.
 */
final class BootFiles {
    private static final long ROOT_SPACE = 3L << 30;

    private final ImageCache cache;

    BootFiles(ImageCache cache) {
        this.cache = cache;
    }

    /**
     * The boot files of a kernel: {@code vmlinux} (the uncompressed ELF, extracted from
     * {@code kernelImage} when it is compressed) and {@code initramfs.gz} (busybox + the 9p/overlay
     * modules of {@code modulesRoot} that are not built in). Cached as entry {@code name}.
     *
     * @param modulesRoot a root holding {@code lib/modules/<krel>} or {@code usr/lib/modules/<krel>}
     * @param extract     whether QEMU may boot the kernel's ELF (it has PVH); else the image is booted as it is
     */
    Path ensure(String name, KernelProfile profile, String krel, String kernelKey, Userland userland, Path kernelImage,
            Path modulesRoot, boolean extract) {
        String bootKey = Scripts.hash(List.of("extract-vmlinux.sh", "mkinitramfs.sh", "init"), kernelKey, userland.key(),
                kernelImage.getFileName().toString(), String.valueOf(extract));
        return cache.ensure(name, bootKey, "boot files " + krel, dir -> {
            long t = System.nanoTime();
            Path log = dir.resolve("build.log");
            Path vmlinux = dir.resolve("vmlinux");
            if (!extract) {
                Files.copy(kernelImage, vmlinux); // booted as it is, decompressing itself
            } else {
                try {
                    Exec.run(log, 300, List.of("bash", Scripts.install("extract-vmlinux.sh", dir.resolve("scripts")).toString(),
                            kernelImage.toString(), vmlinux.toString()));
                } catch (SetupException e) {
                    Progress.say("image %s: no uncompressed vmlinux in %s, booting the compressed image (slower under TCG)",
                            profile.name(), kernelImage);
                    Files.copy(kernelImage, vmlinux);
                }
            }
            Exec.run(log, 300, List.of("bash", Scripts.install("mkinitramfs.sh", dir.resolve("scripts")).toString(),
                    modulesRoot.toString(), krel, userland.busybox().toString(),
                    Scripts.install("init", dir.resolve("scripts")).toString(), dir.resolve("initramfs.gz").toString()));
            Progress.say("image %s: vmlinux + initramfs %s", profile.name(), Progress.since(t));
        });
    }

    /**
     * The modules directory (holding {@code <krel>/}) under {@code root}: {@code usr/lib/modules}, or
     * {@code lib/modules} where the modules are not merged into /usr (bookworm roots, older
     * {@code make modules_install}).
     */
    static Path modulesDir(Path root, String krel) {
        Path usr = root.resolve("usr/lib/modules");
        return Files.exists(usr.resolve(krel).resolve("modules.order")) ? usr : root.resolve("lib/modules");
    }

    static void prepareRootBuild(Path dir, String what) {
        Prerequisites.requireRoot("building " + what);
        Prerequisites.require("mmdebstrap", "mmdebstrap");
        Prerequisites.requireFreeSpace(dir, ROOT_SPACE, what);
    }
}
