package dev.hmmmirror.guest.mm;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.hmmmirror.explorer.ChildJvm;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The guest's memory-management machinery, set up on demand and detected, never assumed: a test
 * whose kernel lacks a piece is skipped naming the kernel option that is missing.
 * Swap is a zram device (the guest root is 9p, which cannot hold a swap file; zram works the same
 * on the stock kernels, as a module, and on the built ones, built in).
 */
public final class Machinery {
    public static final Path CGROUP = Path.of("/sys/fs/cgroup");
    /** Device 0's sysfs directory: the module's counters and test aids ({@code kmod/main.c}). */
    public static final Path MIRROR0 = Path.of("/sys/class/misc/hmm_mirror0");
    /** The module's test aid: a process writing N gets classic notifiers whose blocking starts sleep N ms. */
    public static final Path CLASSIC_NOTIFIERS = MIRROR0.resolve("classic_notifiers");

    private Machinery() {}

    /** Runs a command in the guest; returns its exit code and output. */
    public record Result(int code, String output) {}

    /** {@link #sh(Duration, String...)} with 120 s. */
    public static Result sh(String... cmd) {
        return sh(Duration.ofSeconds(120), cmd);
    }

    /**
     * Runs a command in the guest and returns its exit code and output; a command still running after
     * {@code limit} is killed (SIGKILL) and the call fails with what it printed so far. (The output goes
     * to a file, not a pipe: reading a pipe to its end would wait for a hung command forever.)
     */
    public static Result sh(Duration limit, String... cmd) {
        Path out = null;
        try {
            out = Files.createTempFile("hmm-sh", ".out");
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
            if (!p.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                boolean ended = p.waitFor(10, TimeUnit.SECONDS);
                throw new CommandTimeout(String.join(" ", cmd) + ": no exit within " + limit.toSeconds() + " s ("
                        + (ended ? "killed" : "still running after SIGKILL") + "); its output: "
                        + Files.readString(out, StandardCharsets.UTF_8).strip());
            }
            return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8).strip());
        } catch (IOException e) {
            throw new AssertionError(String.join(" ", cmd) + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        } finally {
            if (out != null) {
                try {
                    Files.deleteIfExists(out);
                } catch (IOException ignored) {
                    // a temporary file of the guest's tmpfs: gone with the guest
                }
            }
        }
    }

    /** A command of {@link #sh(Duration, String...)} that did not exit in time. */
    public static final class CommandTimeout extends AssertionError {
        private static final long serialVersionUID = 1L;

        CommandTimeout(String message) {
            super(message);
        }
    }

    /** Swap in use on {@code device}, in KiB, from /proc/swaps (-1 where it is not on). */
    private static long swapUsedKib(String device) {
        return read(Path.of("/proc/swaps")).lines().skip(1).map(l -> l.split("\\s+"))
                .filter(f -> f[0].equals(device)).mapToLong(f -> Long.parseLong(f[3])).findFirst().orElse(-1);
    }

    /**
     * Turns a swap device off. swapoff reads every page still in use on it back through the page tables
     * that reference it; a swap slot that no page table references any more (a swap entry the kernel
     * overwrote or dropped without freeing it) makes it search forever. So it gets 60 s, and then the
     * failure says how much of the device was still in use (the device then stays on).
     */
    public static void swapoff(String device) {
        long used = swapUsedKib(device);
        Result off;
        try {
            off = sh(Duration.ofSeconds(60), "swapoff", device);
        } catch (CommandTimeout e) {
            throw new AssertionError("swapoff " + device + " did not finish in 60 s with " + used
                    + " KiB of it in use after the test freed its memory: a swap slot no page table references"
                    + " any more (the kernel overwrote or dropped a swap entry without freeing its slot); "
                    + e.getMessage(), e);
        }
        if (off.code() != 0) {
            throw new AssertionError("swapoff " + device + ": " + off.output());
        }
    }

    /**
     * A second guest JVM running {@code main} with this one's class path (C1 only, serial GC: it starts fast),
     * its output and errors on one stream.
     */
    public static Process childJvm(Class<?> main) throws IOException {
        return new ProcessBuilder(ChildJvm.command(main.getName(), "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                "--enable-native-access=ALL-UNNAMED")).redirectErrorStream(true).start();
    }

    public static void write(Path file, String value) {
        try {
            Files.writeString(file, value);
        } catch (IOException e) {
            throw new AssertionError("writing '" + value.strip() + "' to " + file + ": " + e.getMessage(), e);
        }
    }

    public static String read(Path file) {
        try {
            return Files.readString(file).strip();
        } catch (IOException e) {
            throw new AssertionError("reading " + file + ": " + e.getMessage(), e);
        }
    }

    public static long readLong(Path file) {
        return Long.parseLong(read(file).split("\\s+")[0]);
    }

    /** The kernel profile this guest runs ({@code -Dhmm.kernel} from the host). */
    public static String kernel() {
        return System.getProperty("hmm.kernel", System.getProperty("os.version"));
    }

    /** Two online NUMA nodes, or the test is skipped. */
    public static void requireTwoNodes() {
        assumeTrue(Files.isDirectory(Path.of("/sys/devices/system/node/node1")),
                "the guest has one NUMA node: the kernel lacks CONFIG_NUMA (or CONFIG_ACPI_NUMA to read QEMU's SRAT)");
    }

    /** Swap on zram, set up once per guest. */
    public static synchronized void requireSwap() {
        if (read(Path.of("/proc/swaps")).lines().count() > 1) {
            return;
        }
        assumeTrue(Files.exists(Path.of("/proc/swaps")), "the kernel lacks CONFIG_SWAP");
        if (!Files.exists(Path.of("/sys/block/zram0"))) {
            Result r = sh("modprobe", "zram", "num_devices=1");
            assumeTrue(Files.exists(Path.of("/sys/block/zram0")),
                    "no zram device: the kernel lacks CONFIG_ZRAM (modprobe zram: " + r.output() + ")");
        }
        write(Path.of("/sys/block/zram0/disksize"), "256M");
        Result mk = sh("mkswap", "/dev/zram0");
        if (mk.code() != 0) {
            throw new AssertionError("mkswap /dev/zram0: " + mk.output());
        }
        Result on = sh("swapon", "/dev/zram0");
        assumeTrue(on.code() == 0, "swapon /dev/zram0 failed (CONFIG_SWAP?): " + on.output());
    }

    /**
     * Swap on zram for as long as this is open: set up as {@link #requireSwap()} does, and turned
     * off again on close where this set it up (a later test of the guest finds it as it was).
     */
    public static synchronized SwapHold holdSwap() {
        boolean wasOn = read(Path.of("/proc/swaps")).lines().count() > 1;
        requireSwap();
        return new SwapHold(!wasOn);
    }

    /**
     * Swap on a loop device over a file in a tmpfs of its own, the only swap for as long as this is open
     * (the devices on before are turned off, and on again at close: a CPU keeps allocating swap from the
     * device it used last, whatever the priorities say). Unlike zram (a synchronous device: a page read back
     * from it with one reference skips the swap cache), a page swapped in from it stays in the swap cache
     * with its swap slot, clean, until it is written again or reclaimed: what reclaim may drop unwritten.
     */
    public static synchronized LoopSwap holdLoopSwap() throws IOException {
        assumeTrue(Files.exists(Path.of("/proc/swaps")), "the kernel lacks CONFIG_SWAP");
        List<String> others = read(Path.of("/proc/swaps")).lines().skip(1).map(l -> l.split("\\s+")[0]).toList();
        for (String other : others) {
            swapoff(other);
        }
        Path dir = Files.createTempDirectory("hmm-loopswap");
        LoopSwap swap = new LoopSwap(dir, null, others);
        try {
            Result mount = sh("mount", "-t", "tmpfs", "-o", "size=72m", "tmpfs", dir.toString());
            assumeTrue(mount.code() == 0, "mount -t tmpfs failed: " + mount.output());
            Path file = dir.resolve("swap");
            // a modular loop driver (Debian's kernels) is not loaded by losetup without udev
            Result loaded = Files.exists(Path.of("/dev/loop-control")) ? null : sh("modprobe", "loop");
            Result made = sh("sh", "-c", "truncate -s 64M " + file + " && losetup -f --show " + file);
            assumeTrue(made.code() == 0, "no loop device (CONFIG_BLK_DEV_LOOP, losetup): " + made.output()
                    + (loaded == null ? "" : "; modprobe loop: " + loaded.output()));
            swap = new LoopSwap(dir, made.output().strip().lines().reduce((a, b) -> b).orElseThrow(), others);
            Result mk = sh("mkswap", swap.device());
            Result on = mk.code() == 0 ? sh("swapon", swap.device()) : mk;
            if (on.code() != 0) {
                throw new AssertionError("swap on " + swap.device() + ": " + on.output());
            }
            return swap;
        } catch (RuntimeException | Error e) {
            swap.close();
            throw e;
        }
    }

    /**
     * The loop device swap of {@link #holdLoopSwap()}: turned off, detached and unmounted on close, and the
     * swap devices that were on ({@code others}) on again.
     */
    public record LoopSwap(Path dir, String device, List<String> others) implements AutoCloseable {
        @Override
        public void close() {
            if (device != null) {
                swapoff(device);
                sh("losetup", "-d", device);
            }
            for (String other : others) {
                Result on = sh("swapon", other);
                if (on.code() != 0) {
                    throw new AssertionError("swapon " + other + " (on before the loop device swap): " + on.output());
                }
            }
            sh("umount", dir.toString()); // fails only where the mount did
            try {
                Files.deleteIfExists(dir);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
    }

    /** What {@link #holdSwap()} turned on ({@code madeHere}), to be turned off on close. */
    public record SwapHold(boolean madeHere) implements AutoCloseable {
        @Override
        public void close() {
            if (madeHere) {
                swapoff("/dev/zram0");
                write(Path.of("/sys/block/zram0/reset"), "1");
            }
        }
    }

    /**
     * Writes {@code value} to a kernel setting ({@code /proc/sys}, sysfs) for as long as the returned
     * hold is open; closing it writes the old value back (nothing where the file is absent).
     */
    public static Setting set(Path file, String value) {
        if (!Files.exists(file)) {
            return new Setting(file, null);
        }
        String old = read(file);
        write(file, value);
        return new Setting(file, old);
    }

    /** A setting {@link #set} changed: {@code old} is written back on close (null: nothing to do). */
    public record Setting(Path file, String old) implements AutoCloseable {
        @Override
        public void close() {
            if (old != null) {
                write(file, old);
            }
        }
    }

    /** KSM's sysfs control, or the test is skipped. */
    public static Path requireKsm() {
        Path ksm = Path.of("/sys/kernel/mm/ksm");
        assumeTrue(Files.isDirectory(ksm), "the kernel lacks CONFIG_KSM");
        return ksm;
    }

    /**
     * The values of these kernel settings now, written back on close: a test leaves the kernel's
     * settings as it found them (the guest agent fails a test that does not). Files that do not
     * exist on this kernel are left out.
     */
    private static AutoCloseable keep(Path... knobs) {
        Map<Path, String> old = new LinkedHashMap<>();
        for (Path k : knobs) {
            if (Files.exists(k)) {
                old.put(k, read(k));
            }
        }
        return () -> old.forEach(Machinery::write);
    }

    /**
     * {@code n} free hugetlb pages of {@code size} bytes reserved (its pool in
     * {@code /sys/kernel/mm/hugepages/hugepages-KBkB}), or the test is skipped; closing the result
     * puts the pool's size back.
     */
    public static AutoCloseable requireHugetlbPages(int n, long size) throws Exception {
        assumeTrue(Files.exists(Path.of("/proc/sys/vm/nr_hugepages")), "the kernel lacks CONFIG_HUGETLBFS");
        Path pool = Path.of("/sys/kernel/mm/hugepages/hugepages-" + (size >> 10) + "kB");
        assumeTrue(Files.isDirectory(pool), "the kernel has no " + (size >> 10) + " kB hugetlb pages: "
                + sh("ls", "/sys/kernel/mm/hugepages").output().strip());
        Path nr = pool.resolve("nr_hugepages");
        Path free = pool.resolve("free_hugepages");
        AutoCloseable kept = keep(nr);
        if (readLong(free) < n) {
            write(nr, Long.toString(readLong(nr) + n - readLong(free)));
        }
        if (readLong(free) < n) {
            kept.close();
            assumeTrue(false, "could not reserve " + n + " hugetlb pages of " + (size >> 10)
                    + " kB (memory too fragmented?)");
        }
        return kept;
    }

    /** The cgroup v2 hierarchy with the memory controller for child groups, mounted on demand. */
    public static synchronized Path requireMemcg() {
        if (!Files.exists(CGROUP.resolve("cgroup.controllers"))) {
            sh("mkdir", "-p", CGROUP.toString());
            Result r = sh("mount", "-t", "cgroup2", "none", CGROUP.toString());
            assumeTrue(r.code() == 0, "cannot mount cgroup2: the kernel lacks CONFIG_CGROUPS (" + r.output() + ")");
        }
        assumeTrue(read(CGROUP.resolve("cgroup.controllers")).contains("memory"),
                "no memory controller: the kernel lacks CONFIG_MEMCG");
        if (!read(CGROUP.resolve("cgroup.subtree_control")).contains("memory")) {
            write(CGROUP.resolve("cgroup.subtree_control"), "+memory");
        }
        return CGROUP;
    }

    /** A fresh child memory cgroup. */
    public static Path memcg(String name) {
        Path g = requireMemcg().resolve(name);
        try {
            if (Files.isDirectory(g)) {
                Files.delete(g);
            }
            Files.createDirectory(g);
        } catch (IOException e) {
            throw new AssertionError("creating cgroup " + g + ": " + e.getMessage(), e);
        }
        return g;
    }

    /** An ext4 file system on a loop device over a tmpfs file, mounted at {@code dir}. */
    public static void requireExt4(Path dir, int mib) {
        sh("modprobe", "loop");
        sh("modprobe", "ext4");
        assumeTrue(read(Path.of("/proc/filesystems")).contains("ext4"), "the kernel lacks CONFIG_EXT4_FS");
        assumeTrue(sh("sh", "-c", "command -v mkfs.ext4").code() == 0, "the guest userland lacks e2fsprogs");
        Path img = Path.of("/tmp/hmm-ext4.img");
        List<String[]> steps = List.of(
                new String[] {"truncate", "-s", mib + "M", img.toString()},
                new String[] {"mkfs.ext4", "-q", "-F", img.toString()},
                new String[] {"mkdir", "-p", dir.toString()},
                new String[] {"mount", "-o", "loop", img.toString(), dir.toString()});
        for (String[] s : steps) {
            Result r = sh(s);
            if (s[0].equals("mount")) {
                assumeTrue(r.code() == 0, "cannot mount ext4 on a loop device (CONFIG_BLK_DEV_LOOP?): " + r.output());
            } else if (r.code() != 0) {
                throw new AssertionError(String.join(" ", s) + ": " + r.output());
            }
        }
    }

    public static void unmountExt4(Path dir) {
        sh("umount", dir.toString());
        sh("rm", "-f", "/tmp/hmm-ext4.img");
    }

    /** Drops the clean page cache (and slab), as {@code echo 3 > /proc/sys/vm/drop_caches}. */
    public static void dropCaches() {
        write(Path.of("/proc/sys/vm/drop_caches"), "3");
    }
}
