package dev.hmmmirror.rdma;

import java.util.Set;

/**
 * A device's On-Demand Paging capabilities ({@code ibv_device_attr_ex.odp_caps}).
 *
 * @param supported   {@code IBV_ODP_SUPPORT}: the device registers ODP memory regions at all
 * @param implicit    {@code IBV_ODP_SUPPORT_IMPLICIT}: one MR over the whole address space
 * @param rc          what ODP MRs serve on RC queue pairs
 * @param uc          what ODP MRs serve on UC queue pairs
 * @param ud          what ODP MRs serve on UD queue pairs
 */
public record OdpCapabilities(boolean supported, boolean implicit, Set<OdpOperation> rc, Set<OdpOperation> uc,
        Set<OdpOperation> ud) {
    /** No ODP at all (a device or kernel without it). */
    public static final OdpCapabilities NONE = new OdpCapabilities(false, false, Set.of(), Set.of(), Set.of());

    public OdpCapabilities {
        rc = Set.copyOf(rc);
        uc = Set.copyOf(uc);
        ud = Set.copyOf(ud);
    }
}
