package dev.hmmmirror.tool;

import dev.hmmmirror.suite.Operations;
import dev.hmmmirror.vm.image.KernelProfile;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code hmm images}: build or check cached guest images, without booting. */
@Command(name = "images", mixinStandardHelpOptions = true,
        description = {"Build or check the cached guest images.",
            "Build (or find in the cache) the guest images of the kernels named (default: the "
                + "hmm.kernel setting; --all: the three stock kernels), without booting. A built-* profile "
                + "compiles its kernel the first time (~15 min)."})
final class Images implements Callable<Integer> {
    @Mixin
    GuestOptions guest;

    @Option(names = "--all", description = "the three stock kernels")
    boolean all;

    @Override
    public Integer call() {
        var settings = guest.settings();
        return Guarded.call(settings, s -> Operations.images(s, all ? KernelProfile.stock() : guest.profiles(s,
                java.util.List.of(KernelProfile.named(s.kernel())))));
    }
}
