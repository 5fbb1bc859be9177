package dev.hmmmirror.junit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Guest tests with known outcomes, run by {@link GuestExtensionIT} through the JUnit test kit (the
 * name matches neither Surefire's nor Failsafe's patterns, so it never runs on its own).
 */
@GuestTest
class SampleGuestCases {
    private boolean setUpInGuest;

    @BeforeEach
    void setUp() {
        // lifecycle methods must run in the guest, never on the host
        assertTrue(Boolean.getBoolean("hmm.guest"), "@BeforeEach ran on the host");
        setUpInGuest = true;
    }

    @Test
    void passes() {
        System.out.println("output printed by a passing guest test");
        assertTrue(setUpInGuest);
        assertTrue(System.getProperty("os.version").contains("amd64"), System.getProperty("os.version"));
    }

    @Test
    void failsWithAnAssertion() {
        System.out.println("output printed by the guest test");
        assertEquals(1, 2, "guest-side assertion");
    }

    @Test
    void isSkippedByAnAssumption() {
        assumeTrue(false, "capability missing in this kernel");
    }

    @Test
    void throwsAnException() {
        throw new IllegalStateException("boom in the guest");
    }
}
