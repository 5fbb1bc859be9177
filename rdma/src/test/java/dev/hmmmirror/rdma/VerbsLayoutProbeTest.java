package dev.hmmmirror.rdma;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.hmmmirror.rdma.internal.Ibv;
import dev.hmmmirror.rdma.internal.gen.Verbs;
import dev.hmmmirror.rdma.internal.gen.ibv_ah_attr;
import dev.hmmmirror.rdma.internal.gen.ibv_context;
import dev.hmmmirror.rdma.internal.gen.ibv_context_ops;
import dev.hmmmirror.rdma.internal.gen.ibv_cq;
import dev.hmmmirror.rdma.internal.gen.ibv_device_attr;
import dev.hmmmirror.rdma.internal.gen.ibv_device_attr_ex;
import dev.hmmmirror.rdma.internal.gen.ibv_global_route;
import dev.hmmmirror.rdma.internal.gen.ibv_mr;
import dev.hmmmirror.rdma.internal.gen.ibv_odp_caps;
import dev.hmmmirror.rdma.internal.gen.ibv_port_attr;
import dev.hmmmirror.rdma.internal.gen.ibv_qp;
import dev.hmmmirror.rdma.internal.gen.ibv_qp_attr;
import dev.hmmmirror.rdma.internal.gen.ibv_qp_cap;
import dev.hmmmirror.rdma.internal.gen.ibv_qp_init_attr;
import dev.hmmmirror.rdma.internal.gen.ibv_send_wr;
import dev.hmmmirror.rdma.internal.gen.ibv_sge;
import dev.hmmmirror.rdma.internal.gen.ibv_wc;
import dev.hmmmirror.rdma.internal.gen.verbs_context;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Compiles a C probe against the installed {@code <infiniband/verbs.h>} (libibverbs-dev; another
 * include root with {@code -Dverbs.include=DIR}) and checks every size, offset and constant the
 * rdma module's hand-written code relies on against the jextract output: the generated bindings
 * come from Debian sid's libibverbs-dev, and these items are libibverbs' stable ABI, so any
 * libibverbs-dev must agree.
 */
class VerbsLayoutProbeTest {
    static final Path ROOT = Path.of(System.getProperty("hmm.root", "..")).toAbsolutePath().normalize();

    @Test
    void everyOffsetAndConstantTheModuleUsesMatchesTheCompiler(@TempDir Path tmp) throws Exception {
        Path include = Path.of(System.getProperty("verbs.include", "/usr/include"));
        assumeTrue(Files.isRegularFile(include.resolve("infiniband/verbs.h")), "no " + include
                + "/infiniband/verbs.h: install libibverbs-dev (or pass -Dverbs.include=DIR) to compare layouts");
        assumeTrue(Ibv.loadError() == null, "libibverbs.so.1 is not loadable (install libibverbs1): " + Ibv.loadError());
        Map<String, Long> c = probe(tmp, include);
        Map<String, Long> java = javaSide();
        assertEquals(new TreeSet<>(java.keySet()), new TreeSet<>(c.keySet()),
                "the C probe and the Java side check different items");
        for (var e : c.entrySet()) {
            assertEquals(e.getValue(), java.get(e.getKey()), "C and Java disagree on " + e.getKey());
        }
    }

    @Test
    void everyWorkCompletionStatusAndOdpBitIsThatOfTheHeader() {
        assumeTrue(Ibv.loadError() == null, "libibverbs.so.1 is not loadable (install libibverbs1): " + Ibv.loadError());
        assertEquals(Verbs.IBV_WC_TM_RNDV_INCOMPLETE() + 1, WorkCompletionStatus.values().length);
        assertEquals(Verbs.IBV_WC_SUCCESS(), WorkCompletionStatus.SUCCESS.ordinal());
        assertEquals(Verbs.IBV_WC_LOC_PROT_ERR(), WorkCompletionStatus.LOC_PROT_ERR.ordinal());
        assertEquals(Verbs.IBV_WC_REM_ACCESS_ERR(), WorkCompletionStatus.REM_ACCESS_ERR.ordinal());
        assertEquals(Verbs.IBV_WC_RETRY_EXC_ERR(), WorkCompletionStatus.RETRY_EXC_ERR.ordinal());
        assertEquals(Verbs.IBV_WC_GENERAL_ERR(), WorkCompletionStatus.GENERAL_ERR.ordinal());
        assertEquals(Verbs.IBV_WC_TM_ERR(), WorkCompletionStatus.TM_ERR.ordinal());
        for (WorkCompletionStatus s : WorkCompletionStatus.values()) {
            assertEquals(s, WorkCompletionStatus.of(s.ordinal()));
        }
        assertEquals(WorkCompletionStatus.GENERAL_ERR, WorkCompletionStatus.of(999));
        Map<OdpOperation, Integer> bits = Map.of(OdpOperation.SEND, Verbs.IBV_ODP_SUPPORT_SEND(), OdpOperation.RECV,
                Verbs.IBV_ODP_SUPPORT_RECV(), OdpOperation.WRITE, Verbs.IBV_ODP_SUPPORT_WRITE(), OdpOperation.READ,
                Verbs.IBV_ODP_SUPPORT_READ(), OdpOperation.ATOMIC, Verbs.IBV_ODP_SUPPORT_ATOMIC(),
                OdpOperation.SRQ_RECV, Verbs.IBV_ODP_SUPPORT_SRQ_RECV(), OdpOperation.FLUSH,
                Verbs.IBV_ODP_SUPPORT_FLUSH(), OdpOperation.ATOMIC_WRITE, Verbs.IBV_ODP_SUPPORT_ATOMIC_WRITE());
        assertEquals(OdpOperation.values().length, bits.size());
        for (var e : bits.entrySet()) {
            assertEquals(e.getValue(), e.getKey().bit(), e.getKey().name());
        }
        assertEquals(java.util.Set.of(OdpOperation.READ, OdpOperation.ATOMIC), OdpOperation.of(
                Verbs.IBV_ODP_SUPPORT_READ() | Verbs.IBV_ODP_SUPPORT_ATOMIC()));
    }

    private static Map<String, Long> javaSide() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("ibv_context.ops", ibv_context.ops$offset());
        m.put("ibv_context.abi_compat", Ibv.abiCompatOffset(System.getProperty("os.arch"))); // per architecture
        m.put("ibv_context_ops.poll_cq", ibv_context_ops.poll_cq$offset());
        m.put("ibv_context_ops.post_send", ibv_context_ops.post_send$offset());
        m.put("verbs_context.context-query_device_ex", verbs_context.context$offset()
                - verbs_context.query_device_ex$offset());
        m.put("verbs_context.context-advise_mr", verbs_context.context$offset() - verbs_context.advise_mr$offset());
        m.put("verbs_context.context-sz", verbs_context.context$offset() - verbs_context.sz$offset());
        m.put("ibv_cq.context", ibv_cq.context$offset());
        m.put("ibv_qp.context", ibv_qp.context$offset());
        m.put("ibv_qp.qp_num", ibv_qp.qp_num$offset());
        m.put("ibv_mr.lkey", ibv_mr.lkey$offset());
        m.put("ibv_mr.rkey", ibv_mr.rkey$offset());
        m.put("ibv_sge.size", ibv_sge.sizeof());
        m.put("ibv_sge.addr", ibv_sge.addr$offset());
        m.put("ibv_sge.length", ibv_sge.length$offset());
        m.put("ibv_sge.lkey", ibv_sge.lkey$offset());
        m.put("ibv_send_wr.size", ibv_send_wr.sizeof());
        m.put("ibv_send_wr.wr_id", ibv_send_wr.wr_id$offset());
        m.put("ibv_send_wr.sg_list", ibv_send_wr.sg_list$offset());
        m.put("ibv_send_wr.num_sge", ibv_send_wr.num_sge$offset());
        m.put("ibv_send_wr.opcode", ibv_send_wr.opcode$offset());
        m.put("ibv_send_wr.send_flags", ibv_send_wr.send_flags$offset());
        long wr = ibv_send_wr.wr$offset();
        m.put("ibv_send_wr.wr.rdma.remote_addr", wr + ibv_send_wr.wr.rdma$offset()
                + ibv_send_wr.wr.rdma.remote_addr$offset());
        m.put("ibv_send_wr.wr.rdma.rkey", wr + ibv_send_wr.wr.rdma$offset() + ibv_send_wr.wr.rdma.rkey$offset());
        long at = wr + ibv_send_wr.wr.atomic$offset();
        m.put("ibv_send_wr.wr.atomic.remote_addr", at + ibv_send_wr.wr.atomic.remote_addr$offset());
        m.put("ibv_send_wr.wr.atomic.compare_add", at + ibv_send_wr.wr.atomic.compare_add$offset());
        m.put("ibv_send_wr.wr.atomic.swap", at + ibv_send_wr.wr.atomic.swap$offset());
        m.put("ibv_send_wr.wr.atomic.rkey", at + ibv_send_wr.wr.atomic.rkey$offset());
        m.put("ibv_wc.size", ibv_wc.sizeof());
        m.put("ibv_wc.wr_id", ibv_wc.wr_id$offset());
        m.put("ibv_wc.status", ibv_wc.status$offset());
        m.put("ibv_wc.vendor_err", ibv_wc.vendor_err$offset());
        m.put("ibv_qp_init_attr.size", ibv_qp_init_attr.sizeof());
        m.put("ibv_qp_init_attr.send_cq", ibv_qp_init_attr.send_cq$offset());
        m.put("ibv_qp_init_attr.recv_cq", ibv_qp_init_attr.recv_cq$offset());
        m.put("ibv_qp_init_attr.cap", ibv_qp_init_attr.cap$offset());
        m.put("ibv_qp_init_attr.qp_type", ibv_qp_init_attr.qp_type$offset());
        m.put("ibv_qp_init_attr.sq_sig_all", ibv_qp_init_attr.sq_sig_all$offset());
        m.put("ibv_qp_cap.max_send_wr", ibv_qp_cap.max_send_wr$offset());
        m.put("ibv_qp_cap.max_recv_wr", ibv_qp_cap.max_recv_wr$offset());
        m.put("ibv_qp_cap.max_send_sge", ibv_qp_cap.max_send_sge$offset());
        m.put("ibv_qp_cap.max_recv_sge", ibv_qp_cap.max_recv_sge$offset());
        m.put("ibv_qp_attr.size", ibv_qp_attr.sizeof());
        m.put("ibv_qp_attr.qp_state", ibv_qp_attr.qp_state$offset());
        m.put("ibv_qp_attr.path_mtu", ibv_qp_attr.path_mtu$offset());
        m.put("ibv_qp_attr.rq_psn", ibv_qp_attr.rq_psn$offset());
        m.put("ibv_qp_attr.sq_psn", ibv_qp_attr.sq_psn$offset());
        m.put("ibv_qp_attr.dest_qp_num", ibv_qp_attr.dest_qp_num$offset());
        m.put("ibv_qp_attr.qp_access_flags", ibv_qp_attr.qp_access_flags$offset());
        m.put("ibv_qp_attr.ah_attr", ibv_qp_attr.ah_attr$offset());
        m.put("ibv_qp_attr.pkey_index", ibv_qp_attr.pkey_index$offset());
        m.put("ibv_qp_attr.max_rd_atomic", ibv_qp_attr.max_rd_atomic$offset());
        m.put("ibv_qp_attr.max_dest_rd_atomic", ibv_qp_attr.max_dest_rd_atomic$offset());
        m.put("ibv_qp_attr.min_rnr_timer", ibv_qp_attr.min_rnr_timer$offset());
        m.put("ibv_qp_attr.port_num", ibv_qp_attr.port_num$offset());
        m.put("ibv_qp_attr.timeout", ibv_qp_attr.timeout$offset());
        m.put("ibv_qp_attr.retry_cnt", ibv_qp_attr.retry_cnt$offset());
        m.put("ibv_qp_attr.rnr_retry", ibv_qp_attr.rnr_retry$offset());
        m.put("ibv_ah_attr.size", ibv_ah_attr.sizeof());
        m.put("ibv_ah_attr.grh", ibv_ah_attr.grh$offset());
        m.put("ibv_ah_attr.sl", ibv_ah_attr.sl$offset());
        m.put("ibv_ah_attr.is_global", ibv_ah_attr.is_global$offset());
        m.put("ibv_ah_attr.port_num", ibv_ah_attr.port_num$offset());
        m.put("ibv_global_route.dgid", ibv_global_route.dgid$offset());
        m.put("ibv_global_route.sgid_index", ibv_global_route.sgid_index$offset());
        m.put("ibv_global_route.hop_limit", ibv_global_route.hop_limit$offset());
        m.put("ibv_port_attr.state", ibv_port_attr.state$offset());
        m.put("ibv_port_attr.active_mtu", ibv_port_attr.active_mtu$offset());
        m.put("ibv_port_attr.gid_tbl_len", ibv_port_attr.gid_tbl_len$offset());
        m.put("ibv_device_attr.atomic_cap", ibv_device_attr.atomic_cap$offset());
        m.put("ibv_device_attr_ex.odp_caps", ibv_device_attr_ex.odp_caps$offset());
        m.put("ibv_odp_caps.general_caps", ibv_odp_caps.general_caps$offset());
        m.put("ibv_odp_caps.per_transport_caps.rc_odp_caps", ibv_odp_caps.per_transport_caps$offset()
                + ibv_odp_caps.per_transport_caps.rc_odp_caps$offset());
        m.put("IBV_WC_SUCCESS", (long) Verbs.IBV_WC_SUCCESS());
        m.put("IBV_WC_REM_ACCESS_ERR", (long) Verbs.IBV_WC_REM_ACCESS_ERR());
        m.put("IBV_WC_GENERAL_ERR", (long) Verbs.IBV_WC_GENERAL_ERR());
        m.put("IBV_WC_TM_RNDV_INCOMPLETE", (long) Verbs.IBV_WC_TM_RNDV_INCOMPLETE());
        m.put("IBV_ODP_SUPPORT_SEND", (long) Verbs.IBV_ODP_SUPPORT_SEND());
        m.put("IBV_ODP_SUPPORT_RECV", (long) Verbs.IBV_ODP_SUPPORT_RECV());
        m.put("IBV_ODP_SUPPORT_WRITE", (long) Verbs.IBV_ODP_SUPPORT_WRITE());
        m.put("IBV_ODP_SUPPORT_READ", (long) Verbs.IBV_ODP_SUPPORT_READ());
        m.put("IBV_ODP_SUPPORT_ATOMIC", (long) Verbs.IBV_ODP_SUPPORT_ATOMIC());
        m.put("IBV_ODP_SUPPORT_SRQ_RECV", (long) Verbs.IBV_ODP_SUPPORT_SRQ_RECV());
        m.put("IBV_ACCESS_ON_DEMAND", (long) Verbs.IBV_ACCESS_ON_DEMAND());
        m.put("IBV_WR_RDMA_READ", (long) Verbs.IBV_WR_RDMA_READ());
        m.put("IBV_WR_RDMA_WRITE", (long) Verbs.IBV_WR_RDMA_WRITE());
        m.put("IBV_WR_ATOMIC_FETCH_AND_ADD", (long) Verbs.IBV_WR_ATOMIC_FETCH_AND_ADD());
        m.put("IBV_WR_ATOMIC_CMP_AND_SWP", (long) Verbs.IBV_WR_ATOMIC_CMP_AND_SWP());
        return m;
    }

    private static Map<String, Long> probe(Path tmp, Path include) throws IOException, InterruptedException {
        Path src = ROOT.resolve("rdma/src/test/c/verbs_probe.c");
        Path exe = tmp.resolve("verbs_probe");
        run(tmp, "cc", "-Wall", "-Werror", "-I", include.toString(), "-o", exe.toString(), src.toString());
        String out = run(tmp, exe.toString());
        Map<String, Long> m = new TreeMap<>();
        for (String line : out.split("\n")) {
            String[] kv = line.trim().split(" ");
            m.put(kv[0], Long.parseUnsignedLong(kv[1]));
        }
        assertTrue(m.size() > 60, "probe printed too little: " + out);
        return m;
    }

    private static String run(Path dir, String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "timeout: " + String.join(" ", cmd));
        assertEquals(0, p.exitValue(), String.join(" ", cmd) + " failed:\n" + out);
        return out;
    }
}
