package dev.hmmmirror.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Reloads hmm_mirror.ko in the guest with other parameters (rmmod, then insmod of the staged file). */
public final class ModuleReload {
    /** The module file the host staged. */
    public static final Path MODULE = Path.of("/hmm/host/hmm_mirror.ko");
    /** The parameters the guest loaded it with. */
    public static final Path PARAMS = Path.of("/hmm/host/module-params");

    private ModuleReload() {}

    /** Whether the module file is in this guest (it is not where the module came from elsewhere). */
    public static boolean possible() {
        return Files.isRegularFile(MODULE);
    }

    /** The parameters the module was loaded with, without those named {@code name}. */
    public static List<String> paramsWithout(String name) throws IOException {
        List<String> params = new ArrayList<>(Files.isRegularFile(PARAMS)
                ? Arrays.asList(Files.readString(PARAMS).strip().split("\\s+")) : List.of("ndevices=2"));
        params.removeIf(p -> p.isEmpty() || p.startsWith(name + "="));
        return params;
    }

    /** rmmod, then insmod with {@code params}; fails the test when either fails or hangs. */
    public static void reload(List<String> params) throws IOException, InterruptedException {
        run(List.of("rmmod", "hmm_mirror"));
        List<String> insmod = new ArrayList<>(List.of("insmod", MODULE.toString()));
        insmod.addAll(params);
        run(insmod);
    }

    /** Reloads the module as loaded but with {@code plant_bug=bug} (a test aid; 0: none planted). */
    public static void plantBug(int bug) throws IOException, InterruptedException {
        List<String> params = paramsWithout("plant_bug");
        if (bug != 0) {
            params.add("plant_bug=" + bug);
        }
        reload(params);
    }

    private static void run(List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), command + " hangs");
        assertEquals(0, p.exitValue(), command + ": " + out);
    }
}
