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
    public Snapshot {
        pages = List.copyOf(pages);
    }

    /** The states of page {@code i}. */
    public Set<PageState> page(int i) {
        return pages.get(i);
    }

    /** How many pages have {@code state}. */
    public long count(PageState state) {
        return pages.stream().filter(p -> p.contains(state)).count();
    }

    /** Whether every page has {@code state}. */
    public boolean all(PageState state) {
        return pages.stream().allMatch(p -> p.contains(state));
    }

    /** Whether no page has {@code state}. */
    public boolean none(PageState state) {
        return pages.stream().noneMatch(p -> p.contains(state));
    }

    @Override
    public String toString() {
        return "Snapshot[0x" + Long.toHexString(address) + ", " + pages + "]";
    }
}
