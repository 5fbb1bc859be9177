package dev.hmmmirror.vm.boot;

import java.util.List;

/**
 * A test failed because the guest kernel reported an Oops, BUG, WARNING, KASAN, lockdep or
 * hung-task splat while it ran (or during boot, or after the last test). Tools map it to exit
 * code 2, apart from ordinary test failures.
 */
public class KernelSplatError extends AssertionError {
    private static final long serialVersionUID = 1L;

    private final transient List<KernelSplat> splats;

    public KernelSplatError(String message, List<KernelSplat> splats) {
        super(message);
        this.splats = List.copyOf(splats);
    }

    /** The reports. */
    public List<KernelSplat> splats() {
        return splats;
    }
}
