package dev.hmmmirror;

/**
 * One invalidation a mirror received from the kernel's mmu notifier: the device had to drop its
 * mappings of {@code [start, end)}.
 *
 * @param seq           position in this mirror's event stream (from 0; gaps mean lost events)
 * @param start         first address
 * @param end           end address (exclusive)
 * @param notifierSeq   the interval notifier sequence of the invalidation
 * @param reason        why the kernel invalidated
 * @param blockable     whether the callback was allowed to sleep
 * @param afterOverflow events were lost (ring full) right before this one
 * @param pages         device page table entries this invalidation removed
 */
public record Invalidation(long seq, long start, long end, long notifierSeq, Reason reason, boolean blockable,
        boolean afterOverflow, long pages) {

    /** The kernel's {@code enum mmu_notifier_event}. */
    public enum Reason {
        UNMAP, CLEAR, PROTECTION_VMA, PROTECTION_PAGE, SOFT_DIRTY, RELEASE, MIGRATE, EXCLUSIVE, OTHER;

        static Reason of(int code) {
            return code >= 0 && code < OTHER.ordinal() ? values()[code] : OTHER;
        }
    }

    /** Whether this invalidation overlaps {@code [from, to)}. */
    public boolean overlaps(long from, long to) {
        return start < to && from < end;
    }

    /** Builds an event from the ABI's reason code. */
    static Invalidation of(long seq, long start, long end, long notifierSeq, int reason, int flags, long pages) {
        return new Invalidation(seq, start, end, notifierSeq, Reason.of(reason), (flags & 1) != 0, (flags & 2) != 0,
                pages);
    }

    @Override
    public String toString() {
        return String.format("Invalidation#%d[%s 0x%x-0x%x, %d pages, seq %d%s]", seq, reason, start, end, pages,
                notifierSeq, afterOverflow ? ", after overflow" : "");
    }
}
