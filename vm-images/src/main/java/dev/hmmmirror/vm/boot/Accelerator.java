package dev.hmmmirror.vm.boot;

import dev.hmmmirror.agent.protocol.Markers;
import dev.hmmmirror.vm.config.Settings;
import dev.hmmmirror.vm.host.Prerequisites;
import dev.hmmmirror.vm.host.Progress;
import dev.hmmmirror.vm.host.SetupException;
import dev.hmmmirror.vm.image.GuestImage;
import dev.hmmmirror.vm.image.ImageCache;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Whether guests run under KVM or TCG. A {@code /dev/kvm} that opens is not enough: on some
 * machines it comes from {@code kvm_pvm}, a paravirtual KVM that runs only guest kernels built for
 * it (QEMU stops with "KVM internal error ... emulation failure", or prints nothing at all). So
 * {@code auto} uses KVM only after a short probe boot of the guest's own kernel under KVM reached
 * the initramfs; the verdict is cached until the host reboots. {@code kvm} is a hard request: an
 * unusable KVM is an error, not a fallback. {@code tcg} never touches KVM.
 */
public final class Accelerator {
    /** How long a probe boot may take to reach /init under KVM (a real KVM needs about a second). */
    static final long PROBE_SECONDS = 20;

    /** The two accelerators. */
    public enum Kind {
        KVM, TCG
    }

    /**
     * The accelerator chosen and why.
     *
     * @param kind   KVM or TCG
     * @param reason one line for the progress output, e.g. "kvm_pvm (paravirtual KVM) cannot run ..."
     */
    public record Choice(Kind kind, String reason) {
        public boolean kvm() {
            return kind == Kind.KVM;
        }

        /** For progress lines: {@code KVM} or {@code TCG (reason)}, the reason cut at its first detail. */
        public String describe() {
            int cut = reason.indexOf(" (");
            return kind == Kind.KVM ? "KVM" : "TCG (" + (cut > 0 ? reason.substring(0, cut) : reason) + ")";
        }
    }

    /**
     * What a probe found.
     *
     * @param usable whether the kernel reached /init under KVM
     * @param detail what was seen: the seconds to /init, QEMU's error, or the silence
     */
    public record Verdict(boolean usable, String detail) {
        String encode() {
            return (usable ? "usable " : "unusable ") + detail.replace('\n', ' ');
        }

        static Verdict decode(String line) {
            String s = line.strip();
            int sp = s.indexOf(' ');
            String head = sp < 0 ? s : s.substring(0, sp);
            return new Verdict(head.equals("usable"), sp < 0 ? "" : s.substring(sp + 1));
        }
    }

    /** Boots a kernel under KVM and says whether it reached /init. */
    @FunctionalInterface
    public interface Probe {
        Verdict run();
    }

    private Accelerator() {}

    /**
     * Chooses the accelerator.
     *
     * @param requested  {@code auto}, {@code kvm} or {@code tcg} (setting {@code hmm.accel} / {@code HMM_ACCEL})
     * @param devKvm     the KVM device ({@code /dev/kvm})
     * @param sysModule  the loaded-modules directory ({@code /sys/module})
     * @param verdicts   where probe verdicts are kept, one file per host boot (null: never kept)
     * @param bootId     this host boot's id ({@code /proc/sys/kernel/random/boot_id})
     * @param probe      the probe boot, run only when no kept verdict answers
     * @throws SetupException for an unknown value, or {@code kvm} requested where KVM cannot run the guest
     */
    public static Choice choose(String requested, Path devKvm, Path sysModule, Path verdicts, String bootId,
            Probe probe) {
        String req = requested == null || requested.isBlank() ? "auto" : requested.strip().toLowerCase(Locale.ROOT);
        if (req.equals("tcg")) {
            return new Choice(Kind.TCG, "requested with hmm.accel=tcg");
        }
        if (!req.equals("auto") && !req.equals("kvm")) {
            throw new SetupException("unknown accelerator '" + requested + "' (hmm.accel / HMM_ACCEL / --accel): "
                    + "use auto, kvm or tcg");
        }
        boolean hard = req.equals("kvm");
        if (!Files.exists(devKvm)) {
            return fallback(hard, "no " + devKvm + " on this host", "load kvm_intel or kvm_amd, or run on a host "
                    + "with hardware virtualisation");
        }
        if (!Files.isReadable(devKvm) || !Files.isWritable(devKvm)) {
            return fallback(hard, devKvm + " is not read-writable by this user", "add the user to group kvm, or "
                    + "run as root");
        }
        Path file = verdicts == null || bootId.isBlank() ? null : verdicts.resolve("kvm-" + bootId);
        Verdict v = read(file);
        String how = "kept since this host booted";
        if (v == null) {
            v = probe.run();
            how = "probed now";
            write(file, v);
        }
        if (v.usable()) {
            return new Choice(Kind.KVM, "probe: " + v.detail());
        }
        String why = devKvm + " cannot run the guest kernel (" + v.detail() + "; " + how + ")"
                + pvmHint(sysModule);
        return fallback(hard, why, "use -Dhmm.accel=tcg (HMM_ACCEL=tcg), or a host with a full KVM");
    }

    private static Choice fallback(boolean hard, String why, String fix) {
        if (hard) {
            throw new SetupException("KVM was requested (hmm.accel=kvm) but " + why + ": " + fix);
        }
        return new Choice(Kind.TCG, why);
    }

    /** Names kvm_pvm when it is the KVM of this host: the usual reason a KVM runs nothing of ours. */
    static String pvmHint(Path sysModule) {
        boolean pvm = Files.isDirectory(sysModule.resolve("kvm_pvm"));
        boolean hw = Files.isDirectory(sysModule.resolve("kvm_intel")) || Files.isDirectory(sysModule.resolve("kvm_amd"));
        return pvm && !hw ? "; this host's KVM is kvm_pvm, a paravirtual KVM that runs only kernels built for it" : "";
    }

    private static Verdict read(Path file) {
        try {
            return file != null && Files.isRegularFile(file) ? Verdict.decode(Files.readString(file)) : null;
        } catch (IOException e) {
            return null;
        }
    }

    private static void write(Path file, Verdict v) {
        if (file == null) {
            return;
        }
        try {
            Files.createDirectories(file.getParent());
            Path tmp = file.resolveSibling(file.getFileName() + "." + ProcessHandle.current().pid());
            Files.writeString(tmp, v.encode() + "\n");
            Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            Progress.say("could not keep the KVM probe's verdict in %s: %s", file, e.getMessage());
        }
    }

    private static final java.util.concurrent.ConcurrentHashMap<String, Choice> CHOSEN =
            new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * The accelerator for guests of {@code image} on this host, from {@code hmm.accel} / {@code HMM_ACCEL}
     * (default auto); a probe's verdict is kept in the cache until the host reboots. Says once per
     * JVM why TCG was chosen where a {@code /dev/kvm} exists.
     */
    public static Choice forGuest(Settings settings, GuestImage image, ImageCache cache) {
        String req = settings.accel();
        if (image.profile().foreign()) {
            Choice tcg = new Choice(Kind.TCG, image.profile().arch() + " guest on an x86-64 host (KVM runs only the "
                    + "host's architecture)");
            if (req != null && req.strip().equalsIgnoreCase("kvm")) {
                throw new SetupException("hmm.accel=kvm: " + tcg.reason() + "; use auto or tcg");
            }
            return tcg;
        }
        return CHOSEN.computeIfAbsent(req, r -> {
            Choice c = choose(r, Path.of("/dev/kvm"), Path.of("/sys/module"), cache.root().resolve("probes"),
                    bootId(), () -> {
                        var qemu = Prerequisites.which("qemu-system-x86_64");
                        if (qemu.isEmpty()) {
                            return new Verdict(false, "no qemu-system-x86_64 on this host to probe it with");
                        }
                        Progress.say("probing /dev/kvm: booting %s under KVM (at most %d s, once per host boot)",
                                image.kernelRelease(), PROBE_SECONDS);
                        return probe(qemu.get().toString(), image.kernel(), image.initramfs(), image.kernelArgs());
                    });
            if (c.kind() == Kind.TCG && Files.exists(Path.of("/dev/kvm"))) {
                Progress.say("using TCG, not KVM: %s", c.reason());
            }
            return c;
        });
    }

    /** Whether QEMU's output line says that KVM failed (to open, or to run the guest). */
    static boolean isKvmError(String line) {
        return line.contains("KVM internal error") || line.contains("failed to initialize kvm")
                || line.contains("Could not access KVM");
    }

    /** This host boot's id, or empty. */
    public static String bootId() {
        try {
            return Files.readString(Path.of("/proc/sys/kernel/random/boot_id")).strip();
        } catch (IOException e) {
            return "";
        }
    }

    /**
     * The probe: QEMU with {@code -accel kvm} boots {@code kernel} with {@code initramfs} in bare mode
     * (the initramfs prints {@code @@HMM INIT} and powers off at once). Usable when INIT shows within
     * {@link #PROBE_SECONDS}; unusable on "KVM internal error", an early QEMU exit or silence.
     */
    public static Verdict probe(String qemu, Path kernel, Path initramfs, String kernelArgs) {
        List<String> cmd = new ArrayList<>(List.of(qemu, "-machine", "pc", "-accel", "kvm", "-cpu", "host",
                "-m", "256M", "-smp", "1", "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
                "-kernel", kernel.toString(), "-initrd", initramfs.toString(),
                "-append", "console=ttyS0 panic=-1 loglevel=5 hmm.mode=bare"
                        + (kernelArgs.isBlank() ? "" : " " + kernelArgs),
                "-serial", "stdio"));
        long t0 = System.nanoTime();
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            p.getOutputStream().close();
        } catch (IOException e) {
            return new Verdict(false, "cannot start " + qemu + ": " + e.getMessage());
        }
        AtomicReference<String> seen = new AtomicReference<>();
        AtomicReference<String> last = new AtomicReference<>("");
        Thread reader = Thread.ofPlatform().daemon().name("hmm-kvm-probe").start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(),
                    StandardCharsets.ISO_8859_1))) {
                String line;
                while ((line = r.readLine()) != null) {
                    line = line.replace("\r", "").strip();
                    if (!line.isEmpty()) {
                        last.set(line);
                    }
                    if (line.contains(Markers.PREFIX + Markers.INIT)) {
                        seen.compareAndSet(null, "init");
                    } else if (isKvmError(line)) {
                        seen.compareAndSet(null, "error: " + line);
                    }
                }
            } catch (IOException e) {
                // QEMU went away
            }
        });
        try {
            long deadline = t0 + TimeUnit.SECONDS.toNanos(PROBE_SECONDS);
            while (seen.get() == null && p.isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            if (seen.get() == null && !p.isAlive()) {
                reader.join(1000);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        boolean exited = !p.isAlive();
        int rc = exited ? p.exitValue() : -1;
        p.destroyForcibly();
        double s = (System.nanoTime() - t0) / 1e9;
        String what = seen.get();
        if ("init".equals(what)) {
            return new Verdict(true, String.format(Locale.ROOT, "reached /init in %.1f s", s));
        }
        if (what != null) {
            return new Verdict(false, "QEMU: " + what.substring("error: ".length()));
        }
        if (exited) {
            return new Verdict(false, "QEMU exited with " + rc + " before /init" + (last.get().isEmpty() ? ""
                    : ": " + last.get()));
        }
        return new Verdict(false, String.format(Locale.ROOT, "the kernel printed nothing under KVM in %.0f s",
                s));
    }
}
