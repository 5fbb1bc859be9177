package dev.hmmmirror.guest.rdma;

import dev.hmmmirror.Errno;
import dev.hmmmirror.HmmException;
import dev.hmmmirror.Memory;
import dev.hmmmirror.rdma.LoopbackConnection;
import dev.hmmmirror.rdma.MemoryRegion;
import dev.hmmmirror.rdma.RdmaDevice;
import dev.hmmmirror.rdma.RdmaException;
import dev.hmmmirror.rdma.WorkCompletionException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Arrays;

/**
 * One {@link Memory} under an rxe On-Demand Paging region, reached through a loopback connection
 * from a small pinned buffer: the rxe side of the tests that put the same pages under rxe's mirror
 * and ours ({@code RxeDifferentialIT}, {@code RxeMmEventsIT}). Owns the memory.
 *
 * <p>Every operation goes in chunks of at most {@link #CHUNK_PAGES} pages (long READs went
 * unanswered under load: docs/rxe.md). A failed work completion leaves the connection in the error
 * state: it is replaced and the {@link WorkCompletionException} thrown. An operation without a
 * completion in {@link #TIMEOUT} is said on stdout and retried once on a new connection. Tests that
 * make a hole in the address space call {@link #prepareConnections} before they make it.
 */
final class OdpPages implements AutoCloseable {
    private static final int PAGE = (int) Memory.pageSize();
    /** Pages per RDMA operation: 64 KiB with 4 KiB pages. */
    static final int CHUNK_PAGES = 16;
    /** How long an RDMA operation waits for its completion before it is retried once on a new connection. */
    static final Duration TIMEOUT = Duration.ofSeconds(20);

    private final RdmaDevice device;
    private final String who;
    private final Memory mem;
    private final MemoryRegion odp;
    private final Memory local;
    private final MemoryRegion buffer;
    private LoopbackConnection qp;
    /** Connections made before a test made a hole in the address space: see {@link #prepareConnections}. */
    private final ArrayDeque<LoopbackConnection> spare = new ArrayDeque<>();

    /**
     * Registers {@code mem} on demand with {@code device} and connects.
     *
     * @param who the test class, named in what is printed
     */
    OdpPages(RdmaDevice device, Memory mem, String who) throws HmmException {
        this(device, mem, 0, mem.byteSize() / PAGE, who);
    }

    /**
     * Registers pages {@code [first, first + pages)} of {@code mem} on demand with {@code device} and
     * connects; region page 0 is {@code mem}'s page {@code first}.
     *
     * @param who the test class, named in what is printed
     */
    OdpPages(RdmaDevice device, Memory mem, long first, long pages, String who) throws HmmException {
        this.device = device;
        this.who = who;
        this.mem = mem;
        this.odp = first == 0 && pages * PAGE == mem.byteSize() ? device.registerOnDemand(mem)
                : device.registerOnDemand(mem, first * PAGE, pages * PAGE);
        this.local = Memory.anonymous(CHUNK_PAGES);
        this.buffer = device.registerPinned(local);
        this.qp = device.connectLoopback().timeout(TIMEOUT);
    }

    /** The memory under both mirrors. */
    Memory memory() {
        return mem;
    }

    /** Its ODP region. */
    MemoryRegion region() {
        return odp;
    }

    /** RDMA READ of pages {@code [first, first + pages)} of the ODP region. */
    byte[] read(long first, int pages) throws RdmaException {
        return read(odp, first, pages);
    }

    /** RDMA READ of pages {@code [first, first + pages)} of {@code region} (another region of the same device). */
    byte[] read(MemoryRegion region, long first, int pages) throws RdmaException {
        byte[] out = new byte[pages * PAGE];
        for (int done = 0; done < pages; done += CHUNK_PAGES) {
            int n = Math.min(CHUNK_PAGES, pages - done) * PAGE;
            long from = (first + done) * PAGE;
            rdma(() -> qp.read(buffer, 0, region, from, n));
            System.arraycopy(local.bytes(0, n), 0, out, done * PAGE, n);
        }
        return out;
    }

    /** RDMA WRITE of {@code data} (whole pages) to the ODP region from page {@code first} on. */
    void write(long first, byte[] data) throws RdmaException {
        for (int done = 0; done * PAGE < data.length; done += CHUNK_PAGES) {
            int n = Math.min(CHUNK_PAGES * PAGE, data.length - done * PAGE);
            local.write(0, Arrays.copyOfRange(data, done * PAGE, done * PAGE + n));
            long to = (first + done) * PAGE;
            rdma(() -> qp.write(buffer, 0, odp, to, n));
        }
    }

    /** RDMA fetch-and-add of {@code add} to the word at byte {@code offset} of the ODP region: the old value. */
    long fetchAndAdd(long offset, long add) throws RdmaException {
        long[] old = new long[1];
        rdma(() -> old[0] = qp.fetchAndAdd(odp, offset, add, buffer, 0));
        return old[0];
    }

    private interface Rdma {
        void run() throws RdmaException;
    }

    /** One RDMA operation, with the replacement after a failed completion and the one retry after a timeout. */
    private void rdma(Rdma op) throws RdmaException {
        for (boolean retried = false;; retried = true) {
            try {
                op.run();
                return;
            } catch (WorkCompletionException e) {
                reconnect();
                throw e;
            } catch (RdmaException e) {
                if (retried || e.errno() != Errno.ETIMEDOUT.number()) {
                    throw e;
                }
                System.out.println(who + ": an RDMA operation got no completion in " + TIMEOUT.toSeconds()
                        + " s; retried on a new connection: " + e.getMessage());
                reconnect();
            }
        }
    }

    private void reconnect() throws RdmaException {
        qp.close();
        LoopbackConnection next = spare.poll();
        qp = next != null ? next : device.connectLoopback().timeout(TIMEOUT);
    }

    /**
     * Makes {@code n} connections now, for the reconnects after failed completions to use. A new
     * connection maps its queues into this process (rxe's rings, mmap on the uverbs file), and the
     * kernel places such small mappings in the newest hole it finds: right after {@code munmap}
     * that is the hole under test, and the next access through it would reach rxe's queue instead
     * of nothing (seen once on built-7.2 in a full suite: our write EFAULT, then rxe's write to the
     * same page succeeded).
     */
    void prepareConnections(int n) throws RdmaException {
        for (int i = 0; i < n; i++) {
            spare.add(device.connectLoopback().timeout(TIMEOUT));
        }
    }

    @Override
    public void close() throws RdmaException {
        try (mem; local; odp; buffer) {
            qp.close();
            for (LoopbackConnection c : spare) {
                c.close();
            }
        }
    }
}
