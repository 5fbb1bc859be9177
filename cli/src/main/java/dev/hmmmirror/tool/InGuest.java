package dev.hmmmirror.tool;

import dev.hmmmirror.agent.protocol.GuestResult;
import dev.hmmmirror.agent.protocol.Protocol;
import dev.hmmmirror.vm.boot.GuestFailure;
import dev.hmmmirror.vm.boot.KernelSplat;
import dev.hmmmirror.vm.config.Setting;
import dev.hmmmirror.vm.config.Settings;
import dev.hmmmirror.vm.host.SetupException;
import dev.hmmmirror.vm.image.KernelProfile;
import dev.hmmmirror.vm.session.GuestClasspath;
import dev.hmmmirror.vm.session.GuestSession;
import dev.hmmmirror.vm.session.SessionHook;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.apache.commons.io.file.PathUtils;

/**
 * One shell command in a freshly booted guest (module loaded), with a host directory mounted
 * read-write at its own path and the command's output streamed: what {@code hmm run} and
 * {@code hmm shell} share. The exit code is the command's, 2 on a kernel splat or a guest that
 * died, 125 when the guest could not be built or booted.
 */
final class InGuest {
    private InGuest() {}

    /**
     * Boots {@code profile}, then runs the shell line {@code command.apply(session)} in {@code dir}
     * (the session lets the command stage files first).
     */
    static int run(Settings base, KernelProfile profile, Path dir, Function<GuestSession, String> command,
            InputStream input, Duration timeout) {
        return run(base, profile, dir, command, input, timeout, List.of());
    }

    /** As {@link #run(Settings, KernelProfile, Path, Function, InputStream, Duration)}, with session hooks. */
    static int run(Settings base, KernelProfile profile, Path dir, Function<GuestSession, String> command,
            InputStream input, Duration timeout, List<SessionHook<?>> hooks) {
        // the work directory is a 9p share of QEMU on this host: the container runner does not bind it
        Settings settings = base.with(Setting.RUNNER, "local");
        // never target/ in the user's directory: a run folder of this call, kept only when it went wrong
        boolean ownRunDir = base.raw(Setting.RUN_DIR).isEmpty();
        if (ownRunDir) {
            settings = settings.with(Setting.RUN_DIR, Path.of(System.getProperty("java.io.tmpdir"),
                    "hmm-run-" + System.getProperty("user.name"), String.valueOf(ProcessHandle.current().pid()))
                    .toString());
        }
        int rc = boot(settings, profile, dir, command, input, timeout, hooks);
        if (ownRunDir && rc == 0) {
            try {
                PathUtils.deleteDirectory(settings.runDir());
            } catch (IOException | UncheckedIOException e) {
                // a leftover folder in the temporary directory: harmless
            }
        } else if (ownRunDir) {
            System.err.println("hmm: console log and guest files kept in " + settings.runDir());
        }
        return rc;
    }

    private static int boot(Settings settings, KernelProfile profile, Path dir, Function<GuestSession, String> command,
            InputStream input, Duration timeout, List<SessionHook<?>> hooks) {
        GuestSession session;
        try {
            session = GuestSession.start(new GuestSession.Spec(settings, profile, GuestClasspath.current(), Map.of(),
                    hooks, dir));
        } catch (SetupException | GuestFailure | UncheckedIOException | IllegalArgumentException e) {
            System.err.println("hmm: could not boot " + profile.name() + ": " + e.getMessage());
            return Hmm.CANNOT_RUN;
        }
        try (session) {
            List<KernelSplat> splats = new ArrayList<>(session.newSplats());
            GuestResult r = null;
            if (splats.isEmpty()) {
                String line = "cd '" + dir.toString().replace("'", "'\\''") + "' && " + command.apply(session);
                r = session.stream(line, bytes -> {
                    System.out.write(bytes, 0, bytes.length);
                    System.out.flush();
                }, input, timeout);
            }
            GuestSession.End end = session.finish(true);
            splats.addAll(session.newSplats());
            splats.addAll(end.lateSplats());
            if (!splats.isEmpty()) {
                KernelSplat first = splats.getFirst();
                System.err.println("hmm: kernel " + first.kind() + " in the guest: " + first.headline() + "\n"
                        + first.report() + "\nconsole log: " + session.consoleLog() + " line " + first.lineNumber());
                return Hmm.SPLAT;
            }
            int rc = Protocol.exitCode(r.message());
            if (rc < 0) {
                System.err.println("hmm: the command did not run: " + r.message() + "\n" + r.trace());
                return 1;
            }
            return rc;
        } catch (GuestFailure e) {
            System.err.println("hmm: the guest failed: " + e.getMessage() + "\nconsole log: " + e.consoleLog());
            return Hmm.SPLAT;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Hmm.CANNOT_RUN;
        } catch (UncheckedIOException e) {
            System.err.println("hmm: " + e.getMessage());
            return Hmm.CANNOT_RUN;
        }
    }

    /** {@code words} as one shell line, each word quoted. */
    static String quote(List<String> words) {
        return GuestSession.shellQuote(words);
    }
}
