package dev.hmmmirror.explorer.model;

import dev.hmmmirror.Memory;

/** One mapping a program made: its memory, its kind and the model of each page. */
final class Region {
    final int slot;
    final Kind kind;
    Memory memory;
    final PageModel[] pages;

    Region(int slot, Kind kind, Memory memory) {
        this.slot = slot;
        this.kind = kind;
        this.memory = memory;
        this.pages = new PageModel[(int) memory.pages()];
        for (int i = 0; i < pages.length; i++) {
            pages[i] = new PageModel();
        }
    }

    long address(int page) {
        return memory.pageAddress(page);
    }

    int size() {
        return pages.length;
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
        return "region " + slot + " (" + kind + ", " + pages.length + " pages at 0x" + Long.toHexString(memory.address())
                + ")";
    }
}
