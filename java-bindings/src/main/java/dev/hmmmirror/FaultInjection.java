package dev.hmmmirror;

import java.time.Duration;

/**
 * Faults to inject into one mirror ({@link Mirror#injectFaults}), so that the error and fallback
 * paths run on demand (as test_hmm's {@code HMM_DMIRROR_FLAGS} does for THP allocations):
 *
 * @param failedAllocations the next this many page allocations of migrations fail (device memory
 *                          when migrating to the device, system memory when migrating back
 *                          explicitly): each such page stays where it is and counts as skipped; a
 *                          migration to the device in which no page moved because of them fails
 *                          with ENOMEM (one back to system memory just skips them).
 *                          CPU faults are never made to fail.
 * @param busyFaults        the next this many {@code hmm_range_fault()} attempts of the fault,
 *                          read and write paths count as {@code -EBUSY}, so the retry loop runs;
 *                          past the retry deadline (1 s) the command fails with EBUSY
 * @param failedCopies      the next this many device copies fail: a page of a device read or
 *                          write (the command fails with EIO) or of a migration (the page stays
 *                          and counts as skipped)
 * @param copyDelay         how long every device copy takes (0 .. 100 ms, microsecond
 *                          resolution), as on a slow link; stays until changed
 */
public record FaultInjection(int failedAllocations, int busyFaults, int failedCopies, Duration copyDelay) {
    /** No injection. */
    public static final FaultInjection NONE = new FaultInjection(0, 0, 0, Duration.ZERO);

    /**
     * Checks the settings; the kernel checks the delay's upper bound.
     *
     * @param failedAllocations the next this many page allocations of migrations fail
     * @param busyFaults        the next this many {@code hmm_range_fault()} attempts count as {@code -EBUSY}
     * @param failedCopies      the next this many device copies fail
     * @param copyDelay         how long every device copy takes
     * @throws IllegalArgumentException when a count or the delay is negative
     */
    public FaultInjection {
        if (failedAllocations < 0 || busyFaults < 0 || failedCopies < 0 || copyDelay.isNegative()) {
            throw new IllegalArgumentException("counts and the delay must not be negative: " + failedAllocations + ", "
                    + busyFaults + ", " + failedCopies + ", " + copyDelay);
        }
    }

    /**
     * Fail the next {@code n} page allocations of migrations.
     *
     * @param n how many allocations fail, {@code >= 0}
     * @return that injection, everything else off
     */
    public static FaultInjection failedAllocations(int n) {
        return new FaultInjection(n, 0, 0, Duration.ZERO);
    }

    /**
     * Count the next {@code n} hmm_range_fault() attempts as -EBUSY.
     *
     * @param n how many attempts count as busy, {@code >= 0}
     * @return that injection, everything else off
     */
    public static FaultInjection busyFaults(int n) {
        return new FaultInjection(0, n, 0, Duration.ZERO);
    }

    /**
     * Fail the next {@code n} device copies.
     *
     * @param n how many page copies fail, {@code >= 0}
     * @return that injection, everything else off
     */
    public static FaultInjection failedCopies(int n) {
        return new FaultInjection(0, 0, n, Duration.ZERO);
    }

    /**
     * Make every device copy take {@code delay}.
     *
     * @param delay how long each page copy takes, 0 .. 100 ms; truncated to whole microseconds
     * @return that injection, everything else off
     */
    public static FaultInjection copyDelay(Duration delay) {
        return new FaultInjection(0, 0, 0, delay);
    }
}
