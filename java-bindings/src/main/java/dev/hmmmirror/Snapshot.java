package dev.hmmmirror;

import java.util.List;
import java.util.Set;

/**
 * Page states of a range at one moment ({@code HMM_MIRROR_IOC_SNAPSHOT}), one entry per page.
 *
 * @param address first address of the range
 * @param pages   the states of each page, in address order
 */
public record Snapshot(long address, List<Set<PageState>> pages) {
    /**
     * Makes a snapshot of an unmodifiable copy of {@code pages} (the sets themselves are not copied).
     *
     * @param address first address of the range
     * @param pages   the states of each page, in address order; no element may be {@code null}
     */
    public Snapshot {
        pages = List.copyOf(pages);
    }

    /**
     * The states of page {@code i}.
     *
     * @param i page index from {@link #address()}, 0 .. {@code pages().size() - 1}
     * @return the page's states: empty where a readable mapping has no page yet and the device none either
     * @throws IndexOutOfBoundsException when {@code i} is outside the range
     */
    public Set<PageState> page(int i) {
        return pages.get(i);
    }

    /**
     * How many pages have {@code state}.
     *
     * @param state the state to count
     * @return the number of pages whose states contain {@code state}
     */
    public long count(PageState state) {
        return pages.stream().filter(p -> p.contains(state)).count();
    }

    /**
     * Whether every page has {@code state}.
     *
     * @param state the state to test
     * @return whether the states of every page contain {@code state}
     */
    public boolean all(PageState state) {
        return pages.stream().allMatch(p -> p.contains(state));
    }

    /**
     * Whether no page has {@code state}.
     *
     * @param state the state to test
     * @return whether the states of no page contain {@code state}
     */
    public boolean none(PageState state) {
        return pages.stream().noneMatch(p -> p.contains(state));
    }

    @Override
    public String toString() {
        return "Snapshot[0x" + Long.toHexString(address) + ", " + pages + "]";
    }
}
