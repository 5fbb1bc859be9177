package dev.hmmmirror.agent;

import dev.hmmmirror.AbiVersion;
import dev.hmmmirror.Capability;
import dev.hmmmirror.HmmDevice;
import dev.hmmmirror.HmmException;
import dev.hmmmirror.Mirror;
import dev.hmmmirror.agent.protocol.GuestResult;
import dev.hmmmirror.agent.protocol.Protocol;
import org.junit.jupiter.api.Test;

/**
 * The workload the host runs once, in the guest userland (chroot), to record the guest JVM's AOT
 * cache: what the agent does on every run (JUnit launcher, a test, FFM downcalls, the protocol).
 * Classes it loads and links are ready at guest start instead of being loaded interpreted under TCG.
 */
public final class Training {
    private Training() {}

    /** A test for the launcher to run while training. */
    public static final class Case {
        @Test
        void touchesTheNativeLayer() {
            try (Mirror m = Mirror.open(HmmDevice.at("/dev/null"))) {
                throw new AssertionError("/dev/null answered an hmm_mirror ioctl: " + m);
            } catch (HmmException expected) {
                // ENOTTY: the FFM path (open, ioctl, errno capture, close) has run
            }
        }
    }

    static void run() {
        KnobGuard guard = KnobGuard.ofThisKernel();
        var knobs = guard.snapshot();
        TestRunner runner = new TestRunner();
        runner.run("[engine:junit-jupiter]/[class:" + Case.class.getName() + "]/[method:touchesTheNativeLayer()]");
        GuestResult r = new GuestResult(GuestResult.Status.PASSED, 1, "", "", new byte[0], "", "");
        GuestResult.decode(Protocol.bytes(Protocol.parse(Protocol.line(Protocol.RESULT, "1", Protocol.b64(r.encode())))[2]));
        GuestAgent.serialize(new AssertionError("training"));
        guard.restore(knobs);
        if (!"false".equals(System.getProperty(FIRST_RESULT_PROPERTY))) {
            firstResult();
        }
    }

    /**
     * {@code -Dhmm.train.firstResult=false} in the guest JVM's options leaves {@link #firstResult()} out of the
     * training: the A/B switch of docs/performance.md (run O); the flags are part of the cache's key.
     */
    static final String FIRST_RESULT_PROPERTY = "hmm.train.firstResult";

    /**
     * The path to the first result (`hmm demo`, `hmm bench`): HELLO's text, the compilers' restore, a
     * MAIN request's reflection and the device demo. What only a device answers stays out (there is
     * no /dev/hmm_mirror0 where this runs: the demo stops at its first open), but its record and
     * capabilities are made here. Every class, lambda and string concatenation this touches is
     * then in the cache instead of being loaded from the jars (whose first use opens them one by
     * one over 9p) or spun in the guest.
     */
    static void firstResult() {
        String up = GuestAgent.uptime();
        GuestAgent.hello(GuestAgent.processStartUptime(), up, up);
        CompilerThreads.restoreLater();
        try {
            GuestAgent.invokeMain(DEMO);
        } catch (ReflectiveOperationException expected) {
            // ClassNotFoundException without guest-programs; else the demo's HmmException (no device here)
        }
        new AbiVersion(1, Capability.fromBits(~0L), 4096, 1, 0).toString();
    }

    /** guest-programs' device demo, the first result of {@code hmm demo} and {@code hmm bench}. */
    static final String DEMO = "dev.hmmmirror.programs.DeviceDemo";
}
