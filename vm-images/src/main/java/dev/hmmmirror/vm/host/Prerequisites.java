package dev.hmmmirror.vm.host;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** Checks for what building and booting guests needs, failing with a message that says how to fix it. */
public final class Prerequisites {
    private Prerequisites() {}

    /** The absolute path of {@code program} on PATH. */
    public static Optional<Path> which(String program) {
        String path = System.getenv().getOrDefault("PATH", "/usr/bin:/bin");
        for (String dir : path.split(File.pathSeparator)) {
            Path p = Path.of(dir.isEmpty() ? "." : dir, program);
            if (Files.isExecutable(p)) {
                return Optional.of(p);
            }
        }
        for (String dir : new String[] {"/usr/sbin", "/sbin"}) {
            Path p = Path.of(dir, program);
            if (Files.isExecutable(p)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    /** Fails unless {@code program} is installed; {@code debianPackage} is named in the fix. */
    public static Path require(String program, String debianPackage) {
        return which(program).orElseThrow(() -> new SetupException(program + " is not installed: run "
                + "`sudo apt-get install " + debianPackage + "` (or ci/install-deps.sh, which installs everything)"));
    }

    /** Whether this process runs as root. */
    public static boolean isRoot() {
        return "root".equals(System.getProperty("user.name")) || uid() == 0;
    }

    private static long uid() {
        try {
            Object uid = Files.getAttribute(Path.of("/proc/self"), "unix:uid");
            return ((Number) uid).longValue();
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return -1;
        }
    }

    /** Fails unless this process runs as root; {@code why} says what needs it. */
    public static void requireRoot(String why) {
        if (!isRoot()) {
            throw new SetupException(why + " needs root (mmdebstrap and chroot): run the command with sudo, "
                    + "or build the images once as root: sudo ci/setup-and-run.sh");
        }
    }

    /** Fails unless the file system of {@code dir} has {@code bytes} free. */
    public static void requireFreeSpace(Path dir, long bytes, String what) {
        try {
            Files.createDirectories(dir);
            long free = Files.getFileStore(dir).getUsableSpace();
            if (free < bytes) {
                throw new SetupException(String.format("not enough disk space for %s in %s: %d MiB free, "
                        + "%d MiB needed; free some space or point HMM_MIRROR_CACHE at a larger disk",
                        what, dir, free >> 20, bytes >> 20));
            }
        } catch (IOException e) {
            throw new SetupException("cannot use cache directory " + dir + ": " + e.getMessage()
                    + "; set HMM_MIRROR_CACHE to a writable directory", e);
        }
    }
}
