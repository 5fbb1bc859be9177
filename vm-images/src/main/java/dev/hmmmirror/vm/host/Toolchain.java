package dev.hmmmirror.vm.host;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.commons.io.file.PathUtils;

/**
 * Where things are compiled with a kernel root's own gcc and headers (our module, guest programs, a built
 * kernel):
 * a chroot of the kernel root on this host (local runner) or the runner's container, whose
 * image is that root (container runner).
 */
public interface Toolchain {
    /** A fresh, empty scratch directory (a host path) that the toolchain sees. */
    Path scratch(String name) throws IOException;

    /** The path under which the toolchain sees {@code hostPath} (inside {@link #scratch}). */
    String path(Path hostPath);

    /** Runs {@code script} with {@code sh -c} in the toolchain, its output appended to {@code log}. */
    void run(Path log, long timeoutSeconds, String script);

    /** {@code dir}, emptied (or made): a fresh scratch directory. */
    static Path emptyDir(Path dir) throws IOException {
        if (Files.exists(dir)) {
            PathUtils.deleteDirectory(dir);
        }
        return Files.createDirectories(dir);
    }

    /**
     * The local toolchain, needs root: {@code chroot} into {@code root} (a kernel root) with its own
     * /proc and the host directories of {@code binds}
     * mounted at their paths inside (e.g. a built kernel's build directory at {@code /kbuild}).
     */
    static Toolchain chroot(Path root, java.util.Map<String, Path> binds) {
        return new Toolchain() {
            @Override
            public Path scratch(String name) throws IOException {
                Prerequisites.requireRoot("building in the kernel root");
                Prerequisites.require("unshare", "util-linux");
                return emptyDir(root.resolve("tmp").resolve(name));
            }

            @Override
            public String path(Path hostPath) {
                return "/" + root.relativize(hostPath);
            }

            @Override
            public void run(Path log, long timeoutSeconds, String script) {
                StringBuilder mounts = new StringBuilder("mount -t proc proc \"$1/proc\"");
                List<String> cmd = new java.util.ArrayList<>(List.of("unshare", "-m", "--propagation", "private",
                        "sh", "-c", "", "sh", root.toString(), script));
                for (var b : binds.entrySet()) {
                    int n = cmd.size() - 7; // $3, $4, ...: inside path, host path
                    mounts.append(" && mkdir -p \"$1${").append(n).append("}\" && mount --bind \"${")
                            .append(n + 1).append("}\" \"$1${").append(n).append("}\"");
                    cmd.add(b.getKey());
                    cmd.add(b.getValue().toString());
                }
                cmd.set(6, mounts + " && exec chroot \"$1\" sh -c \"$2\"");
                Exec.run(log, timeoutSeconds, cmd);
            }
        };
    }

    /** This host's own tools (a kernel tree built by its owner, with this host's gcc). */
    static Toolchain host() {
        return new Toolchain() {
            @Override
            public Path scratch(String name) throws IOException {
                return emptyDir(Path.of(System.getProperty("java.io.tmpdir"), name));
            }

            @Override
            public String path(Path hostPath) {
                return hostPath.toString();
            }

            @Override
            public void run(Path log, long timeoutSeconds, String script) {
                Exec.run(log, timeoutSeconds, List.of("sh", "-c", script));
            }
        };
    }
}
