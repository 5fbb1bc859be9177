package dev.hmmmirror.rdma;

/**
 * A work request completed with an error status. The message names the status
 * ({@code ibv_wc_status_str}), the operation and the addresses; the errno is {@code EIO}
 * (a completion carries no errno).
 */
public class WorkCompletionException extends RdmaException {
    private static final long serialVersionUID = 1L;
    private static final int EIO = 5;

    private final WorkCompletionStatus status;
    private final int vendorError;

    /**
     * Builds the exception.
     *
     * @param operation   the work request, e.g. {@code "RDMA READ 4096 bytes from 0x7f.. rkey 0x12"}
     * @param target      the device and QP
     * @param status      the completion status
     * @param text        libibverbs' text for the status
     * @param vendorError the provider's {@code vendor_err}
     */
    public WorkCompletionException(String operation, String target, WorkCompletionStatus status, String text,
            int vendorError) {
        super(operation, target, EIO, "work completion " + status + " (" + text + "), vendor error " + vendorError);
        this.status = status;
        this.vendorError = vendorError;
    }

    /**
     * The completion status.
     *
     * @return the status the work completion carried (never {@link WorkCompletionStatus#SUCCESS})
     */
    public WorkCompletionStatus status() {
        return status;
    }

    /**
     * The provider's vendor error of the completion.
     *
     * @return {@code ibv_wc.vendor_err}
     */
    public int vendorError() {
        return vendorError;
    }
}
