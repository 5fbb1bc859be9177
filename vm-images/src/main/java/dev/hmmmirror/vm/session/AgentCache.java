package dev.hmmmirror.vm.session;

import dev.hmmmirror.agent.GuestAgent;
import dev.hmmmirror.vm.config.Settings;
import dev.hmmmirror.vm.host.Exec;
import dev.hmmmirror.vm.host.Prerequisites;
import dev.hmmmirror.vm.host.Progress;
import dev.hmmmirror.vm.host.SetupException;
import dev.hmmmirror.vm.image.GuestImage;
import dev.hmmmirror.vm.image.ImageCache;
import dev.hmmmirror.vm.image.Scripts;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The guest JVM's AOT cache (JDK 25, {@code -XX:AOTCache}). Under TCG a JVM spends seconds
 * loading and linking the JUnit launcher and the FFM machinery; recording that once on the host
 * (at native speed, with the guest's own Java in a chroot of the guest userland and the staged
 * jars at the paths the guest sees) cuts the agent's start and first request. Cached by the exact
 * jars (name, size, timestamp), flags and userland; rebuilt when any of them changes. Needs root
 * (chroot).
 *
 * <p>On by default since December 2026 ({@code -Dhmm.aot=false} turns it off): with C1 (the guest
 * JIT's default) /init to the device demo's first result took 10.1 s with the cache and 11.8 s
 * without (the demo 4.4 against 6.1 s; medians of three rounds of {@code hmm bench} at low load,
 * docs/performance.md, 'Boot'), and the demo was faster with it in every run. With the interpreter
 * and the eager FFM set-up of before it had not paid off, so it was opt-in until then. Recording
 * takes 7-19 s on the host, once per set of jars, flags and userland.
 */
final class AgentCache {
    /** File name in the host share. */
    static final String FILE = "agent.aot";

    private AgentCache() {}

    /** Puts a valid AOT cache into {@code stage}; returns whether the guest should use it. */
    static boolean prepare(Settings settings, ImageCache cache, GuestImage image, Path stage, List<String> jars) {
        List<String> flags = GuestJvm.flags(settings);
        if (!settings.aot() || !Prerequisites.isRoot() || Prerequisites.which("unshare").isEmpty()) {
            return false;
        }
        if (image.profile().foreign()) {
            // the training run is a chroot of the userland on this host: an arm64 JVM there would run
            // under qemu-user, with other CPU features than the guest's (not tried yet, docs/arm64.md)
            return false;
        }
        try {
            List<String> keyParts = new ArrayList<>(flags);
            keyParts.add(image.userland().toString());
            for (String jar : jars) {
                Path p = stage.resolve("lib").resolve(Path.of(jar).getFileName());
                keyParts.add(jar + ":" + Files.size(p) + ":" + Files.getLastModifiedTime(p).toMillis());
            }
            String key = Scripts.hash(List.of(), keyParts.toArray(String[]::new));
            Path entry = cache.ensure("aot", key, "guest JVM AOT cache", dir -> train(image, stage, jars, flags, dir));
            try {
                // a link, not a copy: 21 MB written into the stage were still being written back to
                // the host's disk while the guest booted and read the module over 9p
                Files.createLink(stage.resolve(FILE), entry.resolve(FILE));
            } catch (IOException | UnsupportedOperationException e) {
                Files.copy(entry.resolve(FILE), stage.resolve(FILE));
            }
            return true;
        } catch (SetupException | IOException e) {
            Progress.say("guest JVM AOT cache not made (%s); the guest JVM starts without it",
                    e.getMessage().lines().findFirst().orElse(""));
            return false;
        }
    }

    private static void train(GuestImage image, Path stage, List<String> jars, List<String> flags, Path out) {
        long t0 = System.nanoTime();
        String java = GuestJvm.JAVA + " " + String.join(" ", flags) + " -XX:AOTCacheOutput=/hmm/out/" + FILE
                + " -cp " + String.join(":", jars) + " " + GuestAgent.class.getName() + " --train";
        Exec.run(out.resolve("train.log"), 600, List.of("unshare", "-m", "--propagation", "private", "sh", "-c",
                "set -e; u=$1; mount -t proc proc \"$u/proc\"; mount --bind \"$2\" \"$u/hmm/host\";"
                        + " mount --bind \"$3\" \"$u/hmm/out\"; mount -t tmpfs tmpfs \"$u/tmp\"; exec chroot \"$u\" " + java,
                "sh", image.userland().toString(), stage.toString(), out.toString()));
        if (!Files.isRegularFile(out.resolve(FILE))) {
            throw new SetupException("the training JVM wrote no " + FILE + "; see " + out.resolve("train.log"));
        }
        Progress.say("guest JVM AOT cache recorded in %s", Progress.since(t0));
    }
}
