package dev.hmmmirror.tool;

import dev.hmmmirror.suite.Operations;
import dev.hmmmirror.vm.config.Setting;
import dev.hmmmirror.vm.image.KernelProfile;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code hmm suite}: the guest suite on one kernel, as a verdict. */
@Command(name = "suite", mixinStandardHelpOptions = true,
        description = {"The guest suite on one kernel, as a verdict (git bisect run).",
            "Run the guest suite (and, where the kernel has CONFIG_TEST_HMM=m, the kernel's own hmm "
                + "selftests after it) on one kernel; print a test table, write target/hmm-report (index.html, "
                + "summary.json, junit-*.xml; HMM_REPORT_DIR moves it). Exit 0 all passed, 1 tests failed, "
                + "2 kernel splat, 125 could not build or boot: fit for git bisect run.",
            "Example:", "  hmm suite --kernel-tree ~/linux"})
final class Suite implements Callable<Integer> {
    @Mixin
    GuestOptions guest;

    @Option(names = "--no-kselftest", description = "do not run the kernel's own hmm selftests")
    boolean noKselftest;

    @Option(names = "--no-peer-suite", description = "do not run rdma-core's ODP tests against rxe (the peer suite)")
    boolean noPeerSuite;

    @Option(names = "--test", paramLabel = "CLASS[#METHOD]", split = ",",
            description = "only these test classes (or methods) of the suite, relative to its package: DeviceOpenIT, "
                    + "mm.ThpIT, DeviceOpenIT#opensTheDevice (repeat or separate with commas; default the whole suite)")
    List<String> tests = new java.util.ArrayList<>();

    @Override
    public Integer call() {
        var settings = guest.settings();
        if (noKselftest) {
            settings = settings.with(Setting.KSELFTEST, "false");
        }
        if (noPeerSuite) {
            settings = settings.with(Setting.PEER_SUITE, "false");
        }
        return Guarded.call(settings, s -> Operations.suite(s, List.of(guest.profile(s)), tests));
    }

    /** The profiles of a matrix: those named, else the three stock kernels. */
    static List<KernelProfile> matrix(GuestOptions guest, dev.hmmmirror.vm.config.Settings s) {
        return guest.profiles(s, KernelProfile.stock());
    }
}
