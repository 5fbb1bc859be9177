package dev.hmmmirror.guest;

import dev.hmmmirror.HmmException;
import dev.hmmmirror.raw.RawBuffer;
import dev.hmmmirror.raw.RawDevice;

/**
 * The kernel's own test driver, {@code lib/test_hmm.c} ({@code /dev/hmm_dmirrorN}), through its
 * uapi ({@code struct hmm_dmirror_cmd}: addr, ptr, npages, cpages, faults; {@code _IOWR('H', n,
 * 40)}), for differential runs beside hmm_mirror. Written from the uapi's documented layout (see
 * FACTS.md), not from its header.
 */
final class TestHmmDevice implements AutoCloseable {
    static final String PREFIX = "/dev/hmm_dmirror";
    private static final long CMD_SIZE = 40;
    private static final int READ = 0;
    private static final int WRITE = 1;
    private static final int MIGRATE_TO_DEV = 2;
    private static final int MIGRATE_TO_SYS = 3;
    private static final int SNAPSHOT = 4;
    private static final int EXCLUSIVE = 5;
    private static final int CHECK_EXCLUSIVE = 6;
    private static final int RELEASE = 7;
    private static final int FLAGS = 8;
    /** {@code HMM_DMIRROR_FLAG_FAIL_ALLOC}: the next device allocation (a THP's large one first) fails. */
    static final long FLAG_FAIL_ALLOC = 1;

    /** Page state bits of test_hmm's snapshot byte. */
    static final int PROT_ERROR = 0xff;
    static final int PROT_READ = 0x01;
    static final int PROT_WRITE = 0x02;
    static final int PROT_PMD = 0x04;
    static final int PROT_PUD = 0x08;
    static final int PROT_ZERO = 0x10;
    static final int DEV_PRIVATE_LOCAL = 0x20;
    static final int DEV_PRIVATE_REMOTE = 0x30;

    /** What one command reported: pages handled, and hmm_range_fault() calls made. */
    record Result(long cpages, long faults) {}

    private final RawDevice dev;
    private final long pageSize;

    private TestHmmDevice(RawDevice dev, long pageSize) {
        this.dev = dev;
        this.pageSize = pageSize;
    }

    static TestHmmDevice open(int index, long pageSize) throws HmmException {
        return new TestHmmDevice(RawDevice.open(PREFIX + index), pageSize);
    }

    private static long request(int nr) {
        return (3L << 30) | (CMD_SIZE << 16) | ('H' << 8) | nr;
    }

    private Result cmd(int nr, long addr, RawBuffer buf, long npages) throws HmmException {
        RawBuffer c = RawBuffer.allocate(CMD_SIZE).setLong(0, addr).setLong(8, buf == null ? 0 : buf.address())
                .setLong(16, npages);
        try {
            dev.ioctl(request(nr), c);
        } finally {
            // the command holds buf's address only: keep it allocated until test_hmm is done with it
            java.lang.ref.Reference.reachabilityFence(buf);
        }
        return new Result(c.getLong(24), c.getLong(32));
    }

    /** Device read: the bytes, and the counts. */
    byte[] read(long addr, long npages, Result[] out) throws HmmException {
        RawBuffer b = RawBuffer.allocate(npages * pageSize);
        out[0] = cmd(READ, addr, b, npages);
        return b.bytes();
    }

    Result write(long addr, byte[] data) throws HmmException {
        RawBuffer b = RawBuffer.allocate(data.length).set(0, data);
        return cmd(WRITE, addr, b, data.length / pageSize);
    }

    /** Migrates to the device; test_hmm copies what it migrated into the command's buffer too. */
    Result migrateToDevice(long addr, long npages) throws HmmException {
        return cmd(MIGRATE_TO_DEV, addr, RawBuffer.allocate(npages * pageSize), npages);
    }

    Result migrateToSystem(long addr, long npages) throws HmmException {
        return cmd(MIGRATE_TO_SYS, addr, RawBuffer.allocate(npages * pageSize), npages);
    }

    byte[] snapshot(long addr, long npages) throws HmmException {
        RawBuffer b = RawBuffer.allocate(npages);
        cmd(SNAPSHOT, addr, b, npages);
        return b.bytes();
    }

    /** Makes the pages device-exclusive (test_hmm maps them atomic in its page table). */
    Result makeExclusive(long addr, long npages) throws HmmException {
        return cmd(EXCLUSIVE, addr, RawBuffer.allocate(npages * pageSize), npages);
    }

    /** Fails with EPERM while any of the pages is still mapped atomic (exclusive) by the device. */
    Result checkExclusive(long addr, long npages) throws HmmException {
        return cmd(CHECK_EXCLUSIVE, addr, null, npages);
    }

    /**
     * Evicts all of the device's memory back to system memory and frees its chunks. The range is
     * not used, but test_hmm refuses an empty one (EINVAL) before looking at the command.
     */
    void release() throws HmmException {
        cmd(RELEASE, 0, null, 1);
    }

    /** Sets the mirror's flags ({@link #FLAG_FAIL_ALLOC}); test_hmm takes them in npages. */
    void flags(long flags) throws HmmException {
        cmd(FLAGS, 0, null, flags);
    }

    @Override
    public void close() throws HmmException {
        dev.close();
    }
}
