package dev.hmmmirror.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * The system call numbers the bindings call by number differ between CPU architectures: x86-64's
 * {@code move_pages} is 279, which on arm64 (the generic table, {@code move_pages} 239) is
 * {@code memfd_create}: an arm64 guest calling 279 would create files instead of migrating pages.
 */
class SyscallNumbersTest {
    @Test
    void movePagesHasEachArchitecturesNumber() {
        assertEquals(279, Posix.moveSyscall("amd64"));
        assertEquals(239, Posix.moveSyscall("aarch64"));
    }

    @Test
    void anUnknownArchitectureGetsNoNumberRatherThanAnotherCall() {
        assertEquals(-1, Posix.moveSyscall("riscv64"));
    }
}
