package dev.hmmmirror.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hmmmirror.Errno;
import dev.hmmmirror.HmmException;
import dev.hmmmirror.raw.Command;
import dev.hmmmirror.raw.RawBuffer;
import dev.hmmmirror.raw.RawDevice;
import dev.hmmmirror.raw.RawStruct;
import dev.hmmmirror.raw.Struct;
import java.lang.ref.PhantomReference;
import java.lang.ref.Reference;
import java.lang.ref.ReferenceQueue;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Issue 25: {@code RawDevice.ioctl} must keep its argument, and the buffers the struct points to,
 * reachable until the system call returns. A caller that hands a struct over and keeps nothing
 * (as {@code d.ioctl(READ, RawStruct.of(RW).set("ptr", RawBuffer.allocate(n)))} does) holds no
 * reference of its own once compiled code has loaded the address; without a fence the garbage
 * collector may free the buffer the kernel is writing.
 *
 * <p>The host cannot load the module, so the call goes to {@code /dev/null} (ENOTTY), and the time
 * the kernel would spend inside the call is made with the {@link DeviceFile#whileIssuing} seam:
 * on the calling thread, inside the call, it runs full GCs and waits for the struct or the buffer
 * to be found unreachable. The call is first run until the JIT has compiled it (interpreted frames
 * keep dead locals alive, compiled ones do not), several rounds in case compilation lags. A control
 * token passed along as an argument nothing uses shows whether the frames ran compiled: a round in
 * which it is not collected during the call proves nothing, and a test in which it never is fails
 * as inconclusive.
 */
class ArgumentReachabilityTest {
    private static final int ROUNDS = 6;
    private static final int WARM_CALLS = 20_000;
    private static final String CONTROL = "the control token";

    private final ReferenceQueue<Object> queue = new ReferenceQueue<>();
    /** What the call in flight must keep (or, for the control, must not), by name. */
    private volatile Map<Reference<?>, String> inFlight = Map.of();
    private volatile boolean armed;
    private final List<String> collectedInFlight = new ArrayList<>();

    @AfterEach
    void unhook() {
        DeviceFile.whileIssuing = null;
    }

    /** The seam: with {@link #armed}, three GCs, noting what of the call in flight was enqueued. */
    private void collectWhileInFlight() {
        if (!armed) {
            return;
        }
        Map<Reference<?>, String> watched = inFlight;
        try {
            for (int i = 0; i < 3; i++) {
                System.gc();
                Reference<?> r;
                while ((r = queue.remove(60)) != null) {
                    collectedInFlight.add(watched.getOrDefault(r, "an object of an earlier call"));
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * One call whose caller keeps nothing: the struct and its buffer are only the call's to keep.
     * The control {@code token} goes along as an argument nothing uses, dead in compiled code as
     * soon as the call starts: when it is not collected during the call, the frames were not
     * compiled and the call proves nothing.
     */
    private int fireAndForget(RawDevice d) {
        RawBuffer buffer = RawBuffer.allocate(4096);
        RawStruct struct = RawStruct.of(Struct.RW).set("npages", 1).set("ptr", buffer);
        Object token = new Object();
        inFlight = Map.of(new PhantomReference<>(struct, queue), "the RawStruct passed to ioctl",
                new PhantomReference<>(buffer, queue), "the RawBuffer its ptr field points to (kept by RawStruct.set)",
                new PhantomReference<>(token, queue), CONTROL);
        return call(d, struct, token);
    }

    private static int call(RawDevice d, RawStruct struct, Object unused) {
        try {
            return d.ioctl(Command.READ, struct);
        } catch (HmmException e) {
            return -e.errno();
        }
    }

    @Test
    void aStructAndTheBufferItPointsToStayReachableUntilTheIoctlReturns() throws Exception {
        DeviceFile.whileIssuing = this::collectWhileInFlight;
        boolean compiled = false;
        try (RawDevice d = RawDevice.open("/dev/null")) {
            for (int round = 1; round <= ROUNDS && !compiled; round++) {
                for (int i = 0; i < WARM_CALLS; i++) {
                    fireAndForget(d);
                }
                while (queue.poll() != null) {
                    // objects of earlier calls, collected after their calls returned
                }
                collectedInFlight.clear();
                armed = true;
                int rc = fireAndForget(d);
                armed = false;
                assertEquals(-Errno.ENOTTY.number(), rc, "/dev/null refuses the command");
                List<String> lost = new ArrayList<>(collectedInFlight);
                compiled = lost.remove(CONTROL);
                assertTrue(lost.isEmpty(), "round " + round + " (after " + round * WARM_CALLS + " calls"
                        + (compiled ? ", JIT-compiled" : "") + "): " + lost + " became unreachable while the ioctl "
                        + "was in flight; its memory can be freed while the kernel reads or writes it");
            }
        }
        assertTrue(compiled, "inconclusive: in " + ROUNDS + " rounds an argument nothing used was never collected during "
                + "the call, so the calls never ran JIT-compiled (is the JVM interpreting?)");
    }
}
