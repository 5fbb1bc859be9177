package dev.hmmmirror.vm.build;

import dev.hmmmirror.vm.host.Exec;
import dev.hmmmirror.vm.host.Prerequisites;
import dev.hmmmirror.vm.host.Progress;
import dev.hmmmirror.vm.host.Toolchain;
import dev.hmmmirror.vm.image.GuestImage;
import dev.hmmmirror.vm.image.ImageCache;
import dev.hmmmirror.vm.image.Scripts;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import org.apache.commons.io.file.PathUtils;

/**
 * Builds {@code hmm_mirror.ko} from {@code kmod/} and {@code native-headers/} ({@link ModuleSources}) against
 * a guest image's kernel headers, inside the kernel root (a chroot, or the container runner's
 * container, whose image is that root), so that the module is built by the gcc the kernel was
 * built with. Builds are cached by source content and kernel, whichever toolchain built them.
 */
public final class ModuleBuild {
    private final ImageCache cache;
    private final Path sources;

    public ModuleBuild(ImageCache cache, Path sources) {
        this.cache = cache;
        this.sources = sources;
    }

    /**
     * Builds (or reuses) the module for {@code image} with {@code toolchain}; returns the path of the .ko.
     * On a kernel with {@code CONFIG_GCOV_KERNEL=y} the module is built with {@code GCOV_PROFILE} and the
     * entry keeps what line coverage needs ({@link ModuleCoverageBuild}).
     */
    public Path build(GuestImage image, Toolchain toolchain) {
        boolean gcov = ModuleCoverageBuild.kernelHasGcov(image.config());
        String key = sourceHash(image.kernelRelease(), image.buildId(), gcov ? "gcov" : "");
        Path entry = cache.ensure("kmod-" + entrySuffix(image), key, "hmm_mirror.ko for " + image.kernelRelease(), dir -> {
            long t = System.nanoTime();
            String scratch = ModuleCoverageBuild.scratchName(key);
            Path work = toolchain.scratch(scratch);
            try {
                Files.createDirectories(work.resolve("kmod"));
                Files.createDirectories(work.resolve("native-headers"));
                PathUtils.copyDirectory(sources.resolve("kmod"), work.resolve("kmod"));
                PathUtils.copyDirectory(sources.resolve("native-headers"), work.resolve("native-headers"));
                toolchain.run(dir.resolve("build.log"), 900, "make -C " + image.kbuild() + " M="
                        + toolchain.path(work.resolve("kmod")) + " W=1" + (gcov ? " HMM_MIRROR_GCOV=y" : "")
                        + " modules");
                Files.copy(work.resolve("kmod/hmm_mirror.ko"), dir.resolve("hmm_mirror.ko"));
                if (gcov) {
                    ModuleCoverageBuild.keep(work, scratch, toolchain.path(work.resolve("kmod")), dir);
                }
            } finally {
                if (Files.exists(work)) {
                    PathUtils.deleteDirectory(work);
                }
            }
            List<String> warnings = Files.readAllLines(dir.resolve("build.log")).stream()
                    .filter(l -> l.contains("warning:")).toList();
            Progress.say("kmod %s: built with the kernel's gcc in %s, %d warning(s)%s", image.kernelRelease(),
                    Progress.since(t), warnings.size(), warnings.isEmpty() ? "" : ":\n  " + String.join("\n  ", warnings));
        });
        return entry.resolve("hmm_mirror.ko");
    }

    /**
     * Builds a static C program for the guest ({@code name}, from {@code source}, with the uapi
     * header on its include path) with {@code toolchain}: the kernel root's gcc. Cached by source.
     */
    public Path buildProgram(GuestImage image, Toolchain toolchain, String name, byte[] source) {
        String key = sourceHash(image.kernelRelease(), image.buildId(), name,
                new String(source, java.nio.charset.StandardCharsets.ISO_8859_1));
        Path entry = cache.ensure("prog-" + entrySuffix(image), key, name + " for " + image.kernelRelease(), dir -> {
            Path work = toolchain.scratch("hmm-prog-" + ProcessHandle.current().pid() + "-" + key);
            try {
                PathUtils.copyDirectory(sources.resolve("native-headers"), work.resolve("native-headers"));
                Files.write(work.resolve(name + ".c"), source);
                String in = toolchain.path(work);
                toolchain.run(dir.resolve("build.log"), 300,
                        "cc=$(ls /usr/bin/" + image.profile().gnuCpu() + "-linux-gnu-gcc-[0-9]* | head -n 1) && $cc -O2 -static -Wall -Werror"
                                + " -I " + in + "/native-headers -o " + in + "/" + name + " " + in + "/" + name + ".c");
                Files.copy(work.resolve(name), dir.resolve(name));
            } finally {
                if (Files.exists(work)) {
                    PathUtils.deleteDirectory(work);
                }
            }
        });
        return entry.resolve(name);
    }

    /**
     * What names the module's entries of {@code image}: its kernel release, and for a kernel tree also the
     * tree (trees, mutants among them, share the release of the kernel they derive from: they must not evict
     * its entries or each other's).
     */
    static String entrySuffix(GuestImage image) {
        if (image.profile().kind() != dev.hmmmirror.vm.image.KernelProfile.Kind.TREE) {
            return image.kernelRelease();
        }
        return image.kernelRelease() + "-t" + Scripts.hash(List.of(), image.profile().tree().toString());
    }

    private String sourceHash(String... extra) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (String dir : ModuleSources.folders()) {
                try (Stream<Path> files = Files.walk(sources.resolve(dir))) {
                    for (Path f : files.filter(Files::isRegularFile).filter(ModuleBuild::isSource).sorted().toList()) {
                        md.update(sources.relativize(f).toString().getBytes());
                        md.update(Files.readAllBytes(f));
                    }
                }
            }
            for (String e : extra) {
                md.update(e.getBytes());
            }
            return HexFormat.of().formatHex(md.digest()).substring(0, 16);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static boolean isSource(Path f) {
        String n = f.getFileName().toString();
        return n.endsWith(".c") || n.endsWith(".h") || n.equals("Kbuild") || n.equals("Makefile");
    }
}
