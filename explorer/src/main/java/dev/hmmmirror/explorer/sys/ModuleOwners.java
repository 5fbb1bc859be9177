package dev.hmmmirror.explorer.sys;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * Reloads hmm_mirror.ko with another choice of device-memory owner ({@code shared_owner}), every other
 * parameter as the module has it now (read back from sysfs): how a campaign gets a second owner, i.e.
 * devices that must not see each other's device-private pages as their own. Needs the module file the
 * harness staged ({@link #MODULE}) and no mirror open anywhere (rmmod refuses otherwise; nothing is
 * changed then).
 */
public final class ModuleOwners {
    /** The module file the host staged into the guest. */
    public static final Path MODULE = Path.of("/hmm/host/hmm_mirror.ko");

    private static final Path PARAMETERS = Path.of("/sys/module/hmm_mirror/parameters");

    private ModuleOwners() {}

    /** Why the module cannot be reloaded here, or empty when it can. */
    public static Optional<String> whyNot() {
        if (!Files.isRegularFile(MODULE)) {
            return Optional.of("no module file at " + MODULE + " to reload it from");
        }
        if (!Files.isDirectory(PARAMETERS)) {
            return Optional.of("no " + PARAMETERS + " (hmm_mirror not loaded as a module)");
        }
        return Optional.empty();
    }

    /** The parameters the module has now, {@code shared_owner} set to {@code shared}: what insmod gets. */
    public static List<String> parameters(boolean shared) throws IOException {
        TreeMap<String, String> values = new TreeMap<>();
        try (DirectoryStream<Path> dir = Files.newDirectoryStream(PARAMETERS)) {
            for (Path p : dir) {
                values.put(p.getFileName().toString(), Files.readString(p).strip());
            }
        }
        values.put("shared_owner", shared ? "Y" : "N");
        List<String> out = new ArrayList<>();
        values.forEach((k, v) -> out.add(k + "=" + v));
        return out;
    }

    /**
     * rmmod, then insmod with {@code params}.
     *
     * @return empty when the module is back with them; else why not (the module is then loaded as before
     *         when rmmod refused, or with {@code fallback} when insmod failed and that one loads)
     */
    public static Optional<String> reload(List<String> params, List<String> fallback) throws IOException,
            InterruptedException {
        String rmmod = run(List.of("rmmod", "hmm_mirror"));
        if (rmmod != null) {
            return Optional.of(rmmod);
        }
        List<String> insmod = new ArrayList<>(List.of("insmod", MODULE.toString()));
        insmod.addAll(params);
        String failed = run(insmod);
        if (failed == null) {
            return Optional.empty();
        }
        List<String> back = new ArrayList<>(List.of("insmod", MODULE.toString()));
        back.addAll(fallback);
        String again = run(back);
        return Optional.of(failed + (again == null ? "" : "; and loading it as before failed too: " + again));
    }

    /** Runs {@code command}: null when it exited 0, else what it said. */
    private static String run(List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return String.join(" ", command) + " did not finish in 60 s";
        }
        return p.exitValue() == 0 ? null : String.join(" ", command) + " exited " + p.exitValue() + ": " + out;
    }
}
