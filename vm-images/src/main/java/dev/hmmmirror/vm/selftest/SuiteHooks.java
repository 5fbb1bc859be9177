package dev.hmmmirror.vm.selftest;

import dev.hmmmirror.vm.config.Settings;
import dev.hmmmirror.vm.coverage.ModuleCoverage;
import dev.hmmmirror.vm.session.SessionHook;
import java.util.List;

/**
 * The hooks of a suite's session, whoever starts it (the JUnit extension under Maven, the suite
 * runner from the command line): the module's line coverage (on kernels with gcov support), the
 * kernel's own hmm selftests and the peer suite (rdma-core's ODP tests against rxe), after our
 * tests, in the same guest.
 */
public final class SuiteHooks {
    private SuiteHooks() {}

    /** The kernel's selftests ({@link KernelSelftests}), configured by {@code settings}. */
    public static KernelSelftests kernelSelftests(Settings settings) {
        return new KernelSelftests(settings);
    }

    /** The peer suite ({@link PeerSuite}), configured by {@code settings}. */
    public static PeerSuite peerSuite(Settings settings) {
        return new PeerSuite(settings);
    }

    /** Every hook a suite's session runs before the guest powers off: coverage first, then the selftests, then the peer suite. */
    public static List<SessionHook<?>> of(Settings settings) {
        return of(kernelSelftests(settings), peerSuite(settings));
    }

    /** As {@link #of(Settings)}, with the caller's selftests and peer suite hooks (to read their results afterwards). */
    public static List<SessionHook<?>> of(KernelSelftests selftests, PeerSuite peer) {
        return List.of(new ModuleCoverage(), selftests, peer);
    }
}
