package dev.hmmmirror.programs;

import dev.hmmmirror.Capability;
import dev.hmmmirror.Memory;
import dev.hmmmirror.Migration;
import dev.hmmmirror.Mirror;
import java.util.Locale;

/**
 * Migration throughput benchmark, run in the guest: pages moved to device memory and back
 * (explicitly) per second, for 1, 64 and 512 base pages and for one 2 MiB THP range, in MiB/s.
 */
public final class MigrationBench {
    private MigrationBench() {}

    public static void main(String[] args) throws Exception {
        try (Mirror mirror = Mirror.open(0)) {
            if (!mirror.version().has(Capability.MIGRATE)) {
                System.out.println("kernel " + System.getProperty("os.version")
                        + " has no CONFIG_DEVICE_PRIVATE: no migration benchmark");
                return;
            }
            System.out.printf(Locale.ROOT, "migration throughput, /dev/hmm_mirror0, kernel %s%n",
                    System.getProperty("os.version"));
            System.out.printf(Locale.ROOT, "%-14s %8s %16s %16s%n", "range", "rounds", "to device MiB/s",
                    "to system MiB/s");
            for (long pages : new long[] {1, 64, 512}) {
                try (Memory mem = Memory.anonymous(pages)) {
                    run(mirror, mem, pages + " pages");
                }
            }
            try (Memory thp = Memory.hugeAnonymous(1)) {
                run(mirror, thp, "2 MiB THP");
            }
        }
    }

    private static void run(Mirror mirror, Memory mem, String label) throws Exception {
        long bytes = mem.byteSize();
        long toDev = 0;
        long toSys = 0;
        int rounds = 0;
        long deadline = System.nanoTime() + 4_000_000_000L;
        while (System.nanoTime() < deadline || rounds < 3) {
            mem.fill((byte) rounds); // populated system pages (THP: first touch allocates it)
            long t0 = System.nanoTime();
            Migration m = mirror.migrateToDevice(mem.address(), mem.pages());
            long t1 = System.nanoTime();
            Migration back = mirror.migrateToSystem(mem.address(), mem.pages());
            long t2 = System.nanoTime();
            if (m.migrated() != mem.pages() || back.migrated() != mem.pages()) {
                throw new IllegalStateException(label + ": moved " + m + " / " + back);
            }
            toDev += t1 - t0;
            toSys += t2 - t1;
            rounds++;
        }
        System.out.printf(Locale.ROOT, "%-14s %8d %16.1f %16.1f%n", label, rounds,
                mib(bytes * rounds, toDev), mib(bytes * rounds, toSys));
    }

    private static double mib(long bytes, long nanos) {
        return bytes / (1024.0 * 1024.0) / (nanos / 1e9);
    }
}
