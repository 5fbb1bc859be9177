package dev.hmmmirror.guest.mm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.hmmmirror.Access;
import dev.hmmmirror.Errno;
import dev.hmmmirror.HmmException;
import dev.hmmmirror.Mirror;
import dev.hmmmirror.junit.GuestTest;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;

/**
 * userfaultfd: a device fault on a missing page of a range registered for missing-page faults.
 * {@code hmm_range_fault} faults without {@code FAULT_FLAG_ALLOW_RETRY}, so the kernel cannot wait
 * for the userspace handler and fails the fault (SIGBUS for the fault, EFAULT for the ioctl); an
 * upstream series to let it wait is pending. This records what each kernel does and asserts it, so
 * that the day the kernel changes shows up as a changed result, never as a hung guest: a fault
 * still pending after 20 s is resolved here (UFFDIO_ZEROPAGE) and the test fails saying so.
 */
@GuestTest
class UserfaultfdIT {
    private static final long UFFDIO_API = 0xc018aa3fL, UFFDIO_REGISTER = 0xc020aa00L, UFFDIO_ZEROPAGE = 0xc020aa04L;
    private static final long UFFD_API = 0xAA, MODE_MISSING = 1;
    private static final int PAGES = 4;

    @Test
    void deviceFaultOnAMissingUserfaultfdPageFailsWithEfaultWithoutHanging() throws Exception {
        long fd = Sys.raw(Sys.USERFAULTFD, 0x80000 /* O_CLOEXEC */);
        assumeTrue(fd >= 0, "userfaultfd: " + Sys.name((int) -fd) + " (the kernel lacks CONFIG_USERFAULTFD?)");
        long len = PAGES * Coherence.PAGE;
        long a = Sys.mmap(0, len, Sys.PROT_READ | Sys.PROT_WRITE, Sys.MAP_PRIVATE | Sys.MAP_ANONYMOUS, -1, 0);
        try (Mirror mirror = Mirror.open(0); Arena arena = Arena.ofConfined()) {
            MemorySegment api = arena.allocate(24);
            api.set(ValueLayout.JAVA_LONG, 0, UFFD_API);
            Sys.call("UFFDIO_API", Sys.IOCTL, fd, UFFDIO_API, api.address());
            MemorySegment reg = arena.allocate(32);
            reg.set(ValueLayout.JAVA_LONG, 0, a);
            reg.set(ValueLayout.JAVA_LONG, 8, len);
            reg.set(ValueLayout.JAVA_LONG, 16, MODE_MISSING);
            Sys.call("UFFDIO_REGISTER", Sys.IOCTL, fd, UFFDIO_REGISTER, reg.address());
            CompletableFuture<Integer> fault = CompletableFuture.supplyAsync(() -> {
                try {
                    mirror.fault(a, 1, Access.READ);
                    return 0;
                } catch (HmmException e) {
                    return e.errno();
                }
            });
            int errno;
            try {
                errno = fault.get(20, TimeUnit.SECONDS);
            } catch (TimeoutException e) {
                MemorySegment zp = arena.allocate(32);
                zp.set(ValueLayout.JAVA_LONG, 0, a);
                zp.set(ValueLayout.JAVA_LONG, 8, Coherence.PAGE);
                Sys.raw(Sys.IOCTL, fd, UFFDIO_ZEROPAGE, zp.address());
                int late = fault.get(20, TimeUnit.SECONDS);
                MmReport.record("userfaultfd: device fault on a missing page", Set.of(),
                        "CHANGED: the device fault waited for the handler (then " + (late == 0 ? "succeeded" : Sys.name(late)) + ")");
                fail("hmm_range_fault now waits for the userfaultfd handler (the kernel changed): update this test");
                return;
            }
            MmReport.record("userfaultfd: device fault on a missing page", Set.of(),
                    errno == 0 ? "CHANGED: the fault succeeded without the handler" : "pass: " + Sys.name(errno)
                            + " at once, no hang");
            assertEquals(Errno.EFAULT.number(), errno, "a device fault on a missing userfaultfd page: "
                    + (errno == 0 ? "succeeded" : Sys.name(errno)));
            // pages the handler resolved are ordinary pages again
            MemorySegment zp = arena.allocate(32);
            zp.set(ValueLayout.JAVA_LONG, 0, a + Coherence.PAGE);
            zp.set(ValueLayout.JAVA_LONG, 8, Coherence.PAGE);
            Sys.call("UFFDIO_ZEROPAGE", Sys.IOCTL, fd, UFFDIO_ZEROPAGE, zp.address());
            assertEquals(1, mirror.fault(a + Coherence.PAGE, 1, Access.READ));
        } finally {
            Sys.munmap(a, len);
            Sys.close((int) fd);
        }
    }
}
