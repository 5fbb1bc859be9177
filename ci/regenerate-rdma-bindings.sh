#!/usr/bin/env bash
# Regenerates the jextract bindings of libibverbs (<infiniband/verbs.h>, Debian's libibverbs-dev)
# that the rdma module uses, into rdma/src/generated/java, and records the header's version and
# SHA-256 in rdma/src/generated/GENERATED.properties. Only the subset the module calls is kept.
#   ci/regenerate-rdma-bindings.sh [INCLUDE_ROOT]
# INCLUDE_ROOT (default /usr/include) holds infiniband/verbs.h; the committed bindings come from
# the libibverbs-dev of the guest userland's suite (sid), extracted with dpkg-deb -x.
# Needs an installed jextract (on PATH, or JEXTRACT=/path/to/bin/jextract). The generated files
# are committed and never edited by hand.
#
# ibv_post_send, ibv_poll_cq, ibv_query_device_ex and ibv_advise_mr are static inline in verbs.h
# (no symbol to bind): the module calls them through the function pointers of struct
# ibv_context_ops and struct verbs_context, whose layouts are generated here (no C shim).
set -euo pipefail
cd "$(dirname "$0")/.."
JEXTRACT=${JEXTRACT:-$(command -v jextract || true)}
if [[ -z "$JEXTRACT" || ! -x "$JEXTRACT" ]]; then
  echo "jextract not found: put it on PATH or set JEXTRACT=/path/to/bin/jextract (see README, 'Regenerating the bindings')" >&2
  exit 1
fi
INC=${1:-/usr/include}
HEADER=$INC/infiniband/verbs.h
if [[ ! -f $HEADER ]]; then
  echo "$HEADER not found: install libibverbs-dev, or pass the root of an extracted libibverbs-dev .deb" >&2
  exit 1
fi
OUT=rdma/src/generated/java
PKG=dev.hmmmirror.rdma.internal.gen
rm -rf "${OUT:?}/${PKG//.//}"
mkdir -p "$OUT"
args=(--output "$OUT" -t "$PKG" --header-class-name Verbs -I "$INC" -l :libibverbs.so.1)
for f in ibv_get_device_list ibv_free_device_list ibv_get_device_name ibv_open_device ibv_close_device \
    ibv_alloc_pd ibv_dealloc_pd ibv_reg_mr ibv_dereg_mr ibv_create_cq ibv_destroy_cq ibv_create_qp \
    ibv_modify_qp ibv_destroy_qp ibv_query_port ibv_query_gid ibv_query_device ibv_wc_status_str; do
  args+=(--include-function "$f")
done
for s in ibv_device ibv_context ibv_context_ops verbs_context ibv_pd ibv_mr ibv_cq ibv_qp ibv_qp_cap \
    ibv_qp_init_attr ibv_qp_attr ibv_ah_attr ibv_global_route ibv_port_attr ibv_sge ibv_send_wr ibv_wc \
    ibv_device_attr ibv_device_attr_ex ibv_odp_caps ibv_query_device_ex_input ibv_tso_caps ibv_rss_caps \
    ibv_packet_pacing_caps ibv_tm_caps ibv_cq_moderation_caps ibv_pci_atomic_caps ibv_mw_bind_info _ibv_device_ops; do
  args+=(--include-struct "$s")
done
args+=(--include-union ibv_gid --include-typedef pthread_mutex_t --include-typedef pthread_cond_t \
  --include-struct __pthread_mutex_s --include-struct __pthread_cond_s --include-struct __pthread_internal_list --include-typedef __atomic_wide_counter)
# the enum constants the module uses, by prefix
for c in $(sed -n 's/^\t\(IBV_\(ACCESS\|ODP\|QPS\|QP\|WR\|WC\|SEND\|MTU\|PORT\|ATOMIC\)_[A-Z_0-9]*\)\b.*/\1/p' "$HEADER" | sort -u) \
    IBV_QPT_RC IBV_ADVISE_MR_ADVICE_PREFETCH IBV_ADVISE_MR_ADVICE_PREFETCH_WRITE IBV_ADVISE_MR_FLAG_FLUSH; do
  args+=(--include-constant "$c")
done
"$JEXTRACT" "${args[@]}" "$HEADER"
pkg=$(dpkg-query -W -f='${Version}' libibverbs-dev 2>/dev/null || true)
{
  echo "# Written by ci/regenerate-rdma-bindings.sh; checked by VerbsHeaderTest."
  echo "header=infiniband/verbs.h"
  echo "sha256=$(sha256sum "$HEADER" | cut -d' ' -f1)"
  echo "libibverbs-dev=${LIBIBVERBS_DEV_VERSION:-$pkg}"
  echo "jextract=$("$JEXTRACT" --version 2>&1 | head -1)"
} > rdma/src/generated/GENERATED.properties
echo "bindings regenerated in $OUT"
