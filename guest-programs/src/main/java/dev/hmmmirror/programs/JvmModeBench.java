package dev.hmmmirror.programs;

import dev.hmmmirror.Access;
import dev.hmmmirror.Memory;
import dev.hmmmirror.Mirror;
import java.lang.management.ManagementFactory;
import java.util.Locale;

/**
 * What a guest JVM mode costs a test body: the JVM's start to main, a first mirror result (open,
 * fault, read 16 pages), then filling 64 MiB from Java with setLong and reading it back through the
 * device, all in one JVM. Run it under each mode side by side in one guest (docs/performance.md, "Guest JVM mode"):
 * {@code hmm run -- sh -c 'for f in -Xint -XX:TieredStopAtLevel=1 ""; do java $f ... JvmModeBench; done'}.
 */
public final class JvmModeBench {
    private JvmModeBench() {}

    public static void main(String[] args) throws Exception {
        double toMain = ManagementFactory.getRuntimeMXBean().getUptime() / 1e3;
        long t0 = System.nanoTime();
        try (Mirror mirror = Mirror.open(0); Memory small = Memory.anonymous(16)) {
            small.fill((byte) 1);
            mirror.fault(small, Access.READ);
            mirror.read(small.address(), 16);
        }
        double first = (System.nanoTime() - t0) / 1e9;
        long pages = (64L << 20) / Memory.pageSize();
        double fill;
        double read;
        try (Mirror mirror = Mirror.open(0); Memory mem = Memory.anonymous(pages)) {
            long t1 = System.nanoTime();
            for (long off = 0; off < pages * Memory.pageSize(); off += Long.BYTES) {
                mem.setLong(off, off);
            }
            fill = (System.nanoTime() - t1) / 1e9;
            long t2 = System.nanoTime();
            mirror.fault(mem, Access.READ);
            byte[] page = mirror.read(mem.address() + (pages - 1) * Memory.pageSize(), 1);
            read = (System.nanoTime() - t2) / 1e9;
            if (page[8] != (byte) ((pages - 1) * Memory.pageSize() + 8)) {
                throw new AssertionError("the device read something else than the CPU wrote");
            }
        }
        System.out.printf(Locale.ROOT, "jvm-mode %-28s start-to-main %6.2f s  first-result %6.2f s  fill-64MiB %6.2f s"
                + "  fault+read-64MiB %6.2f s%n", args.length > 0 ? args[0] : "?", toMain, first, fill, read);
    }
}
