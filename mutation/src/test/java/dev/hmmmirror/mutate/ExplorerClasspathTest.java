package dev.hmmmirror.mutate;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.URL;
import java.net.URLClassLoader;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The jars the explorer detector stages into the guest are all the explorer needs to read its command line:
 * without picocli's the explorer died at once on every kernel, the baseline "failed", and the campaign would
 * have subtracted every explorer kill.
 */
class ExplorerClasspathTest {
    @Test
    void theStagedJarsAloneParseTheExplorersCommandLine() throws Exception {
        List<URL> urls = new ArrayList<>();
        for (Class<?> c : Detectors.STAGED) {
            urls.add(c.getProtectionDomain().getCodeSource().getLocation());
        }
        DetectorConfig config = new DetectorConfig(List.of(), 20261206L, 120, 100, 30, false);
        try (URLClassLoader guest = new URLClassLoader(urls.toArray(URL[]::new), ClassLoader.getPlatformClassLoader())) {
            Class<?> explorer = guest.loadClass("dev.hmmmirror.explorer.Explorer");
            Class<?> options = guest.loadClass("dev.hmmmirror.explorer.options.CampaignOptions");
            assertEquals(guest, explorer.getClassLoader(), "the explorer comes from the staged jars");
            Object parsed = options.getMethod("parse", String[].class).invoke(null,
                    (Object) config.explorerArgs("/hmm/out/explorer").toArray(String[]::new));
            assertEquals(100L, options.getMethod("programs").invoke(parsed));
        }
    }
}
