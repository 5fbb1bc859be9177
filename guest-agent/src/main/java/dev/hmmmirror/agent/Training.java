package dev.hmmmirror.agent;

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
    }
}
