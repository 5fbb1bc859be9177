package dev.hmmmirror.vm.image;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Everything needed to boot one kernel profile and to build against its kernel.
 *
 * @param profile       the kernel profile
 * @param kernelRelease {@code uname -r} of the guest kernel, e.g. {@code 7.2.13+deb14-amd64}
 * @param userland      the guest's root file system (shared by all profiles)
 * @param toolRoot      the root whose gcc builds against this kernel (chroot); null: this host's own
 *                      tools (a kernel tree built by its owner)
 * @param binds         directories bind-mounted into {@code toolRoot} for builds (path inside -> host path),
 *                      e.g. a built kernel's build directory
 * @param kbuild        the kernel build directory to build modules against ({@code make -C}), as the
 *                      toolchain sees it
 * @param kernel        the kernel QEMU boots (uncompressed ELF vmlinux where possible)
 * @param initramfs     the initramfs that mounts the userland over 9p
 * @param modulesDir    the directory holding {@code <kernelRelease>/}, shared at {@code /usr/lib/modules}
 * @param config        the kernel's {@code .config} (staged for the guest at {@code /hmm/host/kernel.config})
 * @param selftests     the kernel's own hmm selftest binary ({@code hmm-tests}), where the kernel has test_hmm
 * @param kernelArgs    what this kernel needs on its command line beyond the common arguments (may be empty)
 * @param buildId       identifies the kernel build for cache keys of things built against it
 * @param cacheEntries  cache entries the guest reads while it runs (held against pruning)
 */
public record GuestImage(KernelProfile profile, String kernelRelease, Path userland, Path toolRoot,
        Map<String, Path> binds, String kbuild, Path kernel, Path initramfs, Path modulesDir,
        Path config, Optional<Path> selftests, String kernelArgs, String buildId, List<Path> cacheEntries) {}
