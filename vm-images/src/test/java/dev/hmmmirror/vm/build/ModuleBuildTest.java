package dev.hmmmirror.vm.build;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hmmmirror.vm.image.GuestImage;
import dev.hmmmirror.vm.image.KernelProfile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Module builds of kernel trees are named per tree: mutants of built-7.2 share its release, not its entries. */
class ModuleBuildTest {
    private static GuestImage image(KernelProfile p, String krel) {
        return new GuestImage(p, krel, Path.of("/u"), null, Map.of(), "/k", Path.of("/v"), Path.of("/i"), Path.of("/m"),
                Path.of("/c"), Optional.empty(), "", "id", List.of());
    }

    @Test
    void aTreesEntryNameCarriesTheTreeAndTheStockOneDoesNot(@TempDir Path tmp) throws Exception {
        String krel = "7.2.13+deb14-amd64";
        KernelProfile a = KernelProfile.tree(Files.createDirectories(tmp.resolve("slot0")));
        KernelProfile b = KernelProfile.tree(Files.createDirectories(tmp.resolve("slot1")));
        assertEquals(krel, ModuleBuild.entrySuffix(image(KernelProfile.named("built-7.2"), krel)));
        String sa = ModuleBuild.entrySuffix(image(a, krel));
        assertTrue(sa.startsWith(krel + "-t"), sa);
        assertNotEquals(sa, ModuleBuild.entrySuffix(image(b, krel)));
    }
}
