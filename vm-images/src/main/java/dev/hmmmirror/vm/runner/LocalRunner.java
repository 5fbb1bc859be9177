package dev.hmmmirror.vm.runner;

import dev.hmmmirror.vm.boot.QemuHost;
import dev.hmmmirror.vm.host.Prerequisites;
import dev.hmmmirror.vm.host.Toolchain;
import dev.hmmmirror.vm.image.GuestImage;
import dev.hmmmirror.vm.image.KernelProfile;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** QEMU as a process of this host; the module built with the image's own toolchain (a chroot of its root: needs root). */
public final class LocalRunner implements GuestRunner {
    @Override
    public String describe() {
        return "local";
    }

    @Override
    public String qemu() {
        return Prerequisites.require("qemu-system-x86_64", "qemu-system-x86").toString();
    }

    @Override
    public String qemu(String arch) {
        return KernelProfile.ARM64.equals(arch) ? Prerequisites.require("qemu-system-aarch64", "qemu-system-arm").toString()
                : GuestRunner.super.qemu(arch);
    }

    @Override
    public Path socketDir() {
        return QemuHost.agentSocketDir();
    }

    @Override
    public Toolchain toolchain(GuestImage image) {
        return image.toolRoot() == null ? Toolchain.host()
                : Toolchain.chroot(image.toolRoot(), image.binds());
    }

    @Override
    public Process launch(List<String> command) throws IOException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        p.getOutputStream().close();
        return p;
    }

    @Override
    public String diagnostics() {
        return "";
    }

    @Override
    public void close() {
        // nothing held
    }
}
