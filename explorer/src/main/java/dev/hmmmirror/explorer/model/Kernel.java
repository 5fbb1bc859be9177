package dev.hmmmirror.explorer.model;

import dev.hmmmirror.Errno;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * The few system calls the explorer needs beyond the public API: guard mappings over the holes a
 * partial unmap leaves (so that nothing else is mapped there while the model calls them holes),
 * {@code MADV_PAGEOUT}, and writes into a child's memory.
 */
final class Kernel {
    static final int PROT_NONE = 0;
    static final int MAP_PRIVATE = 0x02;
    static final int MAP_ANONYMOUS = 0x20;
    static final int MAP_FIXED_NOREPLACE = 0x100000;
    static final int MADV_PAGEOUT = 21;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE.varHandle(java.lang.foreign.MemoryLayout.PathElement.groupElement("errno"));
    private static final MethodHandle MMAP = handle("mmap", FunctionDescriptor.of(ValueLayout.JAVA_LONG,
            ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
            ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
    private static final MethodHandle MUNMAP = handle("munmap", FunctionDescriptor.of(ValueLayout.JAVA_INT,
            ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG));
    private static final MethodHandle MADVISE = handle("madvise", FunctionDescriptor.of(ValueLayout.JAVA_INT,
            ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));

    private Kernel() {}

    private static MethodHandle handle(String name, FunctionDescriptor fd) {
        MemorySegment sym = LINKER.defaultLookup().find(name).orElseThrow();
        return LINKER.downcallHandle(sym, fd, Linker.Option.captureCallState("errno"));
    }

    /** Maps an inaccessible page run at exactly {@code address}; 0 or a negative errno. */
    static int guard(long address, long length) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CAPTURE);
            long r = (long) MMAP.invokeExact(st, address, length, PROT_NONE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0L);
            if (r == -1L) {
                return -(int) ERRNO.get(st, 0L);
            }
            if (r != address) {
                unmap(r, length);
                return -Errno.EEXIST.number();
            }
            return 0;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    static int unmap(long address, long length) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CAPTURE);
            int r = (int) MUNMAP.invokeExact(st, address, length);
            return r < 0 ? -(int) ERRNO.get(st, 0L) : 0;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** {@code madvise}; 0 or a negative errno. */
    static int madvise(long address, long length, int advice) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CAPTURE);
            int r = (int) MADVISE.invokeExact(st, address, length, advice);
            return r < 0 ? -(int) ERRNO.get(st, 0L) : 0;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Writes a 64-bit word into process {@code pid}'s memory, as that process would. */
    static void writeWord(int pid, long address, long value) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.nativeOrder()).putLong(0, value);
        try (FileChannel mem = FileChannel.open(Path.of("/proc/" + pid + "/mem"), StandardOpenOption.WRITE)) {
            if (mem.write(b, address) != 8) {
                throw new IOException("short write to /proc/" + pid + "/mem at 0x" + Long.toHexString(address));
            }
        }
    }

    /**
     * A tmpfs for the file regions: the first of /dev/shm, /tmp, /run that /proc/self/mounts lists
     * as tmpfs (under {@code hmm explore}, /tmp may be the host's directory over 9p, where a shared
     * mapping fails with EINVAL), else the JVM's temporary directory.
     */
    static Path tmpfs() {
        try {
            List<String> mounts = Files.readAllLines(Path.of("/proc/self/mounts"));
            for (String dir : List.of("/dev/shm", "/tmp", "/run")) {
                for (String m : mounts) {
                    String[] f = m.split(" ");
                    if (f.length > 2 && f[1].equals(dir) && f[2].equals("tmpfs") && Files.isWritable(Path.of(dir))) {
                        return Path.of(dir);
                    }
                }
            }
        } catch (IOException e) {
            // no /proc: fall back
        }
        return Path.of(System.getProperty("java.io.tmpdir"));
    }

    /** Whether the guest has swap space (a write of {@code MADV_PAGEOUT} may reach it). */
    static boolean hasSwap() {
        try {
            return Files.readAllLines(Path.of("/proc/swaps")).size() > 1;
        } catch (IOException e) {
            return false;
        }
    }

    /** Free hugetlb pages of the default size, after asking for {@code wanted} in all. */
    static long reserveHugetlb(int wanted) {
        Path nr = Path.of("/proc/sys/vm/nr_hugepages");
        try {
            if (Long.parseLong(Files.readString(nr).strip()) < wanted) {
                Files.writeString(nr, Integer.toString(wanted));
            }
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("HugePages_Free:")) {
                    return Long.parseLong(line.substring(15).strip());
                }
            }
        } catch (IOException | RuntimeException e) {
            return 0;
        }
        return 0;
    }

    /** Compacts all zones ({@code /proc/sys/vm/compact_memory}); false where the kernel cannot. */
    static boolean compact() {
        try {
            Files.writeString(Path.of("/proc/sys/vm/compact_memory"), "1");
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    static boolean canCompact() {
        return Files.isWritable(Path.of("/proc/sys/vm/compact_memory"));
    }
}
