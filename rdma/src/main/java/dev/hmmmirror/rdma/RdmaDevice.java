package dev.hmmmirror.rdma;

import dev.hmmmirror.Memory;
import dev.hmmmirror.rdma.internal.Ibv;
import dev.hmmmirror.rdma.internal.gen.Verbs;
import dev.hmmmirror.rdma.internal.gen.ibv_device_attr;
import dev.hmmmirror.rdma.internal.gen.ibv_device_attr_ex;
import dev.hmmmirror.rdma.internal.gen.ibv_gid;
import dev.hmmmirror.rdma.internal.gen.ibv_odp_caps;
import dev.hmmmirror.rdma.internal.gen.ibv_port_attr;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;

/**
 * An open RDMA device (e.g. the rxe soft-RoCE device {@code rxe0}) with one protection domain:
 * the memory regions and connections made from it belong to that domain.
 *
 * <p>{@link #close()} closes, in reverse order, every region and connection still open, then the
 * protection domain and the device; it is idempotent. Methods on a closed device throw
 * {@link IllegalStateException}. Port 1 is used (rxe has one port).
 */
public final class RdmaDevice implements AutoCloseable {
    static final int PORT = 1;
    private static final int EOPNOTSUPP = 95;
    private static final int ENODEV = 19;

    private final String name;
    private final MemorySegment context;
    private final MemorySegment pd;
    private final OdpCapabilities odp;
    private final boolean atomics;
    private final Deque<AutoCloseable> children = new ArrayDeque<>();
    private boolean closed;

    private RdmaDevice(String name, MemorySegment context, MemorySegment pd, OdpCapabilities odp, boolean atomics) {
        this.name = name;
        this.context = context;
        this.pd = pd;
        this.odp = odp;
        this.atomics = atomics;
    }

    private static void requireLibrary() throws RdmaUnsupportedException {
        String err = Ibv.loadError();
        if (err != null) {
            throw new RdmaUnsupportedException("load libibverbs.so.1", "this system", 2 /* ENOENT */,
                    "install libibverbs1 and ibverbs-providers (Debian) for the rxe provider (" + err + ")");
        }
    }

    /**
     * The names of the RDMA devices libibverbs sees ({@code ibv_get_device_list}), e.g. {@code [rxe0]}.
     *
     * @return the device names, possibly none
     * @throws RdmaException            the errno of {@code ibv_get_device_list} (e.g. ENOSYS without
     *                                  the kernel's {@code ib_uverbs})
     * @throws RdmaUnsupportedException when libibverbs is not installed
     */
    public static List<String> deviceNames() throws RdmaException {
        requireLibrary();
        try (Arena a = Arena.ofConfined()) {
            int[] n = new int[1];
            MemorySegment list;
            try {
                list = Ibv.getDeviceList(a, n);
            } catch (Ibv.NativeError e) {
                throw new RdmaException("ibv_get_device_list", "this system", e.errno,
                        "load the kernel's ib_uverbs and a device driver (modprobe rdma_rxe)");
            }
            List<String> names = new ArrayList<>();
            for (int i = 0; i < n[0]; i++) {
                names.add(Ibv.deviceName(list.getAtIndex(ValueLayout.ADDRESS, i)));
            }
            Ibv.freeDeviceList(list);
            return List.copyOf(names);
        }
    }

    /**
     * Opens the device {@code name} and allocates its protection domain.
     *
     * @param name the device name, e.g. {@code "rxe0"} (see {@link #deviceNames()})
     * @return the open device
     * @throws RdmaException            {@code ENODEV} when no device has that name; the errno of
     *                                  {@code ibv_open_device} or {@code ibv_alloc_pd}
     * @throws RdmaUnsupportedException when libibverbs is not installed
     */
    public static RdmaDevice open(String name) throws RdmaException {
        requireLibrary();
        try (Arena a = Arena.ofConfined()) {
            int[] n = new int[1];
            MemorySegment list;
            try {
                list = Ibv.getDeviceList(a, n);
            } catch (Ibv.NativeError e) {
                throw new RdmaException("ibv_get_device_list", name, e.errno,
                        "load the kernel's ib_uverbs and a device driver (modprobe rdma_rxe)");
            }
            try {
                List<String> seen = new ArrayList<>();
                for (int i = 0; i < n[0]; i++) {
                    MemorySegment dev = list.getAtIndex(ValueLayout.ADDRESS, i);
                    String dn = Ibv.deviceName(dev);
                    seen.add(dn);
                    if (!dn.equals(name)) {
                        continue;
                    }
                    MemorySegment ctx;
                    try {
                        ctx = Ibv.openDevice(dev);
                    } catch (Ibv.NativeError e) {
                        throw new RdmaException("ibv_open_device", name, e.errno,
                                "is /dev/infiniband/uverbs* there and readable (ib_uverbs loaded)?");
                    }
                    MemorySegment pd;
                    try {
                        pd = Ibv.allocPd(ctx);
                    } catch (Ibv.NativeError e) {
                        Ibv.closeDevice(ctx);
                        throw new RdmaException("ibv_alloc_pd", name, e.errno, null);
                    }
                    OdpCapabilities odp = queryOdp(ctx);
                    boolean atomics = queryAtomics(ctx);
                    return new RdmaDevice(name, ctx, pd, odp, atomics);
                }
                throw new RdmaException("ibv_open_device", name, ENODEV, "no RDMA device of that name (devices: "
                        + seen + "); for rxe: rdma link add " + name + " type rxe netdev <an Ethernet netdev>");
            } finally {
                Ibv.freeDeviceList(list);
            }
        }
    }

    private static OdpCapabilities queryOdp(MemorySegment ctx) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment attr = a.allocate(ibv_device_attr_ex.layout());
            if (Ibv.queryDeviceEx(ctx, attr) != 0) {
                return OdpCapabilities.NONE;
            }
            MemorySegment caps = ibv_device_attr_ex.odp_caps(attr);
            long general = ibv_odp_caps.general_caps(caps);
            MemorySegment per = ibv_odp_caps.per_transport_caps(caps);
            return new OdpCapabilities((general & Verbs.IBV_ODP_SUPPORT()) != 0,
                    (general & Verbs.IBV_ODP_SUPPORT_IMPLICIT()) != 0,
                    OdpOperation.of(ibv_odp_caps.per_transport_caps.rc_odp_caps(per)),
                    OdpOperation.of(ibv_odp_caps.per_transport_caps.uc_odp_caps(per)),
                    OdpOperation.of(ibv_odp_caps.per_transport_caps.ud_odp_caps(per)));
        }
    }

    private static boolean queryAtomics(MemorySegment ctx) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment attr = a.allocate(ibv_device_attr.layout());
            return Verbs.ibv_query_device(ctx, attr) == 0
                    && ibv_device_attr.atomic_cap(attr) != Verbs.IBV_ATOMIC_NONE();
        }
    }

    /**
     * The device name.
     *
     * @return e.g. {@code "rxe0"}
     */
    public String name() {
        return name;
    }

    /**
     * What the device serves from On-Demand Paging memory regions ({@code ibv_query_device_ex}).
     *
     * @return the ODP caps; {@link OdpCapabilities#NONE} when the device or kernel has no ODP
     */
    public OdpCapabilities odpCapabilities() {
        return odp;
    }

    /**
     * Checks that RC queue pairs can run {@code operations} on ODP memory regions of this device.
     *
     * @param operations the operations needed, e.g. {@link OdpOperation#READ}
     * @throws RdmaUnsupportedException naming the running kernel and what its device lacks (rxe has
     *                                  On-Demand Paging from the 2025 merges on: Debian sid's 7.2 has it,
     *                                  trixie's 6.12 and bookworm's 6.1 do not)
     */
    public void requireOdp(OdpOperation... operations) throws RdmaUnsupportedException {
        Set<OdpOperation> missing = new java.util.TreeSet<>(List.of(operations));
        missing.removeAll(odp.rc());
        if (!odp.supported() || !missing.isEmpty()) {
            throw new RdmaUnsupportedException("On-Demand Paging " + List.of(operations), name, EOPNOTSUPP,
                    "kernel " + System.getProperty("os.version") + ": " + name + (odp.supported()
                            ? " has ODP but not " + missing + " on RC (it serves " + odp.rc() + ")"
                            : " has no On-Demand Paging (for rxe: its ODP, drivers/infiniband/sw/rxe/rxe_odp.c, "
                                    + "arrived in 2025, after 6.12; Debian sid's 7.2 has it, trixie's 6.12 and bookworm's "
                                    + "6.1 do not; it also needs CONFIG_INFINIBAND_ON_DEMAND_PAGING=y)"));
        }
    }

    /**
     * Whether the device runs atomic operations ({@code atomic_cap != IBV_ATOMIC_NONE}).
     *
     * @return true when fetch-add and compare-swap are available
     */
    public boolean hasAtomics() {
        return atomics;
    }

    /**
     * Registers all of {@code memory} as an On-Demand Paging memory region
     * ({@code IBV_ACCESS_ON_DEMAND}): nothing is pinned; the device faults pages in through
     * {@code hmm_range_fault()} when it touches them and drops them on invalidation. Local write,
     * remote read, remote write and remote atomic access.
     *
     * @param memory the memory to register; it must stay mapped while the region is open
     * @return the region
     * @throws RdmaUnsupportedException when the device has no ODP ({@link #requireOdp})
     * @throws RdmaException            the errno of {@code ibv_reg_mr}
     */
    public MemoryRegion registerOnDemand(Memory memory) throws RdmaException {
        requireOdp();
        return register(memory, true);
    }

    /**
     * Registers {@code length} bytes of {@code memory} from byte {@code offset} on as an On-Demand
     * Paging region, as {@link #registerOnDemand(Memory)} does all of it: the region's interval
     * notifier covers exactly those bytes' pages, so the kernel must find it for invalidations that
     * only touch its ends.
     *
     * @param memory the memory a part of which is registered; it must stay mapped while the region is open
     * @param offset the first byte, from {@code memory}'s address; region offsets count from here
     * @param length the bytes registered
     * @return the region
     * @throws IllegalArgumentException when {@code [offset, offset + length)} is empty or not inside {@code memory}
     * @throws RdmaUnsupportedException when the device has no ODP ({@link #requireOdp})
     * @throws RdmaException            the errno of {@code ibv_reg_mr}
     */
    public MemoryRegion registerOnDemand(Memory memory, long offset, long length) throws RdmaException {
        if (offset < 0 || length <= 0 || offset > memory.byteSize() - length) {
            throw new IllegalArgumentException("bytes " + offset + "+" + length + " are not inside the " + memory.byteSize()
                    + " bytes of " + memory);
        }
        requireOdp();
        return register(memory.address() + offset, length, true);
    }

    /**
     * Registers all of {@code memory} as an ordinary memory region: the kernel pins every page
     * ({@code pin_user_pages}) for as long as the region is open.
     *
     * @param memory the memory to register
     * @return the region
     * @throws RdmaException the errno of {@code ibv_reg_mr} (ENOMEM past {@code ulimit -l})
     */
    public MemoryRegion registerPinned(Memory memory) throws RdmaException {
        return register(memory, false);
    }

    private MemoryRegion register(Memory memory, boolean onDemand) throws RdmaException {
        return register(memory.address(), memory.byteSize(), onDemand);
    }

    private synchronized MemoryRegion register(long address, long length, boolean onDemand) throws RdmaException {
        checkOpen();
        int access = Verbs.IBV_ACCESS_LOCAL_WRITE() | Verbs.IBV_ACCESS_REMOTE_READ() | Verbs.IBV_ACCESS_REMOTE_WRITE()
                | (atomics ? Verbs.IBV_ACCESS_REMOTE_ATOMIC() : 0) | (onDemand ? Verbs.IBV_ACCESS_ON_DEMAND() : 0);
        MemorySegment mr;
        try {
            mr = Ibv.regMr(pd, address, length, access);
        } catch (Ibv.NativeError e) {
            throw new RdmaException("ibv_reg_mr" + (onDemand ? " (On-Demand Paging)" : " (pinned)"),
                    name + " at 0x" + Long.toHexString(address) + "+" + length, e.errno,
                    e.errno == 12 && !onDemand ? "pinning needs RLIMIT_MEMLOCK (ulimit -l) of the region's size" : null);
        }
        MemoryRegion r = new MemoryRegion(this, mr, address, length, onDemand);
        children.push(r);
        return r;
    }

    /**
     * Connects two RC queue pairs of this device to each other through the port's GID (rxe loops
     * traffic to its own GID back): the requester posts, the responder serves from its regions.
     *
     * @return the connection
     * @throws RdmaException the errno of {@code ibv_create_cq}, {@code ibv_create_qp} or
     *                       {@code ibv_modify_qp}; {@code ENETDOWN} when the port is not active or has
     *                       no GID (bring the netdev up and give it an address)
     */
    public synchronized LoopbackConnection connectLoopback() throws RdmaException {
        checkOpen();
        LoopbackConnection c = LoopbackConnection.open(this);
        children.push(c);
        return c;
    }

    /**
     * The GID this device's port 1 is reached by: an IPv4-mapped one if the netdev has an IPv4
     * address, else the first one in the table.
     *
     * @return the GID index
     * @throws RdmaException {@code ENETDOWN} when the port is not active or has no GID
     */
    int sourceGidIndex(byte[] gidOut) throws RdmaException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment port = a.allocate(ibv_port_attr.layout());
            int rc = Ibv.queryPort(context, PORT, port);
            if (rc != 0) {
                throw new RdmaException("ibv_query_port", name + " port " + PORT, rc, null);
            }
            if (ibv_port_attr.state(port) != Verbs.IBV_PORT_ACTIVE()) {
                throw new RdmaException("ibv_query_port", name + " port " + PORT, 100 /* ENETDOWN */,
                        "the port is not active (state " + ibv_port_attr.state(port)
                                + "): bring its netdev up (ip link set DEV up)");
            }
            int found = -1;
            byte[] first = null;
            MemorySegment gid = a.allocate(ibv_gid.layout());
            for (int i = 0; i < ibv_port_attr.gid_tbl_len(port); i++) {
                if (Ibv.queryGid(context, PORT, i, gid) != 0) {
                    continue;
                }
                byte[] g = gid.toArray(ValueLayout.JAVA_BYTE);
                if (isZero(g)) {
                    continue;
                }
                if (isIpv4Mapped(g)) {
                    System.arraycopy(g, 0, gidOut, 0, 16);
                    return i;
                }
                if (found < 0) {
                    found = i;
                    first = g;
                }
            }
            if (found < 0) {
                throw new RdmaException("ibv_query_gid", name + " port " + PORT, 100 /* ENETDOWN */,
                        "no GID: give the device's netdev an address (ip addr add ... dev DEV) and bring it up");
            }
            System.arraycopy(first, 0, gidOut, 0, 16);
            return found;
        }
    }

    int activeMtu() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment port = a.allocate(ibv_port_attr.layout());
            return Ibv.queryPort(context, PORT, port) == 0 ? ibv_port_attr.active_mtu(port) : Verbs.IBV_MTU_1024();
        }
    }

    private static boolean isZero(byte[] g) {
        for (byte b : g) {
            if (b != 0) {
                return false;
            }
        }
        return true;
    }

    private static boolean isIpv4Mapped(byte[] g) {
        for (int i = 0; i < 10; i++) {
            if (g[i] != 0) {
                return false;
            }
        }
        return g[10] == (byte) 0xff && g[11] == (byte) 0xff;
    }

    static String gidText(byte[] g) {
        return HexFormat.ofDelimiter(":").formatHex(g);
    }

    MemorySegment context() {
        return context;
    }

    MemorySegment pd() {
        return pd;
    }

    synchronized void forget(AutoCloseable child) {
        children.remove(child);
    }

    synchronized void checkOpen() {
        if (closed) {
            throw new IllegalStateException(name + " is closed");
        }
    }

    /**
     * Closes every region and connection still open (newest first), the protection domain and
     * the device. Idempotent.
     *
     * @throws RdmaException the errno of {@code ibv_dealloc_pd} or {@code ibv_close_device} (after
     *                       everything else was closed)
     */
    @Override
    public void close() throws RdmaException {
        List<AutoCloseable> open;
        synchronized (this) {
            if (closed) {
                return;
            }
            open = new ArrayList<>(children);
        }
        RdmaException first = null;
        for (AutoCloseable c : open) {
            try {
                c.close();
            } catch (RdmaException e) {
                first = first == null ? e : first;
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
        synchronized (this) {
            closed = true;
            int rc = Ibv.deallocPd(pd);
            if (rc != 0 && first == null) {
                first = new RdmaException("ibv_dealloc_pd", name, rc, null);
            }
            rc = Ibv.closeDevice(context);
            if (rc != 0 && first == null) {
                first = new RdmaException("ibv_close_device", name, Math.abs(rc), null);
            }
        }
        if (first != null) {
            throw first;
        }
    }

    @Override
    public String toString() {
        return "RdmaDevice[" + name + ", ODP " + odp + "]";
    }
}
