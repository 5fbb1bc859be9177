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
 * keep dead locals alive, compiled ones do not), several rounds in case compilation lags.
 */
class ArgumentReachabilityTest {
    private static final int ROUNDS = 4;
    private static final int WARM_CALLS = 20_000;

    private final ReferenceQueue<Object> queue = new ReferenceQueue<>();
    /** The struct and buffer of the call in flight: [0] the struct, [1] the buffer. */
    private volatile List<PhantomReference<Object>> inFlight = List.of();
    private volatile boolean armed;
    private final List<String> collectedInFlight = new ArrayList<>();

    @AfterEach
    void unhook() {
        DeviceFile.whileIssuing = null;
    }

    /** The seam: with {@link #armed}, GCs until the call's struct or buffer is enqueued (or 3 tries). */
    private void collectWhileInFlight() {
        if (!armed) {
            return;
        }
        List<PhantomReference<Object>> watched = inFlight;
        try {
            for (int i = 0; i < 3 && collectedInFlight.isEmpty(); i++) {
                System.gc();
                Reference<?> r;
                while ((r = queue.remove(60)) != null) {
                    collectedInFlight.add(r == watched.get(0) ? "the RawStruct passed to ioctl"
                            : r == watched.get(1) ? "the RawBuffer its ptr field points to (kept by RawStruct.set)"
                            : "an object of an earlier call");
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** One call whose caller keeps nothing: the struct and its buffer are only the call's to keep. */
    private int fireAndForget(RawDevice d) {
        RawBuffer buffer = RawBuffer.allocate(4096);
        RawStruct struct = RawStruct.of(Struct.RW).set("npages", 1).set("ptr", buffer);
        inFlight = List.of(new PhantomReference<>(struct, queue), new PhantomReference<>(buffer, queue));
        try {
            return d.ioctl(Command.READ, struct);
        } catch (HmmException e) {
            return -e.errno();
        }
    }

    @Test
    void aStructAndTheBufferItPointsToStayReachableUntilTheIoctlReturns() throws Exception {
        DeviceFile.whileIssuing = this::collectWhileInFlight;
        try (RawDevice d = RawDevice.open("/dev/null")) {
            for (int round = 1; round <= ROUNDS; round++) {
                armed = false;
                for (int i = 0; i < WARM_CALLS; i++) {
                    fireAndForget(d);
                }
                while (queue.poll() != null) {
                    // the warm-up calls' objects, collected after their calls returned
                }
                armed = true;
                int rc = fireAndForget(d);
                armed = false;
                assertEquals(-Errno.ENOTTY.number(), rc, "/dev/null refuses the command");
                assertTrue(collectedInFlight.isEmpty(), "round " + round + " (after " + round * WARM_CALLS
                        + " calls, JIT-compiled): " + collectedInFlight + " became unreachable while the ioctl was in "
                        + "flight; its memory can be freed while the kernel reads or writes it");
            }
        }
    }
}
