package dev.hmmmirror.rdma;

/**
 * The status of a work completion ({@code enum ibv_wc_status} of {@code verbs.h}, in its order;
 * a host test checks every value against the generated bindings).
 */
public enum WorkCompletionStatus {
    /** The work request completed. */
    SUCCESS,
    /** Local length error: a scatter/gather entry too long or too short. */
    LOC_LEN_ERR,
    /** Local QP operation error. */
    LOC_QP_OP_ERR,
    /** Local EE context operation error. */
    LOC_EEC_OP_ERR,
    /** Local protection error: the local buffer is not in the MR, or the MR lacks the access. */
    LOC_PROT_ERR,
    /** Flushed: the QP went to the error state before this request ran. */
    WR_FLUSH_ERR,
    /** Memory window bind error. */
    MW_BIND_ERR,
    /** Bad response from the responder. */
    BAD_RESP_ERR,
    /** Local access error. */
    LOC_ACCESS_ERR,
    /** Remote invalid request. */
    REM_INV_REQ_ERR,
    /** Remote access error: bad rkey, address outside the remote MR, or access not granted (or, for ODP, a page the responder could not fault in). */
    REM_ACCESS_ERR,
    /** Remote operation error. */
    REM_OP_ERR,
    /** Transport retry counter exceeded: the responder did not answer. */
    RETRY_EXC_ERR,
    /** RNR retry counter exceeded. */
    RNR_RETRY_EXC_ERR,
    /** Local RDD violation. */
    LOC_RDD_VIOL_ERR,
    /** Remote invalid RD request. */
    REM_INV_RD_REQ_ERR,
    /** Remote aborted. */
    REM_ABORT_ERR,
    /** Invalid EE context number. */
    INV_EECN_ERR,
    /** Invalid EE context state. */
    INV_EEC_STATE_ERR,
    /** Fatal error. */
    FATAL_ERR,
    /** Response timeout. */
    RESP_TIMEOUT_ERR,
    /** General error. */
    GENERAL_ERR,
    /** Tag matching error. */
    TM_ERR,
    /** Tag matching rendezvous incomplete. */
    TM_RNDV_INCOMPLETE;

    /**
     * The status with this value.
     *
     * @param value the {@code ibv_wc.status} value
     * @return the status, or {@link #GENERAL_ERR} for a value this enum does not list
     */
    public static WorkCompletionStatus of(int value) {
        WorkCompletionStatus[] all = values();
        return value >= 0 && value < all.length ? all[value] : GENERAL_ERR;
    }
}
