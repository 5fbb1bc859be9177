package dev.hmmmirror.vm.selftest;

import dev.hmmmirror.vm.config.Settings;
import dev.hmmmirror.vm.coverage.ModuleCoverage;
import dev.hmmmirror.vm.session.SessionHook;
import java.util.List;

/**
 * The hooks of a suite's session, whoever starts it (the JUnit extension under Maven, the suite
 * runner from the command line): the module's line coverage (on kernels with gcov support) and the
 * kernel's own hmm selftests, after our tests, in the same guest.
 */
public final class SuiteHooks {
    private SuiteHooks() {}

    /** The kernel's selftests ({@link KernelSelftests}), configured by {@code settings}. */
    public static KernelSelftests kernelSelftests(Settings settings) {
        return new KernelSelftests(settings);
    }

    /** Every hook a suite's session runs before the guest powers off: coverage first, then the selftests. */
    public static List<SessionHook<?>> of(Settings settings) {
        return of(kernelSelftests(settings));
    }

    /** As {@link #of(Settings)}, with the caller's selftests hook (to read its result afterwards). */
    public static List<SessionHook<?>> of(KernelSelftests selftests) {
        return List.of(new ModuleCoverage(), selftests);
    }
}
