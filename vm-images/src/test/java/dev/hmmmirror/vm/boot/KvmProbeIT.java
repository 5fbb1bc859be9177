package dev.hmmmirror.vm.boot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.hmmmirror.vm.config.Settings;
import dev.hmmmirror.vm.host.Prerequisites;
import dev.hmmmirror.vm.host.Progress;
import dev.hmmmirror.vm.image.GuestImage;
import dev.hmmmirror.vm.image.GuestImages;
import dev.hmmmirror.vm.image.ImageCache;
import dev.hmmmirror.vm.image.KernelProfile;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The KVM probe against this host's real {@code /dev/kvm}: it boots the selected profile's kernel
 * under KVM for at most {@link Accelerator#PROBE_SECONDS} s. On a host whose KVM is kvm_pvm (a
 * paravirtual KVM that runs only kernels built for it) the probe must say unusable; on a host
 * with kvm_intel or kvm_amd it must say usable. Without the probe, the harness took such a
 * {@code /dev/kvm} and every guest test failed after the boot timeout.
 */
class KvmProbeIT {
    @Test
    void probeTellsWhetherThisHostsKvmRunsTheGuestKernel() {
        Path kvm = Path.of("/dev/kvm");
        assumeTrue(Files.isReadable(kvm) && Files.isWritable(kvm), "no read-writable /dev/kvm on this host: "
                + "nothing to probe");
        Path mods = Path.of("/sys/module");
        boolean hardware = Files.isDirectory(mods.resolve("kvm_intel")) || Files.isDirectory(mods.resolve("kvm_amd"));
        boolean pvm = Files.isDirectory(mods.resolve("kvm_pvm"));
        assumeTrue(hardware || pvm, "KVM is neither kvm_intel/kvm_amd nor kvm_pvm here: no expected verdict");
        Settings settings = Settings.fromEnvironment();
        GuestImage image = new GuestImages(ImageCache.of(settings), settings).ensure(
                KernelProfile.named(settings.kernel()));
        String qemu = Prerequisites.require("qemu-system-x86_64", "qemu-system-x86").toString();
        long t0 = System.nanoTime();
        Accelerator.Verdict v = Accelerator.probe(qemu, image.kernel(), image.initramfs(), image.kernelArgs());
        Progress.say("KVM probe of %s: %s, %s (%s)", image.kernelRelease(), v.usable() ? "usable" : "unusable",
                v.detail(), Progress.since(t0));
        assertEquals(hardware, v.usable(), "probe verdict on a host with " + (hardware ? "hardware KVM" : "kvm_pvm")
                + ": " + v.detail());
    }
}
