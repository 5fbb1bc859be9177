package dev.hmmmirror;

import dev.hmmmirror.internal.Command;
import dev.hmmmirror.internal.DeviceFile;
import dev.hmmmirror.internal.gen.HmmMirrorH;
import dev.hmmmirror.internal.gen.hmm_mirror_version;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * One simulated HMM device, {@code /dev/hmm_mirrorN}, opened by this process. Opening binds the
 * device's mirror to this process's address space; commands from another process are refused
 * by the kernel with {@link Errno#EPERM}.
 *
 * <pre>{@code
 * try (HmmDevice dev = HmmDevice.open(0)) {
 *     AbiVersion v = dev.version();
 * }
 * }</pre>
 */
public final class HmmDevice implements AutoCloseable {
    /** The path prefix of the device nodes; device N is {@code PATH_PREFIX + N}. */
    public static final String PATH_PREFIX = "/dev/hmm_mirror";

    /** The ABI version these bindings were generated for. */
    public static final int ABI_VERSION = HmmMirrorH.HMM_MIRROR_ABI_VERSION();

    private final DeviceFile file;

    private HmmDevice(DeviceFile file) {
        this.file = file;
    }

    /** Opens {@code /dev/hmm_mirror<index>}. */
    public static HmmDevice open(int index) throws HmmException {
        if (index < 0) {
            throw new IllegalArgumentException("device index must be >= 0, got " + index);
        }
        return open(PATH_PREFIX + index);
    }

    /** Opens the device node at {@code path}. */
    public static HmmDevice open(String path) throws HmmException {
        return new HmmDevice(DeviceFile.open(path));
    }

    /** The device node this was opened from. */
    public String path() {
        return file.path();
    }

    /** Queries the module's ABI version and capabilities ({@code HMM_MIRROR_IOC_VERSION}). */
    public AbiVersion version() throws HmmException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment v = hmm_mirror_version.allocate(arena);
            hmm_mirror_version.size(v, (int) hmm_mirror_version.sizeof());
            file.issue(Command.VERSION, v);
            return new AbiVersion(hmm_mirror_version.abi_version(v),
                    Capability.fromBits(hmm_mirror_version.caps(v)),
                    Integer.toUnsignedLong(hmm_mirror_version.page_size(v)),
                    hmm_mirror_version.ndevices(v),
                    hmm_mirror_version.device_index(v));
        }
    }

    /** Whether {@link #close()} was called. */
    public boolean isClosed() {
        return file.isClosed();
    }

    /** Closes the device file, ending the mirror; idempotent. */
    @Override
    public void close() throws HmmException {
        file.close();
    }

    @Override
    public String toString() {
        return "HmmDevice[" + path() + (isClosed() ? ", closed]" : "]");
    }
}
