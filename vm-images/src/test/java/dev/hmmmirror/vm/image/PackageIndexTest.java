package dev.hmmmirror.vm.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hmmmirror.vm.host.SetupException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PackageIndexTest {
    @Test
    void anUnreachableMirrorIsOneActionableMessage(@TempDir Path dir) {
        PackageIndex index = new PackageIndex(new ImageCache(dir), "file:///nonexistent/debian");
        SetupException e = assertThrows(SetupException.class, () -> index.resolve("sid", List.of("kmod")));
        String first = e.getMessage().lines().findFirst().orElse("");
        assertTrue(first.contains("is the mirror reachable") && first.contains("HMM_DEBIAN_MIRROR"), first);
    }

    @Test
    void theKernelReleaseOfAFlavoursMetapackage() {
        String sixteen = "linux-base-arm64-16k (= 7.2.13-1), linux-image-7.2.13+deb14-arm64-16k (= 7.2.13-1)";
        assertEquals(java.util.Optional.of("7.2.13+deb14-arm64-16k"), PackageIndex.kernelRelease(sixteen, "arm64-16k"));
        assertEquals(java.util.Optional.empty(), PackageIndex.kernelRelease(sixteen, "arm64"),
                "the arm64 flavour is not the prefix of arm64-16k");
        assertEquals(java.util.Optional.of("7.2.13+deb14-amd64"),
                PackageIndex.kernelRelease("linux-image-7.2.13+deb14-amd64 (= 7.2.13-1)", "amd64"));
    }

    @Test
    void fieldsOfAnAptStanza() {
        String stanza = "Package: linux-image-amd64\nVersion: 7.2.13-1\nDepends: linux-image-7.2.13+deb14-amd64 (= 7.2.13-1)\n";
        assertEquals("7.2.13-1", PackageIndex.field(stanza, "Version"));
        assertEquals("", PackageIndex.field(stanza, "Recommends"));
    }
}
