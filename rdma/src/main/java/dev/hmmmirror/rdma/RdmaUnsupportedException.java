package dev.hmmmirror.rdma;

/**
 * What the running kernel or userland lacks for an RDMA feature: the message names the kernel
 * release (or library) and what is missing, e.g. rxe without On-Demand Paging on Linux 6.12.
 * The errno is {@code EOPNOTSUPP} unless a call returned another one.
 */
public class RdmaUnsupportedException extends RdmaException {
    private static final long serialVersionUID = 1L;

    /**
     * Builds the exception.
     *
     * @param what   the feature, e.g. {@code "On-Demand Paging RDMA READ"}
     * @param target the device or library, e.g. {@code "rxe0"}
     * @param errno  the positive errno (95, EOPNOTSUPP, when no call failed)
     * @param why    which kernel or package lacks what, and what to do
     */
    public RdmaUnsupportedException(String what, String target, int errno, String why) {
        super(what, target, errno, why);
    }
}
