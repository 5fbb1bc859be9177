package dev.hmmmirror.tool;

import dev.hmmmirror.Mirror;
import dev.hmmmirror.rdma.RdmaDevice;
import dev.hmmmirror.vm.session.GuestSession;
import java.io.File;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.jar.JarFile;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code hmm run}: a command, or a Java program with our API on its classpath, in a guest. */
@Command(name = "run", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Run a command or a Java program in a guest.",
            "Boot a kernel, load hmm_mirror.ko and run a command in the guest, as root, in a host "
                + "directory that the guest sees read-write at the same path (default: the current one). Output is "
                + "streamed; the exit code is the command's (2: kernel splat or the guest died, 125: could not "
                + "build or boot). Standard input is passed on.",
            "With --java or --classpath: a Java program (JDK 25 in the guest) with java-bindings and hmm-rdma "
                + "(RDMA verbs, rxe) on its classpath, after its own entries, and native access enabled.",
            "Examples:", "  hmm run -- uname -r", "  hmm run --kernel debian-trixie -- sh -c 'dmesg | tail'",
            "  hmm run --java app.jar arg1 arg2", "  hmm run --classpath target/classes com.example.Main"})
final class Run implements Callable<Integer> {
    @Mixin
    GuestOptions guest;

    @Option(names = "--dir", paramLabel = "DIR", description = "host directory mounted read-write in the guest at "
            + "the same path, where the command starts (default: the current directory)")
    Path dir = Path.of("");

    @Option(names = "--java", paramLabel = "JAR", description = "run this jar's Main-Class; the words after it are "
            + "its arguments")
    Path jar;

    @Option(names = {"-cp", "--classpath"}, paramLabel = "PATH", description = "run a Java program from this "
            + "classpath (':'-separated jars and class folders); the first word after it is the main class")
    String classpath;

    @Option(names = "--jvm-opt", paramLabel = "OPTION", description = "an option for the guest JVM (repeatable), "
            + "e.g. --jvm-opt=-Xint")
    List<String> jvmOptions = new ArrayList<>();

    @Option(names = "--timeout", paramLabel = "SECONDS", description = "kill the guest after this long "
            + "(default: 86400)")
    long timeoutSeconds = 86_400;

    @Parameters(paramLabel = "COMMAND", description = "the command and its arguments (put -- before a command "
            + "that starts with '-'); with --java: the program's arguments; with --classpath: the main class and "
            + "its arguments")
    List<String> words = new ArrayList<>();

    @Override
    public Integer call() {
        Path work = dir.toAbsolutePath().normalize();
        if (!Files.isDirectory(work)) {
            System.err.println("hmm run: --dir " + work + " is not a directory");
            return Hmm.CANNOT_RUN;
        }
        if (jar == null && classpath == null && words.isEmpty()) {
            System.err.println("hmm run: what should run? e.g. hmm run -- uname -r (see hmm run --help)");
            return Hmm.CANNOT_RUN;
        }
        List<String> program;
        List<Path> entries = new ArrayList<>();
        try {
            if (jar != null) {
                entries.add(jar.toAbsolutePath());
                program = new ArrayList<>();
                program.add(mainClassOf(jar));
                program.addAll(words);
            } else if (classpath != null) {
                for (String e : classpath.split(File.pathSeparator)) {
                    entries.add(Path.of(e).toAbsolutePath());
                }
                if (words.isEmpty()) {
                    System.err.println("hmm run: --classpath needs a main class: hmm run -cp PATH MAIN [ARGS]");
                    return Hmm.CANNOT_RUN;
                }
                program = words;
            } else {
                program = null;
            }
        } catch (IOException e) {
            System.err.println("hmm run: " + e.getMessage());
            return Hmm.CANNOT_RUN;
        }
        var settings = guest.settings();
        return InGuest.run(settings, guest.profile(settings), work,
                session -> program == null ? InGuest.quote(words) : javaCommand(session, entries, program, jvmOptions),
                System.in, Duration.ofSeconds(timeoutSeconds));
    }

    /**
     * Stages the program's classpath, then java-bindings and hmm-rdma (the API a program may use
     * without bundling it; a copy the program brings comes first and wins), into the results share
     * ({@code /hmm/out/java}) and returns the guest's java command line.
     */
    static String javaCommand(GuestSession session, List<Path> entries, List<String> program,
            List<String> jvmOptions) {
        List<Path> all = new ArrayList<>(entries);
        try {
            all.add(Path.of(Mirror.class.getProtectionDomain().getCodeSource().getLocation().toURI()));
            all.add(Path.of(RdmaDevice.class.getProtectionDomain().getCodeSource().getLocation().toURI()));
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
        return session.javaCommand(all, jvmOptions, program);
    }

    private static String mainClassOf(Path jar) throws IOException {
        try (JarFile j = new JarFile(jar.toFile())) {
            String main = j.getManifest() == null ? null : j.getManifest().getMainAttributes().getValue("Main-Class");
            if (main == null) {
                throw new IOException(jar + " names no Main-Class in its manifest: use --classpath " + jar + " MAIN");
            }
            return main;
        }
    }
}
