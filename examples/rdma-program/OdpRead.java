import dev.hmmmirror.Memory;
import dev.hmmmirror.rdma.LoopbackConnection;
import dev.hmmmirror.rdma.MemoryRegion;
import dev.hmmmirror.rdma.OdpOperation;
import dev.hmmmirror.rdma.RdmaDevice;
import dev.hmmmirror.rdma.RdmaUnsupportedException;
import dev.hmmmirror.rdma.SoftRoce;
import java.nio.charset.StandardCharsets;

/**
 * A real device mirroring this process through HMM: register 4 pages as an rxe (soft-RoCE)
 * On-Demand Paging memory region and read them over RDMA. Nothing is pinned; rxe faults the pages
 * in with hmm_range_fault() when its RDMA READ touches them, and its mmu_interval_notifier drops
 * them when the kernel does (here: MADV_DONTNEED), so the second read sees the CPU's new pages.
 *
 * <p>Needs java-bindings and hmm-rdma on the classpath (hmm run puts both there) and a kernel with
 * rxe ODP (Debian sid's 7.2; trixie's 6.12 and bookworm's 6.1 have rxe without ODP):
 * <pre>
 * javac -cp java-bindings.jar:hmm-rdma.jar -d classes OdpRead.java
 * jar cfe odp-read.jar OdpRead -C classes .
 * hmm run --kernel debian-sid --java odp-read.jar
 * </pre>
 * Exit code: 0 every page came back, 1 wrong bytes, 3 the kernel lacks rxe or its ODP (said why).
 */
public class OdpRead {
    private static final int PAGES = 4;

    /** What the CPU writes at the start of page {@code page} in round {@code round}. */
    private static String text(int page, int round) {
        return "page " + page + ", round " + round + ", written by the CPU";
    }

    public static void main(String[] args) throws Exception {
        int pageSize = (int) Memory.pageSize();
        System.out.println("OdpRead: setting up " + SoftRoce.DEVICE + " on " + SoftRoce.NETDEV
                + " (modprobe rdma_rxe, a dummy netdev, rdma link add: a few seconds)");
        int wrong = 0;
        try (RdmaDevice rxe = SoftRoce.open(); Memory data = Memory.anonymous(PAGES);
                Memory buffer = Memory.anonymous(PAGES)) {
            rxe.requireOdp(OdpOperation.READ);
            MemoryRegion odp = rxe.registerOnDemand(data);   // the mirror: nothing mapped, nothing pinned
            MemoryRegion local = rxe.registerPinned(buffer);  // where the RDMA READ lands
            LoopbackConnection qp = rxe.connectLoopback();
            System.out.println("OdpRead: " + rxe.name() + " (ODP on RC: " + rxe.odpCapabilities().rc() + "), a region over " + PAGES + " pages at 0x"
                    + Long.toHexString(data.address()));
            for (int round = 1; round <= 2; round++) {
                for (int p = 0; p < PAGES; p++) {
                    data.write((long) p * pageSize, text(p, round).getBytes(StandardCharsets.US_ASCII));
                }
                buffer.write(0, new byte[PAGES * pageSize]);
                qp.read(local, 0, odp, 0, PAGES * pageSize); // rxe faults the pages in through HMM
                for (int p = 0; p < PAGES; p++) {
                    String want = text(p, round);
                    String seen = new String(buffer.bytes((long) p * pageSize, want.length()),
                            StandardCharsets.US_ASCII).replace('\0', '.');
                    System.out.println("OdpRead: read over RDMA: \"" + seen + "\"");
                    if (!seen.equals(want)) {
                        System.out.println("OdpRead: WRONG: expected \"" + want + "\"");
                        wrong++;
                    }
                }
                if (round == 1) {
                    // the kernel frees the pages: rxe's notifier invalidates its mapping of them
                    data.adviseDontNeed(0, PAGES);
                    System.out.println("OdpRead: MADV_DONTNEED: the CPU writes new pages");
                }
            }
        } catch (RdmaUnsupportedException e) {
            System.out.println("OdpRead: cannot run here: " + e.getMessage());
            System.exit(3);
        }
        System.out.println(wrong == 0 ? "OdpRead: all " + 2 * PAGES + " pages read over RDMA were the CPU's latest"
                : "OdpRead: " + wrong + " of " + 2 * PAGES + " pages read over RDMA were wrong");
        System.exit(wrong == 0 ? 0 : 1);
    }
}
