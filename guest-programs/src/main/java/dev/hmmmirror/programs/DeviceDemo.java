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
            // println, not printf: a JVM's first Formatter costs ~0.6 s under TCG (docs/writing-tests.md)
            System.out.println("hmm_mirror ABI " + v.abiVersion() + " on kernel " + System.getProperty("os.version")
                    + ", page size " + v.pageSize() + ", " + count + " devices, capabilities " + v.capabilities());
        }
        for (int i = 0; i < count; i++) {
            try (Mirror mirror = HmmDevice.of(i).openMirror()) {
                System.out.println("  " + mirror.device().path() + ": device index " + mirror.version().deviceIndex()
                        + ", ABI " + mirror.version().abiVersion());
            }
        }
        try (Mirror missing = Mirror.open(count)) {
            System.out.println("unexpected: " + missing.device().path() + " exists");
        } catch (HmmException e) {
            System.out.println("  past the last device: " + e.getMessage());
        }
    }
}
