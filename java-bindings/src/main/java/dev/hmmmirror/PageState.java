package dev.hmmmirror;

import dev.hmmmirror.internal.gen.HmmMirrorH;
import java.util.EnumSet;
import java.util.Set;

/**
 * What a snapshot says about one page ({@code HMM_MIRROR_PAGE_*} in the header): the CPU page
 * table as {@code hmm_range_fault} sees it without faulting, the device page table, and special
 * kinds of page.
 */
public enum PageState {
    /** CPU: present and readable. */
    CPU_READ,
    /** CPU: present and writable. */
    CPU_WRITE,
    /** CPU: mapped by a PMD (or larger) entry, e.g. a transparent huge page. */
    HUGE,
    /** CPU: the shared zero page. */
    ZERO_PAGE,
    /** Device page table maps the page. */
    DEVICE_READ,
    /** Device page table maps the page writable. */
    DEVICE_WRITE,
    /** The page is device-private memory of this device. */
    DEVICE_PRIVATE,
    /** The page is device-private memory of another device. */
    DEVICE_PRIVATE_REMOTE,
    /** The CPU entry is a device-exclusive entry of this device (the device holds the page for atomics). */
    EXCLUSIVE,
    /** Not accessible at all: no VMA, or a VMA without read permission. */
    INACCESSIBLE;

    /**
     * Decodes one snapshot byte.
     *
     * @param b a page state byte of {@code HMM_MIRROR_IOC_SNAPSHOT} ({@code HMM_MIRROR_PAGE_*} bits)
     * @return the states it has, as a new mutable set: {@link #INACCESSIBLE} alone for
     *         {@code HMM_MIRROR_PAGE_ERROR} (0xff), else one state per bit set and at most one of
     *         {@link #DEVICE_PRIVATE}, {@link #DEVICE_PRIVATE_REMOTE}, {@link #EXCLUSIVE} for the kind
     */
    public static Set<PageState> decode(byte b) {
        int v = b & 0xff;
        if (v == HmmMirrorH.HMM_MIRROR_PAGE_ERROR()) {
            return EnumSet.of(INACCESSIBLE);
        }
        EnumSet<PageState> s = EnumSet.noneOf(PageState.class);
        if ((v & HmmMirrorH.HMM_MIRROR_PAGE_READ()) != 0) {
            s.add(CPU_READ);
        }
        if ((v & HmmMirrorH.HMM_MIRROR_PAGE_WRITE()) != 0) {
            s.add(CPU_WRITE);
        }
        if ((v & HmmMirrorH.HMM_MIRROR_PAGE_HUGE()) != 0) {
            s.add(HUGE);
        }
        if ((v & HmmMirrorH.HMM_MIRROR_PAGE_ZERO()) != 0) {
            s.add(ZERO_PAGE);
        }
        if ((v & HmmMirrorH.HMM_MIRROR_PAGE_DEV_READ()) != 0) {
            s.add(DEVICE_READ);
        }
        if ((v & HmmMirrorH.HMM_MIRROR_PAGE_DEV_WRITE()) != 0) {
            s.add(DEVICE_WRITE);
        }
        int kind = v & HmmMirrorH.HMM_MIRROR_PAGE_KIND_MASK();
        if (kind == HmmMirrorH.HMM_MIRROR_PAGE_KIND_PRIVATE()) {
            s.add(DEVICE_PRIVATE);
        } else if (kind == HmmMirrorH.HMM_MIRROR_PAGE_KIND_REMOTE()) {
            s.add(DEVICE_PRIVATE_REMOTE);
        } else if (kind == HmmMirrorH.HMM_MIRROR_PAGE_KIND_EXCLUSIVE()) {
            s.add(EXCLUSIVE);
        }
        return s;
    }
}
