package dev.hmmmirror.vm;

import java.nio.file.Path;

/**
 * Everything needed to boot one kernel profile.
 *
 * @param profile       the kernel profile
 * @param kernelRelease {@code uname -r} of the guest kernel, e.g. {@code 7.2.13+deb14-amd64}
 * @param userland      the guest's root file system (shared by all profiles)
 * @param kernelRoot    the root holding the kernel, its modules, headers and gcc
 * @param kernel        the kernel QEMU boots (uncompressed ELF vmlinux where possible)
 * @param initramfs     the initramfs that mounts the userland over 9p
 */
public record GuestImage(KernelProfile profile, String kernelRelease, Path userland, Path kernelRoot, Path kernel,
        Path initramfs) {
    /** The kernel's modules directory, shared into the guest at {@code /usr/lib/modules}. */
    public Path modulesDir() {
        Path usr = kernelRoot.resolve("usr/lib/modules");
        // bookworm roots keep modules in /lib (not merged into /usr)
        return java.nio.file.Files.exists(usr.resolve(kernelRelease).resolve("modules.order")) ? usr
                : kernelRoot.resolve("lib/modules");
    }

    /** The kernel headers (kbuild directory) inside the kernel root. */
    public String headersPathInRoot() {
        return "/usr/src/linux-headers-" + kernelRelease;
    }
}
