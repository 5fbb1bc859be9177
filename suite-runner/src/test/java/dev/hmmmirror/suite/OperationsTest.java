package dev.hmmmirror.suite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hmmmirror.vm.config.Setting;
import dev.hmmmirror.vm.config.Settings;
import dev.hmmmirror.vm.image.KernelProfile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The suite's exit code and report for what a kernel developer gets wrong first (hmm suite --kernel-tree). */
class OperationsTest {
    @Test
    void aTreeLackingOptionsGivesExit125AndAReportNamingTheOption(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve(".config"), "CONFIG_MODULES=y\n");
        Settings settings = Settings.fromEnvironment().with(Setting.REPORT_DIR, dir.resolve("reports").toString())
                .with(Setting.RUN_DIR, dir.resolve("runs").toString());
        assertEquals(125, Operations.suite(settings, List.of(KernelProfile.tree(dir))));
        assertTrue(Files.readString(dir.resolve("reports/summary.json")).contains("CONFIG_HMM_MIRROR=y (now: not set)"));
    }
}
