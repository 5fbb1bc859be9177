package dev.hmmmirror.tool;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code hmm shell}: an interactive shell in a guest. */
@Command(name = "shell", mixinStandardHelpOptions = true,
        description = {"An interactive shell in a guest.",
            "Boot a kernel, load hmm_mirror.ko and start an interactive shell (sh -i, as root) in the "
                + "guest, in a host directory it sees read-write (default: the current one). Lines typed here "
                + "go to the shell; `exit` (or end of input) powers the guest off. There is no terminal in the "
                + "guest: line-by-line programs work, full-screen ones do not.",
            "Example:", "  hmm shell --kernel debian-bookworm"})
final class Shell implements Callable<Integer> {
    @Mixin
    GuestOptions guest;

    @Option(names = "--dir", paramLabel = "DIR", description = "host directory mounted read-write in the guest at "
            + "the same path (default: the current directory)")
    Path dir = Path.of("");

    @Override
    public Integer call() {
        Path work = dir.toAbsolutePath().normalize();
        if (!Files.isDirectory(work)) {
            System.err.println("hmm shell: --dir " + work + " is not a directory");
            return Hmm.CANNOT_RUN;
        }
        var settings = guest.settings();
        return InGuest.run(settings, guest.profile(settings), work, session -> "PS1='hmm-guest# ' exec sh -i 2>&1",
                System.in, Duration.ofDays(1));
    }
}
