package dev.hmmmirror.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hmmmirror.vm.config.Setting;
import dev.hmmmirror.vm.config.Settings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line's exit codes for what a kernel developer gets wrong first. */
class HmmVmTest {
    @Test
    void aTreeLackingOptionsOrMissingGivesExit125NamingTheOption(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve(".config"), String.join("\n", List.of("CONFIG_MODULES=y")) + "\n");
        Settings settings = Settings.fromEnvironment().with(Setting.REPORT_DIR, dir.resolve("reports").toString())
                .with(Setting.RUN_DIR, dir.resolve("runs").toString());
        assertEquals(125, HmmVm.run(new String[] {"suite", "--kernel-tree", dir.toString()}, settings));
        assertTrue(Files.readString(dir.resolve("reports/summary.json")).contains("CONFIG_HMM_MIRROR=y (now: not set)"));
        assertEquals(125, HmmVm.run(new String[] {"suite", "--kernel-tree", dir.resolve("nope").toString()}, settings));
    }

    @Test
    void anUnknownOptionOrKernelIsExit125() {
        assertEquals(125, HmmVm.run(new String[] {"run", "--frobnicate"}, Settings.fromEnvironment()));
        assertEquals(125, HmmVm.run(new String[] {"images", "--kernel", "debian-potato"}, Settings.fromEnvironment()));
    }
}
