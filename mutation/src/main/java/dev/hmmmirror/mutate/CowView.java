package dev.hmmmirror.mutate;

import dev.hmmmirror.vm.host.Exec;
import dev.hmmmirror.vm.host.Prerequisites;
import dev.hmmmirror.vm.host.Progress;
import dev.hmmmirror.vm.host.SetupException;
import dev.hmmmirror.vm.host.Toolchain;
import dev.hmmmirror.vm.image.KernelProfile;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.apache.commons.io.file.PathUtils;

/**
 * A copy-on-write view of a {@link BaseKernel} for one mutant: overlayfs mounts (this host's mount
 * namespace, so that the guest tools see them; needs root) whose lower layers are the built kernel's
 * root and build entry, untouched, and whose upper layers, in the campaign's slot directory, take what
 * the patch and the incremental rebuild change. The slot's mount points are the same for every mutant
 * run in it, so that the cache entries made from the view (module install, our module, boot files)
 * are named by the slot and replace each other instead of piling up.
 */
final class CowView implements AutoCloseable {
    private final BaseKernel base;
    private final Path slot;
    private final Path view;
    private final List<Path> mounts = new ArrayList<>();

    private CowView(BaseKernel base, Path slot) {
        this.base = base;
        this.slot = slot;
        this.view = slot.resolve(base.rooted() ? "root" : "tree");
    }

    /** Mounts a fresh view of {@code base} in {@code slot} (its upper layers emptied first). */
    static CowView open(BaseKernel base, Path slot) {
        Prerequisites.requireRoot("mounting a mutant's copy-on-write view of the kernel (overlayfs)");
        unmountAll(slot);
        CowView v = new CowView(base, slot);
        try {
            for (String d : List.of("upper", "work")) {
                if (Files.exists(slot.resolve(d))) {
                    PathUtils.deleteDirectory(slot.resolve(d));
                }
            }
            v.overlay(base.lower(), v.view, "main");
            if (base.buildLower() != null) {
                v.overlay(base.buildLower(), v.view.resolve(base.buildMount().substring(1)), "build");
            }
            return v;
        } catch (IOException | RuntimeException e) {
            v.close();
            throw e instanceof SetupException se ? se : new SetupException("cannot mount the view in " + slot + ": " + e, e);
        }
    }

    private void overlay(Path lower, Path at, String layer) throws IOException {
        Path upper = Files.createDirectories(slot.resolve("upper").resolve(layer));
        Path work = Files.createDirectories(slot.resolve("work").resolve(layer));
        Files.createDirectories(at);
        Exec.run(slot.resolve("mount.log"), 60, List.of("mount", "-t", "overlay", "overlay", "-o",
                "lowerdir=" + lower + ",upperdir=" + upper + ",workdir=" + work, at.toString()));
        mounts.add(at);
    }

    /** Unmounts whatever is still mounted under {@code slot} (a campaign killed halfway), deepest first. */
    static void unmountAll(Path slot) {
        List<Path> found = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/mounts"), StandardCharsets.ISO_8859_1)) {
                String[] f = line.split(" ");
                if (f.length > 1) {
                    Path p = Path.of(f[1].replace("\\040", " "));
                    if (p.startsWith(slot)) {
                        found.add(p);
                    }
                }
            }
        } catch (IOException e) {
            return;
        }
        found.sort(Comparator.comparingInt(Path::getNameCount).reversed());
        for (Path p : found) {
            try {
                Exec.run(slot.resolve("mount.log"), 60, List.of("umount", "-l", p.toString()));
            } catch (SetupException e) {
                Progress.say("mutate: could not unmount %s: %s", p, e.getMessage().lines().findFirst().orElse(""));
            }
        }
    }

    /** The host path of what the toolchain sees as {@code inside} (a rooted view), or the view itself. */
    private Path host(String inside) {
        return inside.isEmpty() ? view : view.resolve(inside.substring(1));
    }

    /** The kernel build tree in the view (host path). */
    Path tree() {
        return host(base.tree());
    }

    /** The source tree in the view (host path): where patches apply. */
    Path source() {
        return host(base.source());
    }

    /** The profile that boots the view's kernel ({@code tree:} with the view's root as its toolchain). */
    KernelProfile profile() {
        return KernelProfile.tree(tree(), base.rooted() ? view : null);
    }

    /** The toolchain of the view: a chroot of the rooted view, else this host. */
    Toolchain toolchain() {
        return base.rooted() ? Toolchain.chroot(view, Map.of()) : Toolchain.host();
    }

    /** Applies a patch ({@code patch -p1} at the source root); fails with patch's own words. */
    void apply(Mutant m, Path log) {
        Prerequisites.require("patch", "patch");
        Path diff = slot.resolve("mutant.diff");
        try {
            Files.writeString(diff, m.diff());
        } catch (IOException e) {
            throw new SetupException("cannot write " + diff + ": " + e.getMessage(), e);
        }
        Exec.run(log, 120, List.of("patch", "-p1", "--forward", "--no-backup-if-mismatch", "-r", "-", "-d",
                source().toString(), "-i", diff.toString()));
    }

    /** What a rebuild cost. */
    record Cost(double seconds, long compiled, boolean linked) {}

    /**
     * Rebuilds the view's kernel and modules incrementally from the base's objects, with its toolchain,
     * {@code jobs} at once; fails with the build's error lines (the log is kept at {@code log}).
     */
    Cost build(Path log, int jobs, Duration timeout) {
        String targets = "vmlinux modules" + (base.kasan() ? " bzImage" : "");
        String args = base.rooted() ? base.makeArgs() : "-C " + view;
        long t0 = System.nanoTime();
        long before = count(log);
        try (AutoCloseable ticker = Progress.every(Duration.ofSeconds(60),
                () -> "mutate: rebuilding, " + (count(log) - before) + " files compiled so far")) {
            toolchain().run(log, timeout.toSeconds(), "make " + args + " -j" + jobs + " " + targets);
        } catch (SetupException e) {
            throw e;
        } catch (Exception e) {
            throw new SetupException("rebuild: " + e.getMessage(), e);
        }
        double s = (System.nanoTime() - t0) / 1e9;
        long compiled = count(log) - before;
        return new Cost(s, compiled, linked(log));
    }

    private static long count(Path log) {
        try (var lines = Files.lines(log, StandardCharsets.ISO_8859_1)) {
            return lines.filter(l -> l.startsWith("  CC ") || l.startsWith("  CC [M] ")).count();
        } catch (IOException | java.io.UncheckedIOException e) {
            return 0;
        }
    }

    private static boolean linked(Path log) {
        try (var lines = Files.lines(log, StandardCharsets.ISO_8859_1)) {
            return lines.anyMatch(l -> l.startsWith("  LD      vmlinux"));
        } catch (IOException | java.io.UncheckedIOException e) {
            return false;
        }
    }

    /** How much the view's upper layers hold (what the mutant changed and rebuilt), in bytes. */
    long upperBytes() {
        try (var s = Files.walk(slot.resolve("upper"))) {
            return s.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        } catch (IOException | java.io.UncheckedIOException e) {
            return -1;
        }
    }

    @Override
    public void close() {
        List<Path> m = new ArrayList<>(mounts);
        java.util.Collections.reverse(m);
        for (Path p : m) {
            try {
                Exec.run(slot.resolve("mount.log"), 60, List.of("umount", p.toString()));
            } catch (SetupException e) {
                Exec.run(slot.resolve("mount.log"), 60, List.of("umount", "-l", p.toString()));
            }
        }
        mounts.clear();
    }
}
