package dev.hmmmirror.rdma;

import dev.hmmmirror.HmmException;

/**
 * A libibverbs call failed: carries the errno it returned (or set), the verb and its target,
 * and what to do where that is known. What the API refuses before any call is unchecked
 * ({@link IllegalArgumentException}, {@link IllegalStateException} for a closed object).
 */
public class RdmaException extends HmmException {
    private static final long serialVersionUID = 1L;

    /**
     * Builds the exception; the message reads {@code "<verb> <target> failed: <ENAME> (<strerror>): <hint>"}.
     *
     * @param verb   what was attempted, e.g. {@code "ibv_reg_mr"}
     * @param target what it was attempted on, e.g. {@code "rxe0"}
     * @param errno  the positive errno
     * @param hint   what to do about it, or {@code null}
     */
    public RdmaException(String verb, String target, int errno, String hint) {
        super(verb, target, errno, hint);
    }
}
