package dev.hmmmirror.internal;

import dev.hmmmirror.internal.gen.HmmMirrorH;

/**
 * The ioctl commands of the hmm_mirror ABI: request number and the name a kernel developer
 * knows it by (used in errors and traces).
 */
public enum Command {
    VERSION("HMM_MIRROR_IOC_VERSION", HmmMirrorH.HMM_MIRROR_IOC_VERSION());

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
