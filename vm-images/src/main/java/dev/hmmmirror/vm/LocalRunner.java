package dev.hmmmirror.vm;

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
    public Path socketDir() {
        return GuestRunner.agentSocketDir();
    }

    @Override
    public ModuleBuild.Toolchain toolchain(GuestImage image) {
        return image.localToolchain();
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
