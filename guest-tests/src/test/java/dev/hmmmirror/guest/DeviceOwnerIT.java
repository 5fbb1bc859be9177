package dev.hmmmirror.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.hmmmirror.Capability;
import dev.hmmmirror.Memory;
import dev.hmmmirror.Migration;
import dev.hmmmirror.Mirror;
import dev.hmmmirror.PageState;
import dev.hmmmirror.Snapshot;
import dev.hmmmirror.junit.GuestTest;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Who owns device memory, a choice of the module ({@code shared_owner}): shared by all devices
 * (the default: a device maps another's memory in place, peer access), or one owner per device
 * (as test_hmm: another device's access migrates the page back to system memory first). Both
 * ways run in every suite: the mode the module was loaded with, then the other one after
 * reloading it.
 */
@GuestTest
class DeviceOwnerIT {
    /**
     * Device 0 migrates 3 pages; device 1 looks at them and reads them: in place with a shared
     * owner, after migrating them back with one owner per device.
     */
    static void assertRemoteAccess(Mirror dev0, Mirror dev1) throws Exception {
        boolean shared = dev0.version().has(Capability.SHARED_OWNER);
        try (Memory mem = Memory.anonymous(3)) {
            byte[] data = Bytes.pattern(3, 6);
            mem.write(0, data);
            assertEquals(new Migration(3, 0), dev0.migrateToDevice(mem.address(), 3));
            Snapshot remote = dev1.snapshot(mem);
            long back = dev0.counters().cpuFaultMigrations();
            if (shared) {
                assertTrue(remote.all(PageState.DEVICE_PRIVATE_REMOTE), "shared owner: device 1 sees device 0's pages: " + remote);
                Bytes.assertSame(data, dev1.read(mem.address(), 3), "device 1 reads device 0's memory");
                assertEquals(3, dev1.counters().devicePrivateReads(), "in place");
                assertEquals(back, dev0.counters().cpuFaultMigrations(), "nothing migrated back");
                assertTrue(dev0.snapshot(mem).all(PageState.DEVICE_PRIVATE));
                assertEquals(new Migration(0, 3), dev1.migrateToSystem(mem.address(), 3), "device 1 cannot move device 0's pages");
            } else {
                for (int i = 0; i < 3; i++) {
                    assertEquals(EnumSet.noneOf(PageState.class), remote.page(i),
                            "own owners: device 0's memory is invisible to device 1's snapshot: " + remote);
                }
                Bytes.assertSame(data, dev1.read(mem.address(), 3), "device 1 reads the data");
                assertEquals(0, dev1.counters().devicePrivateReads(), "not from device memory");
                assertEquals(3, dev0.counters().cpuFaultMigrations() - back, "device 1's access migrated them back");
                assertTrue(dev0.snapshot(mem).none(PageState.DEVICE_PRIVATE), dev0.snapshot(mem).toString());
            }
        }
    }

    @Test
    void remoteAccessAsTheModuleWasLoaded() throws Exception {
        try (Mirror dev0 = Mirror.open(0); Mirror dev1 = Mirror.open(1)) {
            assumeTrue(dev0.version().has(Capability.MIGRATE), "kernel " + System.getProperty("os.version")
                    + " lacks CONFIG_DEVICE_PRIVATE: no device memory, no owner");
            assertRemoteAccess(dev0, dev1);
        }
    }

    @Test
    void remoteAccessWithTheOtherOwnerChoice() throws Exception {
        boolean shared;
        try (Mirror dev0 = Mirror.open(0)) {
            assumeTrue(dev0.version().has(Capability.MIGRATE), "kernel " + System.getProperty("os.version")
                    + " lacks CONFIG_DEVICE_PRIVATE: no device memory, no owner");
            shared = dev0.version().has(Capability.SHARED_OWNER);
        }
        assumeTrue(ModuleReload.possible(), "the module file " + ModuleReload.MODULE
                + " is not in this guest: cannot reload it");
        List<String> params = ModuleReload.paramsWithout("shared_owner");
        List<String> other = new ArrayList<>(params);
        other.add("shared_owner=" + (shared ? "N" : "Y"));
        ModuleReload.reload(other);
        try (Mirror dev0 = Mirror.open(0); Mirror dev1 = Mirror.open(1)) {
            assertEquals(!shared, dev0.version().has(Capability.SHARED_OWNER), "the reloaded module's choice");
            assertRemoteAccess(dev0, dev1);
        } finally {
            ModuleReload.reload(params);
        }
        try (Mirror dev0 = Mirror.open(0)) {
            assertEquals(shared, dev0.version().has(Capability.SHARED_OWNER), "the module is back as it was");
        }
    }
}
