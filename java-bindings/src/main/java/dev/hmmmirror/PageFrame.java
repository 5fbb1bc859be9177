package dev.hmmmirror;

/**
 * Which physical page the CPU and the device map at one address ({@code HMM_MIRROR_IOC_PAGES}),
 * with the reference and map counts of the CPU's page. Read without faulting and without a
 * reference: exact while nothing else touches the page.
 *
 * @param cpuPfn   page frame number the CPU page table maps, or {@link #NONE}
 * @param devicePfn page frame number the device page table maps, or {@link #NONE}
 * @param refCount {@code page_ref_count()} of the CPU's page (0 without one)
 * @param mapCount how many page tables map the CPU's page ({@code folio_mapcount()}; 0 without one)
 */
public record PageFrame(long cpuPfn, long devicePfn, int refCount, int mapCount) {
    /** No page in that page table ({@code HMM_MIRROR_PFN_NONE}, all ones). */
    public static final long NONE = -1L;

    /**
     * Whether the CPU page table maps a page.
     *
     * @return whether {@link #cpuPfn()} is not {@link #NONE}
     */
    public boolean cpuMapped() {
        return cpuPfn != NONE;
    }

    /**
     * Whether the device page table maps a page.
     *
     * @return whether {@link #devicePfn()} is not {@link #NONE}
     */
    public boolean deviceMapped() {
        return devicePfn != NONE;
    }

    /**
     * Whether the device maps the very page the CPU maps.
     *
     * @return whether both page tables map a page and it is the same page frame
     */
    public boolean coherent() {
        return devicePfn != NONE && devicePfn == cpuPfn;
    }

    @Override
    public String toString() {
        // concatenation, not String.format: a JVM's first Formatter costs ~0.6 s under TCG (docs/writing-tests.md)
        return "PageFrame[cpu " + pfn(cpuPfn) + ", device " + pfn(devicePfn) + ", ref " + refCount + ", map "
                + mapCount + "]";
    }

    private static String pfn(long pfn) {
        return pfn == NONE ? "-" : "0x" + Long.toHexString(pfn);
    }
}
