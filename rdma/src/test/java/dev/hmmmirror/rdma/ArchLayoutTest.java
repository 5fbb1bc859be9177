package dev.hmmmirror.rdma;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hmmmirror.rdma.internal.Ibv;
import dev.hmmmirror.rdma.internal.gen.ibv_context;
import org.junit.jupiter.api.Test;

/**
 * The generated libibverbs layouts are x86-64's; where arm64 differs, the hand-written code says so.
 * (VerbsLayoutProbeTest checks the host's own architecture against its compiler.)
 */
class ArchLayoutTest {
    @Test
    void abiCompatFollowsTheArchitecturesMutex() {
        assertEquals(ibv_context.abi_compat$offset(), Ibv.abiCompatOffset("amd64"), "the generated layout is x86-64's");
        // glibc's pthread_mutex_t: 40 bytes on x86-64, 48 on aarch64 (bits/pthreadtypes-arch.h)
        assertEquals(ibv_context.mutex$offset() + 48, Ibv.abiCompatOffset("aarch64"));
        assertEquals(ibv_context.abi_compat$offset() + 8, Ibv.abiCompatOffset("aarch64"));
    }

    @Test
    void anArchitectureWithoutKnownLayoutsIsRefusedSayingWhy() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Ibv.abiCompatOffset("riscv64"));
        assertTrue(e.getMessage().contains("x86-64 and aarch64"), e.getMessage());
    }
}
