package dev.hmmmirror.vm.runner;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hmmmirror.vm.boot.QemuHost;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The agent's unix socket must not live in the run directory: under a checkout deeper than a
 * socket path may be (108 bytes), QEMU refused to start and every container test errored.
 */
class AgentSocketTest {
    @Test
    void socketPathIsShortWhateverTheRunDirectory() {
        Path deepRunDir = Path.of("/tmp", "a-checkout-path-that-is-deep".repeat(6), "guest-tests", "target",
                "hmm-guest", "debian-sid-container");
        assertTrue(deepRunDir.toString().length() > 108);
        Path dir = QemuHost.agentSocketDir();
        Path sock = dir.resolve("hmm-agent-" + Long.MAX_VALUE + "-" + Long.MAX_VALUE + ".sock");
        assertTrue(sock.toString().length() <= QemuHost.MAX_SOCKET_PATH, sock.toString());
        assertFalse(dir.startsWith(deepRunDir));
        assertTrue(new LocalRunner().socketDir().equals(dir));
    }
}
