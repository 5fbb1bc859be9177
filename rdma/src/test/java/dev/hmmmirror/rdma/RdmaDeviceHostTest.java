package dev.hmmmirror.rdma;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.hmmmirror.rdma.internal.Ibv;
import org.junit.jupiter.api.Test;

/** What the API says on a host without the device asked for (no guest, no rxe). */
class RdmaDeviceHostTest {
    @Test
    void aMissingDeviceIsAnErrorWithErrnoThatSaysHowToMakeOne() throws Exception {
        assumeTrue(Ibv.loadError() == null, "libibverbs.so.1 is not loadable (install libibverbs1): " + Ibv.loadError());
        String name = "hmm-no-such-rdma-device";
        RdmaException e = assertThrows(RdmaException.class, () -> RdmaDevice.open(name));
        assertTrue(e.errno() > 0 && e.getMessage().contains(name) && e.getMessage().contains(e.errnoName()),
                e.getMessage());
        // ENODEV when libibverbs lists devices (none of that name); else the errno of ibv_get_device_list
        if (e.getMessage().startsWith("ibv_open_device")) {
            assertTrue(e.errno() == 19 && e.getMessage().contains("rdma link add " + name), e.getMessage());
        }
    }
}
