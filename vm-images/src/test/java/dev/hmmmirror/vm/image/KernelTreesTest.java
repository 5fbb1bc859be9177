package dev.hmmmirror.vm.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hmmmirror.vm.host.SetupException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** --kernel-tree: a tree that cannot boot the suite is refused up front, naming every missing option. */
class KernelTreesTest {
    private static Path tree(Path dir, List<String> lines) throws Exception {
        Files.writeString(dir.resolve(".config"), String.join("\n", lines) + "\n");
        return dir;
    }

    private static List<String> complete() {
        List<String> lines = new ArrayList<>();
        KernelTrees.REQUIRED.forEach((k, v) -> lines.add(k + "=" + v.getLast()));
        return lines;
    }

    @Test
    void aTreeWithoutHmmMirrorNamesTheOptionsAndTheFragment(@TempDir Path dir) throws Exception {
        List<String> lines = complete();
        lines.removeIf(l -> l.startsWith("CONFIG_HMM_MIRROR=") || l.startsWith("CONFIG_9P_FS="));
        lines.add("# CONFIG_HMM_MIRROR is not set");
        tree(dir, lines);
        SetupException e = assertThrows(SetupException.class, () -> KernelTrees.check(dir));
        assertTrue(e.getMessage().contains("CONFIG_HMM_MIRROR=y (now: not set)"), e.getMessage());
        assertTrue(e.getMessage().contains("CONFIG_9P_FS=y or m (now: not set)"), e.getMessage());
        assertTrue(e.getMessage().contains("kconfig/hmm.config"), e.getMessage());
        assertEquals(2, KernelTrees.missingOptions(KernelTrees.readConfig(dir)).size());
    }

    @Test
    void aModuleWhereBuiltInIsNeededIsNamedWithItsValue(@TempDir Path dir) throws Exception {
        List<String> lines = complete();
        lines.replaceAll(l -> l.startsWith("CONFIG_HMM_MIRROR=") ? "CONFIG_HMM_MIRROR=m" : l);
        tree(dir, lines);
        assertEquals(List.of("CONFIG_HMM_MIRROR=y (now: m)"), KernelTrees.missingOptions(KernelTrees.readConfig(dir)));
    }

    @Test
    void aCompleteConfigPasses(@TempDir Path dir) throws Exception {
        tree(dir, complete());
        assertEquals(KernelTrees.REQUIRED.size(), KernelTrees.check(dir).size());
    }

    @Test
    void anUnconfiguredTreeSaysToBuildItFirst(@TempDir Path dir) {
        SetupException e = assertThrows(SetupException.class, () -> KernelTrees.check(dir));
        assertTrue(e.getMessage().contains("no .config in " + dir), e.getMessage());
    }
}
