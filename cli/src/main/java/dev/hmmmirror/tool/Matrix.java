package dev.hmmmirror.tool;

import dev.hmmmirror.suite.Operations;
import dev.hmmmirror.vm.config.Setting;
import dev.hmmmirror.vm.image.KernelProfile;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code hmm matrix}: the guest suite on several kernels, one table. */
@Command(name = "matrix", mixinStandardHelpOptions = true,
        description = {"The guest suite on several kernels, one table.",
            "Run the guest suite on several kernels (each --kernel / --kernel-tree; default the three "
                + "stock kernels): one kernel x test table with totals, and the reports of hmm suite. Exit codes "
                + "as hmm suite (the worst of the kernels).",
            "Kernels of several architectures or page sizes mix (e.g. --kernel debian-sid --kernel debian-sid-arm64): "
                + "every report names each kernel's architecture and page size and leads with the tests whose outcome "
                + "differs between the same kernel on different architectures (docs/arm64.md)."})
final class Matrix implements Callable<Integer> {
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

    @Option(names = "--all", description = "the three stock kernels (also the default when no kernel is named)")
    boolean all;

    @Option(names = "--parallel", paramLabel = "K|auto",
            description = "guests at once on this host (default auto: one per core plus one, as many as fit in free "
                + "memory at each profile's guest memory + 0.5 GiB: 2.5 GiB, 6.5 GiB for built-7.2-arm64-64k); a "
                + "kernel starts only when its guest fits beside those running")
    String parallel;

    @Option(names = "--docker-hosts", paramLabel = "ENGINES",
            description = "Docker engines to spread the kernels over, e.g. 'tcp://kvm1:2375 tcp://kvm2:2375*2 local'")
    String dockerHosts;

    @Override
    public Integer call() {
        var settings = guest.settings();
        if (noKselftest) {
            settings = settings.with(Setting.KSELFTEST, "false");
        }
        if (noPeerSuite) {
            settings = settings.with(Setting.PEER_SUITE, "false");
        }
        if (parallel != null) {
            settings = settings.with(Setting.PARALLEL, parallel);
        }
        if (dockerHosts != null) {
            settings = settings.with(Setting.DOCKER_HOSTS, dockerHosts);
        }
        return Guarded.call(settings, s -> Operations.suite(s, all ? KernelProfile.stock() : Suite.matrix(guest, s), tests));
    }
}
