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

    /** Every file under {@code dir} with its size, time and content hash. */
    private static java.util.Map<String, String> checksums(Path dir) throws Exception {
        java.util.Map<String, String> out = new java.util.TreeMap<>();
        try (var s = Files.walk(dir)) {
            for (Path f : s.toList()) {
                var md = java.security.MessageDigest.getInstance("SHA-256");
                String h = Files.isRegularFile(f) ? java.util.HexFormat.of().formatHex(md.digest(Files.readAllBytes(f))) : "dir";
                out.put(dir.relativize(f).toString(), h + " " + Files.getLastModifiedTime(f).toMillis());
            }
        }
        return out;
    }

    @Test
    void installingATreesModulesWritesNothingIntoTheTree(@TempDir Path tmp) throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(dev.hmmmirror.vm.host.Prerequisites.which("depmod").isPresent(),
                "needs depmod (kmod) on this host");
        Path tree = Files.createDirectories(tmp.resolve("linux"));
        Files.createDirectories(tree.resolve("drivers/hmm"));
        Files.writeString(tree.resolve("drivers/hmm/test_hmm.ko"), "not really ELF");
        Files.writeString(tree.resolve("modules.order"), "drivers/hmm/test_hmm.o\n");
        Files.writeString(tree.resolve("modules.builtin"), "kernel/fs/9p/9p.ko\n");
        tree(tree, complete());
        var before = checksums(tree);
        Path modroot = tmp.resolve("modroot");
        KernelTrees.installModules(tree, "7.2.0-test", modroot, tmp.resolve("scripts"), tmp.resolve("build.log"));
        assertEquals(before, checksums(tree), "the tree changed");
        Path mods = modroot.resolve("lib/modules/7.2.0-test");
        assertEquals("kernel/drivers/hmm/test_hmm.ko\n", Files.readString(mods.resolve("modules.order")));
        assertTrue(Files.isRegularFile(mods.resolve("kernel/drivers/hmm/test_hmm.ko")));
        assertTrue(Files.isRegularFile(mods.resolve("modules.dep")), "depmod ran");
    }

    @Test
    void aModuleMissingFromTheTreeSaysToBuildTheModules(@TempDir Path tmp) throws Exception {
        Path tree = Files.createDirectories(tmp.resolve("linux"));
        Files.writeString(tree.resolve("modules.order"), "lib/test_hmm.o\n");
        SetupException e = assertThrows(SetupException.class, () -> KernelTrees.installModules(tree, "7.2.0-test",
                tmp.resolve("modroot"), tmp.resolve("scripts"), tmp.resolve("build.log")));
        assertTrue(e.getMessage().contains("build the modules (make modules)"), e.getMessage());
    }

    @Test
    void aTreeInsideItsToolchainRootIsSeenAtItsPathThere(@TempDir Path tmp) throws Exception {
        Path root = tmp.resolve("sid");
        Path tree = Files.createDirectories(root.resolve("home/dev/linux"));
        assertEquals("/home/dev/linux", KernelTrees.inside(tree, root));
        assertEquals(tree.toString(), KernelTrees.inside(tree, null));
        assertEquals(tree.toString(), KernelTrees.inside(tree, tmp.resolve("other")));
    }

    @Test
    void theToolchainRootIsFoundAboveATreeBuiltInAChroot(@TempDir Path tmp) throws Exception {
        Path root = tmp.resolve("sid");
        Path tree = Files.createDirectories(root.resolve("home/dev/linux"));
        assertEquals(null, KernelProfile.toolRootOf(tree), "not a root yet");
        Files.createDirectories(root.resolve("etc"));
        Files.writeString(root.resolve("etc/os-release"), "ID=debian\n");
        Files.createDirectories(root.resolve("usr/bin"));
        Path make = Files.writeString(root.resolve("usr/bin/make"), "#!/bin/sh\n");
        make.toFile().setExecutable(true);
        Files.createSymbolicLink(root.resolve("usr/bin/gcc"), Path.of("gcc-16"));
        assertEquals(root, KernelProfile.toolRootOf(tree));
        KernelProfile p = KernelProfile.named("tree:" + tree + KernelProfile.ROOT_SEPARATOR + root);
        assertEquals(root, p.toolRoot());
        assertEquals(tree, p.tree());
        assertEquals(root, KernelProfile.tree(tree).effectiveToolRoot());
    }

    @Test
    void differentTreesHaveDifferentCacheNames() {
        assertTrue(!KernelTrees.treeId(Path.of("/a/linux")).equals(KernelTrees.treeId(Path.of("/b/linux"))));
    }
}
