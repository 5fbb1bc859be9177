package dev.hmmmirror;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * One simulated HMM device of the hmm_mirror module, {@code /dev/hmm_mirrorN}. Each device has
 * its own page table; {@link #openMirror()} binds a mirror of this process's address space to it.
 * Several devices may mirror one process at once.
 *
 * <pre>{@code
 * try (Mirror mirror = HmmDevice.of(0).openMirror(); Memory mem = Memory.anonymous(16)) {
 *     mem.segment().fill((byte) 7);
 *     byte[] seen = mirror.read(mem.address(), 1);   // what the device sees
 * }
 * }</pre>
 *
 * @param index the N of {@code /dev/hmm_mirrorN}
 * @param path  the device node
 */
public record HmmDevice(int index, String path) {
    /** The path prefix of the device nodes; device N is {@code PATH_PREFIX + N}. */
    public static final String PATH_PREFIX = "/dev/hmm_mirror";

    /** The ABI version these bindings were generated for. */
    public static final int ABI_VERSION = dev.hmmmirror.internal.gen.HmmMirrorH.HMM_MIRROR_ABI_VERSION();

    /**
     * Device {@code /dev/hmm_mirror<index>}. Nothing is opened or checked: {@link #exists()} tells
     * whether the node is there.
     *
     * @param index the N of {@code /dev/hmm_mirrorN}, 0 .. the module's {@code ndevices} - 1
     * @return the device
     * @throws IllegalArgumentException when {@code index} is negative
     */
    public static HmmDevice of(int index) {
        if (index < 0) {
            throw new IllegalArgumentException("device index must be >= 0, got " + index);
        }
        return new HmmDevice(index, PATH_PREFIX + index);
    }

    /**
     * A device node at another path (e.g. in a container); the index is informational.
     *
     * @param path the device node's path
     * @return the device, with index -1
     */
    public static HmmDevice at(String path) {
        return new HmmDevice(-1, path);
    }

    /**
     * Whether the device node exists (the module is loaded with enough devices).
     *
     * @return whether {@link #path()} exists; says nothing about whether this process may open it
     */
    public boolean exists() {
        return Files.exists(Path.of(path));
    }

    /**
     * Opens a mirror of this process's address space on this device (as {@link Mirror#open(HmmDevice)}).
     *
     * @return the new mirror, with an empty device page table
     * @throws HmmException when {@code open(2)} or {@code HMM_MIRROR_IOC_VERSION} fails: {@link Errno#ENOENT}
     *                      without the node (module not loaded, or the index past {@code ndevices}),
     *                      {@link Errno#EACCES} for a non-root process (the node is mode 0600)
     */
    public Mirror openMirror() throws HmmException {
        return Mirror.open(this);
    }
}
