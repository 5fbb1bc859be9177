package dev.hmmmirror.vm.image;

import java.nio.file.Path;

/**
 * The shared guest userland (Debian sid with a Java 25 runtime): its root directory and the cache
 * key it was built under.
 *
 * @param root the root file system the guest mounts over 9p
 * @param key  its cache key (part of the boot files' key)
 */
public record Userland(Path root, String key) {
    /** The userland's busybox (static), which the initramfs is made of. */
    Path busybox() {
        return root.resolve("usr/bin/busybox");
    }
}
