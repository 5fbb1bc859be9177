package dev.hmmmirror.tool;

import dev.hmmmirror.suite.Operations;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code hmm demo}: the device demo in a guest. */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"The device demo in a guest.",
            "Boot a kernel, load hmm_mirror.ko and run the device demo (guest-programs' DeviceDemo) "
                + "in the guest agent: ABI version, capabilities, a fault, a device read and write. Exit 0 when "
                + "it passed, 1 when it failed, 2 on a kernel splat, 125 when the guest could not boot."})
final class Demo implements Callable<Integer> {
    @Mixin
    GuestOptions guest;

    @Override
    public Integer call() {
        var settings = guest.settings();
        return Guarded.call(settings, s -> Operations.demo(s, guest.profile(s)));
    }
}
