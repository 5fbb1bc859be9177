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

    /** The kernel's {@code enum mmu_notifier_event}, as {@code HMM_MIRROR_EVENT_*} reports it. */
    public enum Reason {
        /** {@code MMU_NOTIFY_UNMAP}: the range was unmapped ({@code munmap}) or moved away ({@code mremap}). */
        UNMAP,
        /**
         * {@code MMU_NOTIFY_CLEAR}: page table entries were cleared or replaced ({@code MADV_DONTNEED},
         * copy-on-write, reclaim, page migration, THP collapse, KSM ...).
         */
        CLEAR,
        /** {@code MMU_NOTIFY_PROTECTION_VMA}: the protection of the whole range changed ({@code mprotect}). */
        PROTECTION_VMA,
        /** {@code MMU_NOTIFY_PROTECTION_PAGE}: the read/write permission of individual pages changed. */
        PROTECTION_PAGE,
        /** {@code MMU_NOTIFY_SOFT_DIRTY}: soft-dirty tracking was reset; same pages, same access. */
        SOFT_DIRTY,
        /** {@code MMU_NOTIFY_RELEASE}: the address space is being torn down ({@code exit_mmap}). */
        RELEASE,
        /** {@code MMU_NOTIFY_MIGRATE}: {@code migrate_vma_setup} is moving pages (to or from device memory). */
        MIGRATE,
        /**
         * {@code MMU_NOTIFY_EXCLUSIVE}: another mirror or device made pages device-exclusive
         * ({@code make_device_exclusive}); this mirror's own grants are not reported.
         */
        EXCLUSIVE,
        /** Any other event ({@code HMM_MIRROR_EVENT_OTHER}), or a code these bindings do not know. */
        OTHER;

        /**
         * The reason an {@code HMM_MIRROR_EVENT_*} code names, e.g. the {@code reason} field of a
         * {@code struct hmm_mirror_event} read through {@link dev.hmmmirror.raw.RawDevice}.
         *
         * @param code the field's value
         * @return its reason; {@link #OTHER} for {@code HMM_MIRROR_EVENT_OTHER} and unknown codes
         */
        public static Reason of(int code) {
            return code >= 0 && code < OTHER.ordinal() ? values()[code] : OTHER;
        }
    }

    /**
     * Whether this invalidation overlaps {@code [from, to)}.
     *
     * @param from first address of the range to test
     * @param to   end address (exclusive) of the range to test
     * @return whether {@code [start, end)} and {@code [from, to)} share at least one byte
     */
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
        // concatenation, not String.format: a JVM's first Formatter costs ~0.6 s under TCG (docs/writing-tests.md)
        return "Invalidation#" + seq + "[" + reason + " 0x" + Long.toHexString(start) + "-0x" + Long.toHexString(end)
                + ", " + pages + " pages, seq " + notifierSeq + (afterOverflow ? ", after overflow" : "") + "]";
    }
}
