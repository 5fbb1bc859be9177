package dev.hmmmirror.guest.explore;

import dev.hmmmirror.Memory;
import dev.hmmmirror.Migration;
import dev.hmmmirror.Mirror;

/**
 * Another process's use of device 0's memory, for {@link ExplorerFoundIT}: opens a mirror on device
 * 0, migrates {@code args[0]} pages of fresh memory there and closes the mirror, which brings them
 * back (the module's eviction on close). Exit 0 when all that worked.
 */
public final class DeviceMemoryElsewhere {
    private DeviceMemoryElsewhere() {}

    public static void main(String[] args) throws Exception {
        int pages = Integer.parseInt(args[0]);
        try (Mirror mirror = Mirror.open(0); Memory mem = Memory.anonymous(pages)) {
            mem.fill((byte) 0x33);
            Migration m = mirror.migrateToDevice(mem.address(), pages);
            System.out.println("elsewhere: migrated " + m.migrated() + " of " + pages + " pages to device 0");
            if (m.migrated() != pages) {
                System.exit(3);
            }
        } // closing the mirror evicts its pages from device memory
        System.out.println("elsewhere: closed");
    }
}
