package dev.hmmmirror.raw;

import dev.hmmmirror.internal.gen.HmmMirrorH;

/**
 * The ioctl commands of the hmm_mirror ABI: request number, the name a kernel developer knows it
 * by (used in errors and traces) and the struct it takes.
 */
public enum Command {
    /** ABI version, capabilities, page size and device count of the loaded module. */
    VERSION("HMM_MIRROR_IOC_VERSION", HmmMirrorH.HMM_MIRROR_IOC_VERSION(), Struct.VERSION),
    /** Fault a range into the device page table ({@code hmm_range_fault}); flags: {@code HMM_MIRROR_FAULT_WRITE}. */
    FAULT("HMM_MIRROR_IOC_FAULT", HmmMirrorH.HMM_MIRROR_IOC_FAULT(), Struct.RANGE),
    /** Copy a range out through the device page table into {@code ptr}, faulting missing pages. */
    READ("HMM_MIRROR_IOC_READ", HmmMirrorH.HMM_MIRROR_IOC_READ(), Struct.RW),
    /** Copy {@code ptr} into a range through the device page table, write-faulting missing pages. */
    WRITE("HMM_MIRROR_IOC_WRITE", HmmMirrorH.HMM_MIRROR_IOC_WRITE(), Struct.RW),
    /** One {@code HMM_MIRROR_PAGE_*} state byte per page into {@code ptr}, faulting nothing. */
    SNAPSHOT("HMM_MIRROR_IOC_SNAPSHOT", HmmMirrorH.HMM_MIRROR_IOC_SNAPSHOT(), Struct.SNAPSHOT),
    /** The mirror's statistics counters. */
    COUNTERS("HMM_MIRROR_IOC_COUNTERS", HmmMirrorH.HMM_MIRROR_IOC_COUNTERS(), Struct.COUNTERS),
    /** Make every device page-table update of an invalidation take {@code delay_us}. */
    SET_DELAY("HMM_MIRROR_IOC_SET_DELAY", HmmMirrorH.HMM_MIRROR_IOC_SET_DELAY(), Struct.DELAY),
    /** Move the private anonymous pages of a range into this device's device-private memory. */
    MIGRATE_TO_DEV("HMM_MIRROR_IOC_MIGRATE_TO_DEV", HmmMirrorH.HMM_MIRROR_IOC_MIGRATE_TO_DEV(), Struct.MIGRATE),
    /** Move the pages of a range in this device's memory back to system memory. */
    MIGRATE_TO_SYS("HMM_MIRROR_IOC_MIGRATE_TO_SYS", HmmMirrorH.HMM_MIRROR_IOC_MIGRATE_TO_SYS(), Struct.MIGRATE),
    /** Make each page of a range device-exclusive ({@code make_device_exclusive}); {@code flags} must be 0. */
    EXCLUSIVE("HMM_MIRROR_IOC_EXCLUSIVE", HmmMirrorH.HMM_MIRROR_IOC_EXCLUSIVE(), Struct.RANGE),
    /** Device atomic fetch-and-add on an 8-byte aligned word, through a device-exclusive entry. */
    ATOMIC_ADD("HMM_MIRROR_IOC_ATOMIC_ADD", HmmMirrorH.HMM_MIRROR_IOC_ATOMIC_ADD(), Struct.ATOMIC),
    /** Per page, CPU and device page frame numbers, refcount and mapcount into {@code ptr}; CAP_SYS_ADMIN only. */
    PAGES("HMM_MIRROR_IOC_PAGES", HmmMirrorH.HMM_MIRROR_IOC_PAGES(), Struct.PAGES),
    /** Swap the mirror's fault-injection settings (failed allocations, busy faults, failed copies, copy delay). */
    INJECT("HMM_MIRROR_IOC_INJECT", HmmMirrorH.HMM_MIRROR_IOC_INJECT(), Struct.INJECT),
    /**
     * Add a range to the mirror's event scope ({@code HMM_MIRROR_SCOPE_ADD}) or empty it
     * ({@code HMM_MIRROR_SCOPE_CLEAR}): with ranges, only invalidations overlapping one are recorded.
     */
    EVENT_SCOPE("HMM_MIRROR_IOC_EVENT_SCOPE", HmmMirrorH.HMM_MIRROR_IOC_EVENT_SCOPE(), Struct.EVENT_SCOPE);

    private final String ioctlName;
    private final long request;
    private final Struct struct;

    Command(String ioctlName, long request, Struct struct) {
        this.ioctlName = ioctlName;
        this.request = request;
        this.struct = struct;
    }

    /**
     * The struct the header says this command takes.
     *
     * @return the argument's struct (e.g. {@link Struct#RANGE} for both {@link #FAULT} and {@link #EXCLUSIVE})
     */
    public Struct struct() {
        return struct;
    }

    /**
     * The macro name in {@code hmm_mirror.h}.
     *
     * @return e.g. {@code "HMM_MIRROR_IOC_FAULT"}
     */
    public String ioctlName() {
        return ioctlName;
    }

    /**
     * The request number passed to {@code ioctl(2)}.
     *
     * @return the {@code _IOW}/{@code _IOWR} value of the macro: magic 0xB6, the command number, the struct size
     */
    public long request() {
        return request;
    }
}
