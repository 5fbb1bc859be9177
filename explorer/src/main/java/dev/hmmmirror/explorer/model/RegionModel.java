package dev.hmmmirror.explorer.model;

/**
 * What the model knows of one mapping a program made: its slot, kind, base address (where the
 * driver mapped it; an {@code mremap} moves it) and the model of each page.
 */
public final class RegionModel {
    private final int slot;
    private final Kind kind;
    private long base;
    final PageModel[] pages;

    RegionModel(int slot, Kind kind, long base, int pages) {
        this.slot = slot;
        this.kind = kind;
        this.base = base;
        this.pages = new PageModel[pages];
        for (int i = 0; i < pages; i++) {
            this.pages[i] = new PageModel();
        }
    }

    public int slot() {
        return slot;
    }

    public Kind kind() {
        return kind;
    }

    /** The address of page 0. */
    public long base() {
        return base;
    }

    void moveTo(long newBase) {
        base = newBase;
    }

    /** The address of page {@code page}. */
    public long address(int page) {
        if (page < 0 || page >= pages.length) {
            throw new IndexOutOfBoundsException("page " + page + " of " + pages.length);
        }
        return base + (long) page * PageModel.SIZE;
    }

    /** Pages of the region. */
    public int size() {
        return pages.length;
    }

    /** The model of page {@code p}. */
    public PageModel page(int p) {
        return pages[p];
    }

    boolean anyMapped() {
        for (PageModel p : pages) {
            if (p.mapped) {
                return true;
            }
        }
        return false;
    }

    @Override
    public String toString() {
        return "region " + slot + " (" + kind + ", " + pages.length + " pages at 0x" + Long.toHexString(base) + ")";
    }
}
