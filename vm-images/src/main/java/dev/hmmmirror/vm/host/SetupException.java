package dev.hmmmirror.vm.host;

/**
 * Something the user must fix before a guest can be built or booted: a missing program, no root,
 * no disk space, an unreachable mirror. The message is one line that says what to do; tools print
 * it without a stack trace.
 */
public class SetupException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public SetupException(String message) {
        super(message);
    }

    public SetupException(String message, Throwable cause) {
        super(message, cause);
    }
}
