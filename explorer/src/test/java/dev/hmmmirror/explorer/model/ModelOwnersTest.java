package dev.hmmmirror.explorer.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** What the model expects of a device's access to another device's page, by who owns device memory. */
class ModelOwnersTest {
    private static Model model(boolean shared) {
        Features f = new Features(2, true, true, shared, false, false, false, false, false, false, List.of(), Optional.empty());
        Model m = new Model(f, Model.devices(f));
        m.mapped(0, Kind.ANONYMOUS, 0x7f00_0000_0000L, 4);
        m.migratedToDevice(0, 0, 1); // mirror 0 (device 0) moved page 1 to its memory
        return m;
    }

    @Test
    void withEachDeviceItsOwnOwnerAnotherDevicesAccessBringsThePageBack() {
        Model m = model(false);
        assertEquals(1, m.device(2));
        m.deviceAccessed(2, 0, 0, 4, true); // mirror 2 is on device 1
        assertEquals(-1, m.region(0).page(1).privateDevice(), "device 1 must not map device 0's page as its own");
        assertEquals(List.of(), m.inDeviceMemory(0, 0, 4));
    }

    @Test
    void withOneSharedOwnerTheOtherDeviceMapsItInPlace() {
        Model m = model(true);
        m.deviceAccessed(2, 0, 0, 4, true);
        assertEquals(0, m.region(0).page(1).privateDevice());
        m.deviceAccessed(1, 0, 0, 4, true); // mirror 1: device 0, its own memory either way
        assertEquals(0, m.region(0).page(1).privateDevice());
    }

    @Test
    void theOwnDevicesAccessKeepsThePageWhoeverOwnsTheOthers() {
        Model m = model(false);
        m.deviceAccessed(1, 0, 0, 4, true);
        assertEquals(0, m.region(0).page(1).privateDevice());
    }
}
