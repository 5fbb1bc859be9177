package dev.hmmmirror.internal;

import dev.hmmmirror.internal.gen.HmmMirrorH;

/**
 * The ioctl commands of the hmm_mirror ABI: request number and the name a kernel developer
 * knows it by (used in errors and traces).
 */
public enum Command {
    VERSION("HMM_MIRROR_IOC_VERSION", HmmMirrorH.HMM_MIRROR_IOC_VERSION()),
    FAULT("HMM_MIRROR_IOC_FAULT", HmmMirrorH.HMM_MIRROR_IOC_FAULT()),
    READ("HMM_MIRROR_IOC_READ", HmmMirrorH.HMM_MIRROR_IOC_READ()),
    WRITE("HMM_MIRROR_IOC_WRITE", HmmMirrorH.HMM_MIRROR_IOC_WRITE()),
    SNAPSHOT("HMM_MIRROR_IOC_SNAPSHOT", HmmMirrorH.HMM_MIRROR_IOC_SNAPSHOT()),
    COUNTERS("HMM_MIRROR_IOC_COUNTERS", HmmMirrorH.HMM_MIRROR_IOC_COUNTERS()),
    SET_DELAY("HMM_MIRROR_IOC_SET_DELAY", HmmMirrorH.HMM_MIRROR_IOC_SET_DELAY()),
    MIGRATE_TO_DEV("HMM_MIRROR_IOC_MIGRATE_TO_DEV", HmmMirrorH.HMM_MIRROR_IOC_MIGRATE_TO_DEV()),
    MIGRATE_TO_SYS("HMM_MIRROR_IOC_MIGRATE_TO_SYS", HmmMirrorH.HMM_MIRROR_IOC_MIGRATE_TO_SYS()),
    EXCLUSIVE("HMM_MIRROR_IOC_EXCLUSIVE", HmmMirrorH.HMM_MIRROR_IOC_EXCLUSIVE()),
    ATOMIC_ADD("HMM_MIRROR_IOC_ATOMIC_ADD", HmmMirrorH.HMM_MIRROR_IOC_ATOMIC_ADD());

    private final String ioctlName;
    private final long request;

    Command(String ioctlName, long request) {
        this.ioctlName = ioctlName;
        this.request = request;
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
