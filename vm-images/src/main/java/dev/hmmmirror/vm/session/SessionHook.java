package dev.hmmmirror.vm.session;

/**
 * Work a session does in its guest after the tests and before the guest powers off (the kernel's
 * own selftests, say). Its result is a value the session keeps ({@link GuestSession.End#results()}).
 *
 * @param <R> what the hook finds
 */
public interface SessionHook<R> {
    /** For progress lines and reports. */
    String name();

    /** Whether it has anything to do in this session (e.g. the kernel has test_hmm). */
    boolean wanted(GuestSession session);

    /** Runs in the live guest; kernel reports it causes are collected by the session. */
    R run(GuestSession session) throws InterruptedException;

    /**
     * Called in the live guest before each test the session runs ({@code uniqueId}: the JUnit
     * unique id), for hooks that attribute what they find to parts of the suite. Does nothing by default.
     */
    default void beforeTest(GuestSession session, String uniqueId) throws InterruptedException {}
}
