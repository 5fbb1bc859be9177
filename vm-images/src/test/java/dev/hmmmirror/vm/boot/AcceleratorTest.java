package dev.hmmmirror.vm.boot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hmmmirror.vm.host.SetupException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The accelerator choice: a {@code /dev/kvm} that opens is not a KVM that runs our guests
 * (kvm_pvm). Before the probe, the harness took any read-writable {@code /dev/kvm} and every guest
 * test timed out on such a host.
 */
class AcceleratorTest {
    @TempDir
    Path dir;

    private Path devKvm() throws IOException {
        return Files.writeString(dir.resolve("kvm"), "");
    }

    private Path sysModule(String... modules) throws IOException {
        Path m = dir.resolve("sys-module");
        for (String name : modules) {
            Files.createDirectories(m.resolve(name));
        }
        Files.createDirectories(m);
        return m;
    }

    @Test
    void openableKvmThatCannotRunTheKernelFallsBackToTcgSayingWhy() throws IOException {
        Accelerator.Choice c = Accelerator.choose("auto", devKvm(), sysModule("kvm", "kvm_pvm"), dir.resolve("v"),
                "boot-1", () -> new Accelerator.Verdict(false, "QEMU: KVM internal error. Suberror: 1"));
        assertEquals(Accelerator.Kind.TCG, c.kind());
        assertTrue(c.reason().contains("KVM internal error") && c.reason().contains("kvm_pvm"), c.reason());
    }

    @Test
    void kvmThatBootsTheKernelIsUsed() throws IOException {
        Accelerator.Choice c = Accelerator.choose(null, devKvm(), sysModule("kvm", "kvm_intel"), dir.resolve("v"),
                "boot-1", () -> new Accelerator.Verdict(true, "reached /init in 0.9 s"));
        assertEquals(Accelerator.Kind.KVM, c.kind());
    }

    @Test
    void verdictIsKeptUntilTheHostReboots() throws IOException {
        AtomicInteger probes = new AtomicInteger();
        Accelerator.Probe probe = () -> {
            probes.incrementAndGet();
            return new Accelerator.Verdict(false, "the kernel printed nothing under KVM in 20 s");
        };
        Path kvm = devKvm();
        Path mods = sysModule("kvm", "kvm_pvm");
        Accelerator.choose("auto", kvm, mods, dir.resolve("v"), "boot-1", probe);
        Accelerator.Choice again = Accelerator.choose("auto", kvm, mods, dir.resolve("v"), "boot-1", probe);
        assertEquals(1, probes.get(), "the second choice must reuse the verdict of this host boot");
        assertEquals(Accelerator.Kind.TCG, again.kind());
        assertTrue(again.reason().contains("printed nothing"), again.reason());
        Accelerator.choose("auto", kvm, mods, dir.resolve("v"), "boot-2", probe);
        assertEquals(2, probes.get(), "a new host boot probes again");
    }

    @Test
    void hardKvmRequestFailsWithTheFixInsteadOfFallingBack() throws IOException {
        Path kvm = devKvm();
        Path mods = sysModule("kvm", "kvm_pvm");
        SetupException e = assertThrows(SetupException.class, () -> Accelerator.choose("kvm", kvm, mods,
                dir.resolve("v"), "b", () -> new Accelerator.Verdict(false, "QEMU: KVM internal error")));
        assertTrue(e.getMessage().contains("hmm.accel=tcg") && e.getMessage().contains("kvm_pvm"), e.getMessage());
        SetupException missing = assertThrows(SetupException.class, () -> Accelerator.choose("kvm",
                dir.resolve("absent"), mods, null, "", () -> new Accelerator.Verdict(true, "")));
        assertTrue(missing.getMessage().contains("no " + dir.resolve("absent")), missing.getMessage());
    }

    @Test
    void tcgRequestAndMissingDeviceNeverProbe() throws IOException {
        Accelerator.Probe fails = () -> {
            throw new AssertionError("probed");
        };
        assertEquals(Accelerator.Kind.TCG, Accelerator.choose("TCG", devKvm(), sysModule(), null, "", fails).kind());
        Accelerator.Choice none = Accelerator.choose("auto", dir.resolve("absent"), sysModule(), null, "", fails);
        assertEquals(Accelerator.Kind.TCG, none.kind());
        assertThrows(SetupException.class, () -> Accelerator.choose("hvf", devKvm(), sysModule(), null, "", fails));
    }
}
