package dev.hmmmirror.vm.cli;

import dev.hmmmirror.AbiVersion;
import dev.hmmmirror.HmmDevice;
import dev.hmmmirror.HmmException;

/** The demo the main job runs in the guest: opens every /dev/hmm_mirrorN and prints what it reports. */
public final class DeviceDemo {
    private DeviceDemo() {}

    public static void main(String[] args) throws HmmException {
        int count;
        try (HmmDevice first = HmmDevice.open(0)) {
            AbiVersion v = first.version();
            count = v.deviceCount();
            System.out.printf("hmm_mirror ABI %d on kernel %s, page size %d, %d devices, capabilities %s%n",
                    v.abiVersion(), System.getProperty("os.version"), v.pageSize(), count, v.capabilities());
        }
        for (int i = 0; i < count; i++) {
            try (HmmDevice dev = HmmDevice.open(i)) {
                System.out.printf("  %s: device index %d, ABI %d%n", dev.path(), dev.version().deviceIndex(),
                        dev.version().abiVersion());
            }
        }
        try (HmmDevice missing = HmmDevice.open(count)) {
            System.out.println("unexpected: " + missing.path() + " exists");
        } catch (HmmException e) {
            System.out.println("  past the last device: " + e.getMessage());
        }
    }
}
