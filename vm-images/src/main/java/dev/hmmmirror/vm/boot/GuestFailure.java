package dev.hmmmirror.vm.boot;

import java.nio.file.Path;

/**
 * The guest could not be booted or stopped answering: QEMU died, the kernel did not reach the
 * agent, a request timed out (the guest was killed). Carries the console log and its tail.
 */
public class GuestFailure extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final transient Path consoleLog;
    private final boolean booting;

    public GuestFailure(String what, Path consoleLog, String consoleTail) {
        this(what, consoleLog, consoleTail, true);
    }

    /**
     * @param booting whether the guest had not come up yet (a boot failure: tools exit 125) or
     *                died or hung later (a kernel problem: tools exit 2)
     */
    public GuestFailure(String what, Path consoleLog, String consoleTail, boolean booting) {
        super(what + "\n--- last console lines (full log: " + consoleLog + ") ---\n" + consoleTail);
        this.consoleLog = consoleLog;
        this.booting = booting;
    }

    /** Whether this happened before the guest was up (could not boot). */
    public boolean booting() {
        return booting;
    }

    /** The full console log of the guest. */
    public Path consoleLog() {
        return consoleLog;
    }
}
