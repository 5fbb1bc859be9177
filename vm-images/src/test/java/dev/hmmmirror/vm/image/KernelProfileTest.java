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
    void theBuiltArm64ProfilesAreCrossBuiltFromTheSameSourceWithTheirPageSize() {
        KernelProfile k4 = KernelProfile.named("built-7.2-arm64");
        KernelProfile k64 = KernelProfile.named("built-7.2-arm64-64k");
        for (KernelProfile k : java.util.List.of(k4, k64)) {
            assertEquals(KernelProfile.Kind.BUILT, k.kind());
            assertEquals("7.2", k.source(), "the same linux-source-7.2 as built-7.2");
            assertEquals("sid", k.suite());
            assertEquals(KernelProfile.ARM64, k.arch());
            assertTrue(KernelProfile.builtProfiles().stream().noneMatch(p -> p.name().equals(k.name())),
                    "in no default matrix");
            assertTrue(KernelProfile.arm64().contains(k));
        }
        assertEquals("arm64-4k.config", BuiltKernels.pageFragment(k4));
        assertEquals("arm64-64k.config", BuiltKernels.pageFragment(k64));
        String f64 = new String(Scripts.resource("kconfig/arm64-64k.config"), java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(f64.lines().anyMatch("CONFIG_ARM64_64K_PAGES=y"::equals), f64);
        String f4 = new String(Scripts.resource("kconfig/arm64-4k.config"), java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(f4.lines().anyMatch("CONFIG_ARM64_4K_PAGES=y"::equals), f4);
    }

    @Test
    void theArm64FragmentTurnsOffEveryX86OnlyLineOfTheHmmFragment() {
        // build-kernel-cross.sh fails on a fragment line the final .config does not hold: each x86-only
        // option hmm.config sets must be overridden ("is not set") by arm64.config
        String hmm = new String(Scripts.resource("kconfig/hmm.config"), java.nio.charset.StandardCharsets.UTF_8);
        String arm = new String(Scripts.resource("kconfig/arm64.config"), java.nio.charset.StandardCharsets.UTF_8);
        for (String x86 : java.util.List.of("CONFIG_UNWINDER_ORC", "CONFIG_HYPERVISOR_GUEST", "CONFIG_PVH",
                "CONFIG_X86_64_ACPI_NUMA", "CONFIG_KERNEL_GZIP")) {
            assertTrue(hmm.lines().anyMatch((x86 + "=y")::equals), x86 + " in hmm.config");
            assertTrue(arm.lines().anyMatch(("# " + x86 + " is not set")::equals), x86 + " turned off in arm64.config");
        }
        assertTrue(arm.lines().anyMatch("CONFIG_SERIAL_AMBA_PL011_CONSOLE=y"::equals), "the -M virt console");
    }

    @Test
    void eachProfileSaysItsPageSizeAndTheKernelItIsABuildOf() {
        assertEquals(4, KernelProfile.named("debian-sid").pageSizeKiB());
        assertEquals(4, KernelProfile.named("debian-sid-arm64").pageSizeKiB());
        assertEquals(16, KernelProfile.named("debian-sid-arm64-16k").pageSizeKiB());
        assertEquals(4, KernelProfile.named("built-7.2-arm64").pageSizeKiB());
        assertEquals(64, KernelProfile.named("built-7.2-arm64-64k").pageSizeKiB());
        for (String n : java.util.List.of("debian-sid", "debian-sid-arm64", "debian-sid-arm64-16k")) {
            assertEquals("debian-sid", KernelProfile.named(n).kernelFamily(), n + ": the stock sid kernel");
        }
        for (String n : java.util.List.of("built-7.2", "built-7.2-arm64", "built-7.2-arm64-64k")) {
            assertEquals("built-7.2", KernelProfile.named(n).kernelFamily(), n + ": built from linux-source-7.2");
        }
        assertEquals("built-7.2-debug", KernelProfile.named("built-7.2-debug").kernelFamily(), "debug is another kernel");
        assertEquals("debian-trixie", KernelProfile.named("debian-trixie").kernelFamily());
        assertEquals("built-6.12", KernelProfile.named("built-6.12").kernelFamily());
        assertTrue(KernelProfile.known("built-7.2-arm64-64k").isPresent());
        assertTrue(KernelProfile.known("tree:/nowhere").isEmpty(), "a tree is not a known profile (nor looked at)");
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
