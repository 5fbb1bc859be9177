package dev.hmmmirror.mutate;

import dev.hmmmirror.vm.config.Settings;
import dev.hmmmirror.vm.host.SetupException;
import dev.hmmmirror.vm.image.GuestImage;
import dev.hmmmirror.vm.image.GuestImages;
import dev.hmmmirror.vm.image.ImageCache;
import dev.hmmmirror.vm.image.KernelProfile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * The built kernel a campaign mutates, and where its parts are: the lower layers of each mutant's
 * copy-on-write view ({@link CowView}) and how to rebuild inside it.
 *
 * @param name        for reports: {@code built-7.2}, or the tree's path
 * @param lower       the directory the view's root overlays: a root file system with the toolchain (a built
 *                    kernel's source root, a user's chroot), or the tree itself when built with this host's tools
 * @param rooted      whether {@code lower} is a root file system the build runs in (chroot)
 * @param buildLower  a second directory overlaid at {@code buildMount} inside the root (a built kernel's build
 *                    entry at {@code /kbuild}), or null
 * @param buildMount  where {@code buildLower} is seen inside the root, or null
 * @param tree        the kernel build tree as the toolchain sees it (relative to the view when rooted:
 *                    {@code /kbuild/build}; else empty: the view itself)
 * @param source      the source tree as the toolchain sees it (where mutants' patches apply), same convention
 * @param makeArgs    what {@code make} is called with besides the jobs and targets (e.g. {@code -C SRC O=BUILD ARCH=x86_64})
 * @param kasan       whether the kernel has KASAN (then it boots its bzImage, which the rebuild must make)
 */
public record BaseKernel(String name, Path lower, boolean rooted, Path buildLower, String buildMount, String tree,
        String source, String makeArgs, boolean kasan) {
    /**
     * A kernel built here ({@code built-7.2}, {@code built-7.2-debug}): its cache entries (the source root with
     * the release's gcc; the build entry bound at {@code /kbuild}), built first when missing.
     */
    public static BaseKernel built(Settings settings, String profileName) {
        KernelProfile p = KernelProfile.named(profileName);
        if (p.kind() != KernelProfile.Kind.BUILT) {
            throw new SetupException("hmm mutate: --kernel " + profileName + " is not a kernel built here from "
                    + "linux-source (built-7.2, built-7.2-debug, ...); for your own tree use --kernel-tree DIR");
        }
        if (p.foreign()) {
            throw new SetupException("hmm mutate: --kernel " + profileName + " is an " + p.arch() + " kernel; mutants "
                    + "are built for x86-64 kernels only so far (built-7.2, built-7.2-debug, ...)");
        }
        GuestImage image = new GuestImages(ImageCache.of(settings), settings).ensure(p);
        Map.Entry<String, Path> bind = image.binds().entrySet().iterator().next(); // /kbuild -> the build entry
        Path build = bind.getValue().resolve(Path.of(bind.getKey()).relativize(Path.of(image.kbuild())).toString());
        String source;
        try {
            source = Files.readSymbolicLink(build.resolve("source")).toString();
        } catch (IOException e) {
            throw new SetupException("the build of " + profileName + " at " + build + " has no source link: "
                    + e.getMessage(), e);
        }
        return new BaseKernel(profileName, image.toolRoot(), true, bind.getValue(), bind.getKey(), image.kbuild(), source,
                "-C " + source + " O=" + image.kbuild() + " ARCH=x86_64", p.debug());
    }

    /**
     * A user's built tree: with {@code root} (the root file system whose compiler built it, containing the
     * tree) the view overlays that root and builds in it; without, the view overlays the tree and this
     * host's make builds it (an in-tree build: its source must be the tree itself).
     */
    public static BaseKernel tree(Path dir, Path root) {
        Path tree = dir.toAbsolutePath().normalize();
        Path r = root != null ? root.toAbsolutePath().normalize() : KernelProfile.toolRootOf(tree);
        boolean kasan = configHas(tree, "CONFIG_KASAN=y");
        Path link = tree.resolve("source");
        if (r != null) {
            if (!tree.startsWith(r)) {
                throw new SetupException("hmm mutate: the tree " + tree + " is not inside its toolchain root " + r
                        + "; a mutant's copy-on-write view covers the root, so the tree must lie in it");
            }
            String in = "/" + r.relativize(tree);
            String src = in;
            if (Files.isSymbolicLink(link)) {
                try {
                    Path target = Files.readSymbolicLink(link);
                    src = target.isAbsolute() ? target.toString() : Path.of(in).resolve(target).normalize().toString();
                } catch (IOException e) {
                    throw new SetupException("cannot read " + link + ": " + e.getMessage(), e);
                }
            }
            return new BaseKernel(tree.toString(), r, true, null, null, in, src, "-C " + in, kasan);
        }
        if (Files.isSymbolicLink(link)) {
            throw new SetupException("hmm mutate: " + tree + " is an out-of-tree build (O=) whose source lies elsewhere;"
                    + " a mutant's view covers one directory: use an in-tree build, or give the root it was built in"
                    + " (--kernel-tree-root) with both trees inside");
        }
        return new BaseKernel(tree.toString(), tree, false, null, null, "", "", "", kasan);
    }

    private static boolean configHas(Path tree, String line) {
        try {
            return Files.readAllLines(tree.resolve(".config")).contains(line);
        } catch (IOException e) {
            return false;
        }
    }
}
