package dev.hmmmirror.explorer.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class MapOrdersTest {
    private static final long MIB = 1 << 20;
    private static final MapOrders X86 = MapOrders.of(4096, 2 * MIB, Set.of(2 * MIB, 1024 * MIB));

    @Test
    void theOrdersComeFromThePageAndPmdSizes() {
        assertEquals(Set.of(0, 9, 18), X86.orders());
        assertEquals(Set.of(0, 13, 26), MapOrders.of(64 * 1024, 512 * MIB, Set.of()).orders()); // arm64 64K
        assertEquals(Set.of(0, 11, 22, 5), MapOrders.of(16 * 1024, 32 * MIB, Set.of(512 * 1024L)).orders());
    }

    @Test
    void aPmdMappedThpReportedWithThePmdOrderPasses() {
        byte[] orders = new byte[512];
        Arrays.fill(orders, (byte) 9);
        assertEquals(Optional.empty(), X86.check(0x7f00_0020_0000L, orders));
        assertEquals(Optional.empty(), X86.check(0x7f00_0020_0000L, new byte[512]), "PTE-mapped: all 0");
    }

    /** Mutant 05 (pmd_to_hmm_pfn_flags): a 2 MiB THP reported as mapped by 1 MiB entries. */
    @Test
    void aThpReportedWithHalfThePmdOrderFails() {
        byte[] orders = new byte[512];
        Arrays.fill(orders, (byte) 8);
        Optional<String> wrong = X86.check(0x7f00_0020_0000L, orders);
        assertTrue(wrong.isPresent() && wrong.get().contains("order 8 (1 MiB)"), wrong.toString());
        // on 64 KiB pages the PMD order is 13, so a 4 KiB kernel's 9 is wrong there
        byte[] nine = new byte[512];
        Arrays.fill(nine, (byte) 9);
        assertTrue(MapOrders.of(64 * 1024, 512 * MIB, Set.of()).check(0x7f00_2000_0000L, nine).isPresent());
    }

    @Test
    void oneMappingCoversItsWholeAlignedBlock() {
        byte[] orders = new byte[1024];
        Arrays.fill(orders, 0, 512, (byte) 9);
        orders[700] = 9; // a lone page of a second block whose other pages are PTE-mapped
        Optional<String> wrong = X86.check(0x7f00_0020_0000L, orders);
        assertTrue(wrong.isPresent() && wrong.get().contains("page 700") && wrong.get().contains("from page 512"),
                wrong.toString());
        // a range that starts inside a block checks only the part of the block it holds
        byte[] tail = new byte[8];
        Arrays.fill(tail, (byte) 9);
        assertEquals(Optional.empty(), X86.check(0x7f00_0020_0000L + 504 * 4096L, tail));
    }

    @Test
    void aHugetlbPageReportedWithItsOrderPasses() {
        byte[] orders = new byte[512];
        Arrays.fill(orders, (byte) 9);
        assertEquals(Optional.empty(), MapOrders.of(4096, 2 * MIB, Set.of(2 * MIB)).check(0x7f00_0040_0000L, orders));
    }
}
