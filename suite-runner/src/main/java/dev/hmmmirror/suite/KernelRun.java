package dev.hmmmirror.suite;

import dev.hmmmirror.vm.result.TestOutcome;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * The suite's results on one kernel.
 *
 * @param profile       the kernel profile name
 * @param kernelRelease {@code uname -r} of the guest (empty when it did not boot)
 * @param outcomes      one per test, in execution order
 * @param reportDir     where the console log, dmesg and reports of this kernel are
 * @param kernelSelftests the kernel's own hmm selftests in the same guest (empty when not run);
 *                      reported next to ours, not part of {@link #exitCode()}
 * @param timing        when the run started and ended, and how long the guest took to boot
 * @param peerSuite     rdma-core's ODP tests against rxe in the same guest (empty when not run; one
 *                      skipped row saying why where the kernel lacks rxe ODP); reported next to
 *                      ours, not part of {@link #exitCode()}
 * @param platform      the guest's architecture and page size, and the kernel they are a build of
 */
public record KernelRun(String profile, String kernelRelease, List<TestOutcome> outcomes, Path reportDir,
        List<TestOutcome> kernelSelftests, Timing timing, List<TestOutcome> peerSuite, Platform platform) {
    /**
     * Where a kernel ran: what a matrix compares across architectures.
     *
     * @param arch        the guest's Debian architecture ({@code amd64}, {@code arm64}; {@code ?} unknown)
     * @param pageSizeKiB the guest kernel's base page size in KiB (0: unknown)
     * @param family      the same kernel on any architecture and page size
     *                    ({@link dev.hmmmirror.vm.image.KernelProfile#kernelFamily()}: {@code debian-sid},
     *                    {@code built-7.2})
     */
    public record Platform(String arch, int pageSizeKiB, String family) {
        /**
         * The platform of a known profile as the profile builds it (a tree's or an unknown name's: architecture
         * unknown, the name its own family).
         */
        public static Platform of(String profile) {
            return dev.hmmmirror.vm.image.KernelProfile.known(profile).map(Platform::of)
                    .orElse(new Platform("?", 0, profile));
        }

        /** The platform {@code profile} builds: its architecture, page size and kernel family. */
        public static Platform of(dev.hmmmirror.vm.image.KernelProfile profile) {
            return new Platform(profile.arch(), profile.pageSizeKiB(), profile.kernelFamily());
        }

        /** Architecture and page size, e.g. {@code arm64/64K}, the key a matrix compares by. */
        public String label() {
            return arch + "/" + (pageSizeKiB == 0 ? "?" : pageSizeKiB + "K");
        }

        /** For a reader: {@code x86-64, 4 KiB pages}, {@code arm64, 64 KiB pages}. */
        public String describe() {
            String a = switch (arch) {
                case "amd64" -> "x86-64";
                case "?" -> "architecture unknown";
                default -> arch;
            };
            return a + ", " + (pageSizeKiB == 0 ? "page size unknown" : pageSizeKiB + " KiB pages");
        }
    }

    /** A run on the platform its profile builds ({@link Platform#of(String)}). */
    public KernelRun(String profile, String kernelRelease, List<TestOutcome> outcomes, Path reportDir,
            List<TestOutcome> kernelSelftests, Timing timing, List<TestOutcome> peerSuite) {
        this(profile, kernelRelease, outcomes, reportDir, kernelSelftests, timing, peerSuite, Platform.of(profile));
    }
    /**
     * When a kernel's run happened.
     *
     * @param started    when the run began (image, module, boot, tests, selftests)
     * @param finished   when the guest was gone and its results in
     * @param init       QEMU start to the initramfs /init, seconds (negative: unknown, no boot)
     * @param agentReady QEMU start to the guest JVM's HELLO, seconds (negative: unknown)
     */
    public record Timing(Instant started, Instant finished, double init, double agentReady) {
        /** No timing known. */
        public static final Timing NONE = new Timing(Instant.EPOCH, Instant.EPOCH, -1, -1);

        /** Wall time of the whole run. */
        public Duration wall() {
            return Duration.between(started, finished);
        }
    }

    /** A run without the peer suite. */
    public KernelRun(String profile, String kernelRelease, List<TestOutcome> outcomes, Path reportDir,
            List<TestOutcome> kernelSelftests, Timing timing) {
        this(profile, kernelRelease, outcomes, reportDir, kernelSelftests, timing, List.of());
    }

    /** A run without timings. */
    public KernelRun(String profile, String kernelRelease, List<TestOutcome> outcomes, Path reportDir,
            List<TestOutcome> kernelSelftests) {
        this(profile, kernelRelease, outcomes, reportDir, kernelSelftests, Timing.NONE);
    }

    /** How many outcomes have {@code status}. */
    public long count(TestOutcome.Status status) {
        return outcomes.stream().filter(o -> o.status() == status).count();
    }

    /** The exit code this run alone would give: 125 no boot, 2 splat, 1 failures, 0 all passed. */
    public int exitCode() {
        if (count(TestOutcome.Status.BOOT_FAILED) > 0) {
            return 125;
        }
        if (count(TestOutcome.Status.KERNEL_SPLAT) > 0) {
            return 2;
        }
        return count(TestOutcome.Status.FAILED) > 0 ? 1 : 0;
    }
}
