package dev.hmmmirror.programs;

import dev.hmmmirror.AbiVersion;
import dev.hmmmirror.HmmDevice;
import dev.hmmmirror.HmmException;
import dev.hmmmirror.Mirror;

/** The demo the main job runs in the guest: opens every /dev/hmm_mirrorN and prints what it reports. */
public final class DeviceDemo {
    private DeviceDemo() {}

    public static void main(String[] args) throws HmmException {
        int count;
        try (Mirror first = Mirror.open(0)) {
            AbiVersion v = first.version();
            count = v.deviceCount();
            System.out.printf("hmm_mirror ABI %d on kernel %s, page size %d, %d devices, capabilities %s%n",
                    v.abiVersion(), System.getProperty("os.version"), v.pageSize(), count, v.capabilities());
        }
        for (int i = 0; i < count; i++) {
            try (Mirror mirror = HmmDevice.of(i).openMirror()) {
                System.out.printf("  %s: device index %d, ABI %d%n", mirror.device().path(),
                        mirror.version().deviceIndex(), mirror.version().abiVersion());
            }
        }
        try (Mirror missing = Mirror.open(count)) {
            System.out.println("unexpected: " + missing.device().path() + " exists");
        } catch (HmmException e) {
            System.out.println("  past the last device: " + e.getMessage());
        }
    }
}
