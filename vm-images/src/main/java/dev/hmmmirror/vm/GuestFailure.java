package dev.hmmmirror.vm;

import java.nio.file.Path;

/**
 * The guest could not be booted or stopped answering: QEMU died, the kernel did not reach the
 * agent, a request timed out (the guest was killed). Carries the console log and its tail.
 */
public class GuestFailure extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final transient Path consoleLog;

    public GuestFailure(String what, Path consoleLog, String consoleTail) {
        super(what + "\n--- last console lines (full log: " + consoleLog + ") ---\n" + consoleTail);
        this.consoleLog = consoleLog;
    }

    /** The full console log of the guest. */
    public Path consoleLog() {
        return consoleLog;
    }
}
