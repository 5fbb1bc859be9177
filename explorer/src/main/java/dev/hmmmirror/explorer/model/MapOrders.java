package dev.hmmmirror.explorer.model;

import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * What the map orders {@code hmm_range_fault()} reports for a region must be: the order of a mapping the
 * running kernel can make (0 for a page-table entry, a PMD's or PUD's order, a hugetlb page size's), and the
 * same for every page of the naturally aligned block that one mapping covers. A THP that a PMD maps is one
 * such block: each of its pages reported with the PMD's order (e.g. 9 with 4 KiB pages, 13 with 64 KiB).
 *
 * @param pageSize the kernel's base page size in bytes
 * @param orders   the orders a mapping of this kernel can have, 0 among them
 */
public record MapOrders(long pageSize, Set<Integer> orders) {
    public MapOrders {
        if (Long.bitCount(pageSize) != 1 || !orders.contains(0)) {
            throw new IllegalArgumentException("page size " + pageSize + ", orders " + orders);
        }
        orders = Set.copyOf(orders);
    }

    /**
     * The orders of this kernel's mappings: page-table entries (0), PMDs ({@code pmdSize}, the kernel's
     * {@code hpage_pmd_size}), PUDs (a PMD's order plus the entries of one page-table page), and hugetlb
     * pages ({@code hugetlbSizes}, bytes).
     */
    public static MapOrders of(long pageSize, long pmdSize, Set<Long> hugetlbSizes) {
        Set<Integer> orders = new TreeSet<>();
        orders.add(0);
        int pmd = Long.numberOfTrailingZeros(pmdSize) - Long.numberOfTrailingZeros(pageSize);
        orders.add(pmd);
        orders.add(pmd + Long.numberOfTrailingZeros(pageSize / Long.BYTES));
        for (long size : hugetlbSizes) {
            orders.add(Long.numberOfTrailingZeros(size) - Long.numberOfTrailingZeros(pageSize));
        }
        return new MapOrders(pageSize, orders);
    }

    /**
     * What is wrong with {@code reported}, the orders of the pages from {@code base} on, or empty.
     *
     * @param base     the address of the first page
     * @param reported one order per page
     * @return the first page whose order no mapping of this kernel has, or whose aligned block (as far as it
     *         lies in the range) has pages of another order, said as a violation message
     */
    public Optional<String> check(long base, byte[] reported) {
        long first = base / pageSize;
        for (int p = 0; p < reported.length; p++) {
            int order = reported[p];
            if (order == 0) {
                continue;
            }
            if (!orders.contains(order)) {
                return Optional.of("page " + p + " is reported mapped with order " + order + " (" + bytes(order)
                        + "), but this kernel maps only orders " + new TreeSet<>(orders) + " (" + pageSize / 1024 + " KiB pages)");
            }
            long blockStart = (first + p) & -(1L << order);
            int from = (int) Math.max(0, blockStart - first);
            int to = (int) Math.min(reported.length, blockStart + (1L << order) - first);
            for (int q = from; q < to; q++) {
                if (reported[q] != order) {
                    return Optional.of("page " + p + " is reported mapped with order " + order + " (one mapping of "
                            + bytes(order) + " from page " + (blockStart - first) + "), but page " + q
                            + " of the same block with order " + reported[q]);
                }
            }
        }
        return Optional.empty();
    }

    private String bytes(int order) {
        long b = pageSize << order;
        return b >= 1 << 30 ? (b >> 30) + " GiB" : b >= 1 << 20 ? (b >> 20) + " MiB" : (b >> 10) + " KiB";
    }
}
