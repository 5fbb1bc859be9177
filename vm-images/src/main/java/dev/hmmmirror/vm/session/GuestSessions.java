package dev.hmmmirror.vm.session;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Sessions lent by their owner to code that asks for a guest by kernel and run folder: the suite
 * runner boots a session itself (so that the hooks' results come back to it as values) and lends
 * it to the JUnit extension for the tests of its launcher run. What is not lent, the extension
 * boots and closes itself.
 */
public final class GuestSessions {
    private static final Map<String, GuestSession> LENT = new ConcurrentHashMap<>();

    private GuestSessions() {}

    /** The key of a session: kernel profile and run folder. */
    public static String key(String kernel, java.nio.file.Path runDir) {
        return kernel + "@" + runDir.toAbsolutePath().normalize();
    }

    /** Lends {@code session} until {@link #takeBack}; the owner still closes the session. */
    public static void lend(GuestSession session) {
        LENT.put(keyOf(session), session);
    }

    /** Ends the loan of {@code session}. */
    public static void takeBack(GuestSession session) {
        LENT.remove(keyOf(session), session);
    }

    private static String keyOf(GuestSession session) {
        return key(session.settings().kernel(), session.runDir().getParent());
    }

    /** A lent session for {@code key}, if any. */
    public static Optional<GuestSession> borrow(String key) {
        return Optional.ofNullable(LENT.get(key));
    }
}
