package dev.hmmmirror.vm;

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
 * Builds {@code hmm_mirror.ko} from the project's {@code kmod/} and {@code native-headers/} against
 * a guest image's kernel headers, inside the kernel root (chroot), so that the module is built by
 * the gcc the kernel was built with. Builds are cached by source content and kernel.
 */
public final class ModuleBuild {
    private final ImageCache cache;
    private final Path projectRoot;

    public ModuleBuild(ImageCache cache, Path projectRoot) {
        this.cache = cache;
        this.projectRoot = projectRoot;
    }

    /** The project root: {@code -Dhmm.root}, else the nearest parent of the working directory holding kmod/. */
    public static Path projectRoot() {
        String p = System.getProperty("hmm.root");
        if (p != null && !p.isBlank() && Files.isDirectory(Path.of(p, "kmod"))) {
            return Path.of(p).toAbsolutePath().normalize();
        }
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            if (Files.isDirectory(d.resolve("kmod")) && Files.isDirectory(d.resolve("native-headers"))) {
                return d;
            }
        }
        throw new SetupException("cannot find the hmm-mirror project (kmod/ and native-headers/): "
                + "run from the project directory or pass -Dhmm.root=/path/to/hmm-mirror");
    }

    /** Builds (or reuses) the module for {@code image} and returns the path of the .ko. */
    public Path build(GuestImage image) {
        String key = sourceHash(image.kernelRelease(), image.kernelRoot().getParent().getFileName().toString());
        Path entry = cache.ensure("kmod-" + image.kernelRelease(), key, "hmm_mirror.ko for " + image.kernelRelease(), dir -> {
            Prerequisites.requireRoot("building hmm_mirror.ko in the kernel root");
            Prerequisites.require("unshare", "util-linux");
            long t = System.nanoTime();
            Path work = image.kernelRoot().resolve("tmp/hmm-kmod-" + ProcessHandle.current().pid() + "-" + key);
            try {
                if (Files.exists(work)) {
                    PathUtils.deleteDirectory(work);
                }
                Files.createDirectories(work.resolve("kmod"));
                Files.createDirectories(work.resolve("native-headers"));
                PathUtils.copyDirectory(projectRoot.resolve("kmod"), work.resolve("kmod"));
                PathUtils.copyDirectory(projectRoot.resolve("native-headers"), work.resolve("native-headers"));
                String inRoot = "/tmp/" + work.getFileName() + "/kmod";
                String root = image.kernelRoot().toString();
                Exec.run(dir.resolve("build.log"), 900, List.of("unshare", "-m", "--propagation", "private", "sh", "-c",
                        "mount -t proc proc \"$1/proc\" && exec chroot \"$1\" make -C \"$2\" M=\"$3\" W=1 modules",
                        "sh", root, image.headersPathInRoot(), inRoot));
                Files.copy(work.resolve("kmod/hmm_mirror.ko"), dir.resolve("hmm_mirror.ko"));
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
     * Builds the static C side of the Java/C benchmark ({@code mirror_bench}) in the image's
     * kernel root, with that root's gcc. Cached by source.
     */
    public Path buildBench(GuestImage image) {
        byte[] src = Scripts.resource("bench/mirror_bench.c");
        String key = sourceHash(image.kernelRelease(), new String(src, java.nio.charset.StandardCharsets.ISO_8859_1));
        Path entry = cache.ensure("bench-" + image.kernelRelease(), key, "mirror_bench for " + image.kernelRelease(), dir -> {
            Prerequisites.requireRoot("building mirror_bench in the kernel root");
            Path work = image.kernelRoot().resolve("tmp/hmm-bench-" + ProcessHandle.current().pid() + "-" + key);
            try {
                Files.createDirectories(work);
                PathUtils.copyDirectory(projectRoot.resolve("native-headers"), work.resolve("native-headers"));
                Files.write(work.resolve("mirror_bench.c"), src);
                String in = "/tmp/" + work.getFileName();
                Exec.run(dir.resolve("build.log"), 300, List.of("chroot", image.kernelRoot().toString(), "sh", "-c",
                        "cc=$(ls /usr/bin/x86_64-linux-gnu-gcc-[0-9]* | head -n 1) && $cc -O2 -static -Wall -Werror"
                                + " -I " + in + "/native-headers -o " + in + "/mirror_bench " + in + "/mirror_bench.c"));
                Files.copy(work.resolve("mirror_bench"), dir.resolve("mirror_bench"));
            } finally {
                if (Files.exists(work)) {
                    PathUtils.deleteDirectory(work);
                }
            }
        });
        return entry.resolve("mirror_bench");
    }

    private String sourceHash(String... extra) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (String dir : List.of("kmod", "native-headers")) {
                try (Stream<Path> files = Files.walk(projectRoot.resolve(dir))) {
                    for (Path f : files.filter(Files::isRegularFile).filter(ModuleBuild::isSource).sorted().toList()) {
                        md.update(projectRoot.relativize(f).toString().getBytes());
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
