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

    @Test
    void testNamesSelectClassesOrMethodsRelativeToTheSuitePackage() {
        assertEquals(List.of(org.junit.platform.engine.discovery.DiscoverySelectors.selectPackage("dev.hmmmirror")),
                Operations.selectors("dev.hmmmirror", List.of()), "no --test: the whole package");
        assertEquals(List.of(org.junit.platform.engine.discovery.DiscoverySelectors.selectClass(
                        "dev.hmmmirror.suite.SamplePassingGuestCase"),
                org.junit.platform.engine.discovery.DiscoverySelectors.selectMethod(
                        "dev.hmmmirror.suite.SamplePassingGuestCase#opensTheDevice")),
                Operations.selectors("dev.hmmmirror", List.of("suite.SamplePassingGuestCase",
                        "dev.hmmmirror.suite.SamplePassingGuestCase#opensTheDevice")));
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> Operations.selectors("dev.hmmmirror", List.of("DeviceOpenIT")));
        assertTrue(e.getMessage().contains("no test class dev.hmmmirror.DeviceOpenIT"), e.getMessage());
    }
}
