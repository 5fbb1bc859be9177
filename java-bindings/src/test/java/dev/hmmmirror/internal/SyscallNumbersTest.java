package dev.hmmmirror.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

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

    /** open, ioctl and close go through syscall(2) by number: x86-64's close (3) is arm64's {@code io_cancel}. */
    @Test
    void theFileCallsHaveEachArchitecturesNumbers() {
        assertEquals(new Posix.FileCalls(257, 16, 3), Posix.fileCalls("amd64"));
        assertEquals(new Posix.FileCalls(56, 29, 57), Posix.fileCalls("aarch64"));
    }

    @Test
    void anUnknownArchitectureUsesLibcsWrappersRatherThanGuessedNumbers() {
        assertNull(Posix.fileCalls("riscv64"));
    }
}
