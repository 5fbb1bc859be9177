/* Prints the sizes, offsets and constants of <infiniband/verbs.h> that the rdma module's
 * hand-written code relies on, as "name value" lines; VerbsLayoutProbeTest compares them with the
 * jextract layouts. Only ABI-stable items (the structs' sizes and offsets libibverbs keeps across
 * versions; verbs_context grows at its start, so its items are distances to its context field).
 * FLUSH and ATOMIC_WRITE of the ODP caps are newer than some headers: OdpOperationTest checks them. */
#include <stddef.h>
#include <stdio.h>
#include <infiniband/verbs.h>

#define SIZE(s) printf(#s ".size %zu\n", sizeof(struct s))
#define OFF(s, f) printf(#s "." #f " %zu\n", offsetof(struct s, f))
#define CONST(c) printf(#c " %lld\n", (long long)(c))
#define BACK(f) printf("verbs_context.context-" #f " %zu\n", \
		       offsetof(struct verbs_context, context) - offsetof(struct verbs_context, f))

int main(void)
{
	OFF(ibv_context, ops); OFF(ibv_context, abi_compat);
	OFF(ibv_context_ops, poll_cq); OFF(ibv_context_ops, post_send);
	BACK(query_device_ex); BACK(advise_mr); BACK(sz);
	OFF(ibv_cq, context); OFF(ibv_qp, context); OFF(ibv_qp, qp_num);
	OFF(ibv_mr, lkey); OFF(ibv_mr, rkey);
	SIZE(ibv_sge); OFF(ibv_sge, addr); OFF(ibv_sge, length); OFF(ibv_sge, lkey);
	SIZE(ibv_send_wr); OFF(ibv_send_wr, wr_id); OFF(ibv_send_wr, sg_list); OFF(ibv_send_wr, num_sge);
	OFF(ibv_send_wr, opcode); OFF(ibv_send_wr, send_flags);
	OFF(ibv_send_wr, wr.rdma.remote_addr); OFF(ibv_send_wr, wr.rdma.rkey);
	OFF(ibv_send_wr, wr.atomic.remote_addr); OFF(ibv_send_wr, wr.atomic.compare_add);
	OFF(ibv_send_wr, wr.atomic.swap); OFF(ibv_send_wr, wr.atomic.rkey);
	SIZE(ibv_wc); OFF(ibv_wc, wr_id); OFF(ibv_wc, status); OFF(ibv_wc, vendor_err);
	SIZE(ibv_qp_init_attr); OFF(ibv_qp_init_attr, send_cq); OFF(ibv_qp_init_attr, recv_cq);
	OFF(ibv_qp_init_attr, cap); OFF(ibv_qp_init_attr, qp_type); OFF(ibv_qp_init_attr, sq_sig_all);
	OFF(ibv_qp_cap, max_send_wr); OFF(ibv_qp_cap, max_recv_wr); OFF(ibv_qp_cap, max_send_sge);
	OFF(ibv_qp_cap, max_recv_sge);
	SIZE(ibv_qp_attr); OFF(ibv_qp_attr, qp_state); OFF(ibv_qp_attr, path_mtu); OFF(ibv_qp_attr, rq_psn);
	OFF(ibv_qp_attr, sq_psn); OFF(ibv_qp_attr, dest_qp_num); OFF(ibv_qp_attr, qp_access_flags);
	OFF(ibv_qp_attr, ah_attr); OFF(ibv_qp_attr, pkey_index); OFF(ibv_qp_attr, max_rd_atomic);
	OFF(ibv_qp_attr, max_dest_rd_atomic); OFF(ibv_qp_attr, min_rnr_timer); OFF(ibv_qp_attr, port_num);
	OFF(ibv_qp_attr, timeout); OFF(ibv_qp_attr, retry_cnt); OFF(ibv_qp_attr, rnr_retry);
	SIZE(ibv_ah_attr); OFF(ibv_ah_attr, grh); OFF(ibv_ah_attr, sl); OFF(ibv_ah_attr, is_global);
	OFF(ibv_ah_attr, port_num);
	OFF(ibv_global_route, dgid); OFF(ibv_global_route, sgid_index); OFF(ibv_global_route, hop_limit);
	OFF(ibv_port_attr, state); OFF(ibv_port_attr, active_mtu); OFF(ibv_port_attr, gid_tbl_len);
	OFF(ibv_device_attr, atomic_cap);
	OFF(ibv_device_attr_ex, odp_caps); OFF(ibv_odp_caps, general_caps);
	OFF(ibv_odp_caps, per_transport_caps.rc_odp_caps);
	CONST(IBV_WC_SUCCESS); CONST(IBV_WC_REM_ACCESS_ERR); CONST(IBV_WC_GENERAL_ERR);
	CONST(IBV_WC_TM_RNDV_INCOMPLETE);
	CONST(IBV_ODP_SUPPORT_SEND); CONST(IBV_ODP_SUPPORT_RECV); CONST(IBV_ODP_SUPPORT_WRITE);
	CONST(IBV_ODP_SUPPORT_READ); CONST(IBV_ODP_SUPPORT_ATOMIC); CONST(IBV_ODP_SUPPORT_SRQ_RECV);
	CONST(IBV_ACCESS_ON_DEMAND); CONST(IBV_WR_RDMA_READ); CONST(IBV_WR_RDMA_WRITE);
	CONST(IBV_WR_ATOMIC_FETCH_AND_ADD); CONST(IBV_WR_ATOMIC_CMP_AND_SWP);
	return 0;
}
