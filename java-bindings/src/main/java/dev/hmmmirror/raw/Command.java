package dev.hmmmirror.raw;

import dev.hmmmirror.internal.gen.HmmMirrorH;

/**
 * The ioctl commands of the hmm_mirror ABI: request number, the name a kernel developer knows it
 * by (used in errors and traces) and the struct it takes.
 */
public enum Command {
    VERSION("HMM_MIRROR_IOC_VERSION", HmmMirrorH.HMM_MIRROR_IOC_VERSION(), Struct.VERSION),
    FAULT("HMM_MIRROR_IOC_FAULT", HmmMirrorH.HMM_MIRROR_IOC_FAULT(), Struct.RANGE),
    READ("HMM_MIRROR_IOC_READ", HmmMirrorH.HMM_MIRROR_IOC_READ(), Struct.RW),
    WRITE("HMM_MIRROR_IOC_WRITE", HmmMirrorH.HMM_MIRROR_IOC_WRITE(), Struct.RW),
    SNAPSHOT("HMM_MIRROR_IOC_SNAPSHOT", HmmMirrorH.HMM_MIRROR_IOC_SNAPSHOT(), Struct.SNAPSHOT),
    COUNTERS("HMM_MIRROR_IOC_COUNTERS", HmmMirrorH.HMM_MIRROR_IOC_COUNTERS(), Struct.COUNTERS),
    SET_DELAY("HMM_MIRROR_IOC_SET_DELAY", HmmMirrorH.HMM_MIRROR_IOC_SET_DELAY(), Struct.DELAY),
    MIGRATE_TO_DEV("HMM_MIRROR_IOC_MIGRATE_TO_DEV", HmmMirrorH.HMM_MIRROR_IOC_MIGRATE_TO_DEV(), Struct.MIGRATE),
    MIGRATE_TO_SYS("HMM_MIRROR_IOC_MIGRATE_TO_SYS", HmmMirrorH.HMM_MIRROR_IOC_MIGRATE_TO_SYS(), Struct.MIGRATE),
    EXCLUSIVE("HMM_MIRROR_IOC_EXCLUSIVE", HmmMirrorH.HMM_MIRROR_IOC_EXCLUSIVE(), Struct.RANGE),
    ATOMIC_ADD("HMM_MIRROR_IOC_ATOMIC_ADD", HmmMirrorH.HMM_MIRROR_IOC_ATOMIC_ADD(), Struct.ATOMIC),
    PAGES("HMM_MIRROR_IOC_PAGES", HmmMirrorH.HMM_MIRROR_IOC_PAGES(), Struct.PAGES),
    INJECT("HMM_MIRROR_IOC_INJECT", HmmMirrorH.HMM_MIRROR_IOC_INJECT(), Struct.INJECT);

    private final String ioctlName;
    private final long request;
    private final Struct struct;

    Command(String ioctlName, long request, Struct struct) {
        this.ioctlName = ioctlName;
        this.request = request;
        this.struct = struct;
    }

    /** The struct the header says this command takes. */
    public Struct struct() {
        return struct;
    }

    /** The macro name in {@code hmm_mirror.h}. */
    public String ioctlName() {
        return ioctlName;
    }

    /** The request number passed to {@code ioctl(2)}. */
    public long request() {
        return request;
    }
}
