package dev.hmmmirror.explorer.model;

/** The kinds of memory a program maps. */
public enum Kind {
    /** Private anonymous memory, base pages ({@code MADV_NOHUGEPAGE}). */
    ANONYMOUS,
    /** Shared anonymous memory (shmem). */
    SHARED,
    /** A memfd mapped shared. */
    MEMFD,
    /** A file on the guest's tmpfs, mapped shared. */
    FILE,
    /** Private anonymous memory in one transparent huge page ({@code MADV_HUGEPAGE}, 2 MiB aligned). */
    THP,
    /** Private anonymous memory in one hugetlbfs page ({@code MAP_HUGETLB}). */
    HUGETLB;

    /** Private anonymous: migrates to device memory, loses its data on {@code MADV_DONTNEED}. */
    public boolean privateAnonymous() {
        return this == ANONYMOUS || this == THP || this == HUGETLB;
    }

    /** Shared with a forked child: the child's writes reach this process. */
    public boolean shared() {
        return this == SHARED || this == MEMFD || this == FILE;
    }

    /** Whether partial unmap, protect and advice apply page by page (not to hugetlb pages). */
    public boolean pageGranular() {
        return this != HUGETLB;
    }

    /** Moves to device memory ({@code migrate_vma_*}): private anonymous memory, not hugetlb. */
    public boolean migrates() {
        return this == ANONYMOUS || this == THP;
    }
}
