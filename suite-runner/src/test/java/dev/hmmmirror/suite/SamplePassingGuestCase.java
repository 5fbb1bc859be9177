package dev.hmmmirror.suite;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.hmmmirror.HmmDevice;
import dev.hmmmirror.Mirror;
import dev.hmmmirror.junit.GuestTest;
import org.junit.jupiter.api.Test;

/** A guest test that passes on any kernel; {@link SuiteRunnerIT} runs it to check exit codes. */
@GuestTest
class SamplePassingGuestCase {
    @Test
    void opensTheDevice() throws Exception {
        try (Mirror m = Mirror.open(0)) {
            assertEquals(HmmDevice.ABI_VERSION, m.version().abiVersion());
        }
    }
}
