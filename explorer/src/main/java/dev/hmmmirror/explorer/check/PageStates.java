package dev.hmmmirror.explorer.check;

import dev.hmmmirror.HmmException;
import dev.hmmmirror.PageFrame;
import dev.hmmmirror.PageState;
import dev.hmmmirror.Snapshot;
import dev.hmmmirror.explorer.engine.Invariant;
import dev.hmmmirror.explorer.engine.Violation;
import dev.hmmmirror.explorer.model.Model;
import dev.hmmmirror.explorer.model.PageModel;
import dev.hmmmirror.explorer.model.RegionModel;
import java.util.List;
import java.util.Set;

/**
 * The device-page-table invariants of every mirror over every region:
 * <ul>
 * <li>the device maps only the page the CPU maps at that address (never a page the CPU unmapped,
 *     protected to none, or moved), except its own device-exclusive entries
 *     ({@code device-maps-cpu-page});</li>
 * <li>the device may write only where the CPU may write, and never where the model's protection
 *     is read-only ({@code device-write-permission});</li>
 * <li>device-private and exclusive states only where the model says a mirror put the page there
 *     and nothing has taken it back since ({@code device-private-state}, {@code exclusive-state}).</li>
 * </ul>
 */
public final class PageStates implements Invariant<Subject> {
    @Override
    public String name() {
        return "page-states";
    }

    @Override
    public void check(Subject s) throws HmmException {
        for (int i = 0; i < Model.MIRRORS; i++) {
            for (int g = 0; g < Model.REGIONS; g++) {
                RegionModel r = s.model().region(g);
                if (r != null) {
                    try {
                        region(s, i, r);
                    } catch (Violation first) {
                        // the page frames and the snapshot are two calls: a page the kernel moves
                        // between them (another process's compaction migrating a device-exclusive
                        // page, found by the 7.2 debug campaign with several jobs) looks incoherent
                        // once; a wrong state stays, so it must be seen on a second read too
                        region(s, i, r);
                        s.driver().stats().secondReads++;
                    }
                }
            }
        }
    }

    private static void region(Subject s, int slot, RegionModel r) throws HmmException {
        int device = s.driver().device(slot);
        List<PageFrame> frames = s.driver().pageFrames(slot, r.base(), r.size());
        Snapshot snap = s.driver().snapshot(slot, r.base(), r.size());
        for (int p = 0; p < r.size(); p++) {
            PageModel m = r.page(p);
            Set<PageState> st = snap.page(p);
            PageFrame f = frames.get(p);
            boolean exclusive = st.contains(PageState.EXCLUSIVE);
            String where = "page " + p + " of " + r + ", mirror " + slot + " (device " + device + ")";
            s.driver().stats().checks++;
            if (exclusive && m.exclusiveSlot() != slot) {
                throw new Violation("exclusive-state", where + ": the device holds a device-exclusive entry, but "
                        + (m.exclusiveSlot() < 0 ? "nothing has the page exclusive (the CPU or another device took "
                        + "it back since)" : "mirror " + m.exclusiveSlot() + " took it exclusive after") + "; snapshot "
                        + st);
            }
            if (f.deviceMapped() && !exclusive && !f.coherent()) {
                throw new Violation("device-maps-cpu-page", where + ": the device maps pfn 0x"
                        + Long.toHexString(f.devicePfn()) + " but the CPU maps " + pfn(f.cpuPfn())
                        + " (model: " + (m.mapped() ? "mapped " + m.protection() : "unmapped") + "); snapshot " + st);
            }
            if (st.contains(PageState.DEVICE_WRITE) && !exclusive
                    && (!st.contains(PageState.CPU_WRITE) || !m.writable())) {
                throw new Violation("device-write-permission", where + ": the device may write the page, but the "
                        + "CPU may not (model: " + (m.mapped() ? m.protection() : "unmapped") + "); snapshot " + st);
            }
            if (st.contains(PageState.DEVICE_PRIVATE) && m.privateDevice() != device) {
                throw new Violation("device-private-state", where + ": the page is in this device's memory, but "
                        + (m.privateDevice() < 0 ? "the model says it came back (CPU access, close, migration "
                        + "back or unmap since)" : "the model has it in device " + m.privateDevice() + "'s memory")
                        + "; snapshot " + st);
            }
            if (st.contains(PageState.DEVICE_PRIVATE_REMOTE) && (m.privateDevice() < 0 || m.privateDevice() == device)) {
                throw new Violation("device-private-state", where + ": the page is in another device's memory, but "
                        + "the model has it " + (m.privateDevice() < 0 ? "in system memory" : "in this device's memory")
                        + "; snapshot " + st);
            }
        }
    }

    /** A page frame number as a message says it. */
    static String pfn(long pfn) {
        return pfn == PageFrame.NONE ? "nothing" : "pfn 0x" + Long.toHexString(pfn);
    }
}
