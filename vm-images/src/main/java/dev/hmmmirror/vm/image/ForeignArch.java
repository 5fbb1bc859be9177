package dev.hmmmirror.vm.image;

import dev.hmmmirror.vm.host.Prerequisites;
import dev.hmmmirror.vm.host.SetupException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;

/**
 * The guest userland of another Debian architecture than this host's (arm64 guests on an x86-64 host):
 * the same build script as for amd64, run with an {@code mmdebstrap} that adds {@code --architectures=ARCH},
 * the foreign binaries (dpkg's maintainer scripts) run through Debian's {@code qemu-user-static}
 * registered with binfmt_misc. The amd64 script, and so its cache key, stays as it is. (The kernel root
 * of such a guest is a cross root of this host's architecture: {@code build-kernel-root-cross.sh}.)
 */
final class ForeignArch {
    private static final Path BINFMT = Path.of("/proc/sys/fs/binfmt_misc");

    private ForeignArch() {}

    /** The QEMU user-mode name of a Debian architecture ({@code arm64}: {@code aarch64}). */
    static String qemuName(String arch) {
        return switch (arch) {
            case KernelProfile.ARM64 -> "aarch64";
            default -> throw new SetupException("no guest support for Debian architecture '" + arch
                    + "': use amd64 or arm64");
        };
    }

    /**
     * Fails unless this host can build and run {@code arch} roots: mmdebstrap's {@code arch-test} and a
     * binfmt_misc entry of {@code qemu-ARCH} with the F flag (so that it works inside a chroot).
     */
    static void require(String arch) {
        String q = qemuName(arch);
        Prerequisites.require("arch-test", "arch-test");
        Path entry = BINFMT.resolve("qemu-" + q);
        String status;
        try {
            status = Files.isRegularFile(entry) ? Files.readString(entry) : "";
        } catch (IOException e) {
            status = "";
        }
        if (!status.startsWith("enabled") || !status.lines().anyMatch(l -> l.startsWith("flags:") && l.contains("F"))) {
            throw new SetupException("building " + arch + " guest roots needs " + arch + " binaries to run on this "
                    + "host: install Debian's qemu-user-static and binfmt-support (apt-get install qemu-user-static "
                    + "binfmt-support), mount binfmt_misc (mount -t binfmt_misc binfmt_misc " + BINFMT + ") and run "
                    + "update-binfmts --enable qemu-" + q + "; " + entry + " is "
                    + (status.isEmpty() ? "missing" : "'" + status.lines().findFirst().orElse("") + "' without flag F"));
        }
    }

    /**
     * {@code command} (a build script calling mmdebstrap) for an {@code arch} root: unchanged for amd64,
     * else run with {@code scripts/bin/mmdebstrap} first on the PATH, which adds {@code --architectures}.
     */
    static List<String> command(String arch, Path scripts, List<String> command) {
        if (KernelProfile.AMD64.equals(arch)) {
            return command;
        }
        require(arch);
        Path real = Prerequisites.require("mmdebstrap", "mmdebstrap");
        Path bin = scripts.resolve("bin");
        try {
            Files.createDirectories(bin);
            Path wrapper = bin.resolve("mmdebstrap");
            Files.writeString(wrapper, "#!/bin/sh\nexec " + real + " --architectures=" + arch + " \"$@\"\n");
            Files.setPosixFilePermissions(wrapper, PosixFilePermissions.fromString("rwxr-xr-x"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the mmdebstrap wrapper in " + bin, e);
        }
        List<String> out = new ArrayList<>(List.of("env", "PATH=" + bin + ":" + System.getenv("PATH")));
        out.addAll(command);
        return out;
    }
}
