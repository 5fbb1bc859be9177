package dev.hmmmirror.vm.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hmmmirror.vm.host.Prerequisites;
import dev.hmmmirror.vm.host.SetupException;
import org.junit.jupiter.api.Test;

class KernelProfileTest {
    @Test
    void stockProfilesAndDefault() {
        assertEquals("sid", KernelProfile.named("debian-sid").suite());
        assertEquals("trixie", KernelProfile.named("debian-trixie").suite());
        assertEquals("bookworm", KernelProfile.named("debian-bookworm").suite());
        assertEquals("debian-sid", KernelProfile.named("").name());
    }

    @Test
    void theArm64ProfileIsNamedButInNoDefaultMatrix() {
        KernelProfile a = KernelProfile.named("debian-sid-arm64");
        assertEquals(KernelProfile.Kind.STOCK, a.kind());
        assertEquals("sid", a.suite());
        assertEquals(KernelProfile.ARM64, a.arch());
        assertTrue(a.foreign());
        assertTrue(KernelProfile.stock().stream().noneMatch(KernelProfile::foreign),
                "hmm suite / matrix --all / images --all / bench boot stock(): no arm64 guest there");
        assertTrue(KernelProfile.builtProfiles().stream().noneMatch(KernelProfile::foreign));
        assertEquals(KernelProfile.AMD64, KernelProfile.named("debian-sid").arch());
    }

    @Test
    void theArm64SixteenKProfileIsTheSixteenKFlavourOfTheSameArchitecture() {
        KernelProfile k = KernelProfile.named("debian-sid-arm64-16k");
        assertEquals(KernelProfile.Kind.STOCK, k.kind());
        assertEquals(KernelProfile.ARM64, k.arch(), "same userland and QEMU as debian-sid-arm64");
        assertEquals("arm64-16k", k.flavour(), "its kernel is linux-image-arm64-16k");
        assertEquals("arm64", KernelProfile.named("debian-sid-arm64").flavour());
        assertEquals("amd64", KernelProfile.named("debian-sid").flavour());
        assertEquals("aarch64", k.gnuCpu(), "guest programs are cross-compiled with aarch64-linux-gnu-gcc");
        assertEquals("x86_64", KernelProfile.named("debian-sid").gnuCpu());
        assertTrue(KernelProfile.stock().stream().noneMatch(p -> p.name().equals(k.name())), "in no default matrix");
    }

    @Test
    void builtProfilesNameTheirSourceAndSuite() {
        KernelProfile p = KernelProfile.named("built-6.1");
        assertEquals(KernelProfile.Kind.BUILT, p.kind());
        assertEquals("6.1", p.source());
        assertEquals("bookworm", p.suite());
        assertTrue(!p.debug());
        KernelProfile d = KernelProfile.named("built-7.2-debug");
        assertEquals("sid", d.suite());
        assertTrue(d.debug());
        assertEquals("trixie", KernelProfile.named("built-6.12").suite());
    }

    @Test
    void aTreeProfileIsNamedByItsPath(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) {
        KernelProfile p = KernelProfile.named("tree:" + dir);
        assertEquals(KernelProfile.Kind.TREE, p.kind());
        assertEquals(dir.toAbsolutePath().normalize(), p.tree());
        assertEquals("tree-" + dir.getFileName(), p.dirName());
        assertEquals(p, KernelProfile.named(p.name()), "the name round-trips through -Dhmm.kernel");
        SetupException e = assertThrows(SetupException.class, () -> KernelProfile.tree(dir.resolve("missing")));
        assertTrue(e.getMessage().contains("no such directory"), e.getMessage());
    }

    @Test
    void unknownProfileNamesTheKnownOnes() {
        SetupException e = assertThrows(SetupException.class, () -> KernelProfile.named("debian-potato"));
        assertTrue(e.getMessage().contains("debian-potato") && e.getMessage().contains("debian-trixie")
                && e.getMessage().contains("built-7.2-debug") && e.getMessage().contains("tree:"), e.getMessage());
    }

    @Test
    void missingProgramSaysWhichPackageToInstall() {
        SetupException e = assertThrows(SetupException.class,
                () -> Prerequisites.require("no-such-program-hmm", "some-package"));
        assertTrue(e.getMessage().contains("apt-get install some-package"), e.getMessage());
    }

    @Test
    void tooLittleDiskSpaceIsOneActionableLine(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) {
        SetupException e = assertThrows(SetupException.class,
                () -> Prerequisites.requireFreeSpace(dir, Long.MAX_VALUE, "the guest userland"));
        assertTrue(e.getMessage().contains("not enough disk space") && e.getMessage().contains("HMM_MIRROR_CACHE"),
                e.getMessage());
        assertEquals(1, e.getMessage().lines().count());
    }
}
