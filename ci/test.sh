#!/usr/bin/env bash
# The test command: host unit tests and the harness's own guest checks (Maven,
# booting HMM_HARNESS_KERNEL, default the first kernel of HMM_KERNELS), then the guest suite on every kernel
# of HMM_KERNELS (default: the three stock Debian kernels) as one matrix, several
# guests at once (HMM_PARALLEL, default auto: one per core plus one, at most one
# per 2.5 GiB of free memory; 1 = one after another). Each profile's guest is booted once; the merged
# reports (index.html, summary.json, junit-<profile>.xml) and per kernel the
# console log and dmesg go to guest-tests/target/hmm-report/ (HMM_REPORT_DIR).
# Arguments go to Maven.
set -uo pipefail
cd "$(dirname "$0")/.."
source ci/env.sh || exit 1
kernels=${HMM_KERNELS:-debian-sid debian-trixie debian-bookworm}
read -r first _ <<<"$kernels"
first=${HMM_HARNESS_KERNEL:-$first}
rc=0
echo "[hmm] ===== host tests and harness checks (guest: $first) ====="
mvn -B install -Dhmm.suite.skip=true -Dhmm.kernel="$first" "$@" || rc=1
echo "[hmm] ===== guest suite on: $kernels (${HMM_PARALLEL:-auto} guests at once) ====="
args=()
for k in $kernels; do args+=(--kernel "$k"); done
HMM_REPORT_DIR=${HMM_REPORT_DIR:-guest-tests/target/hmm-report} ci/hmm matrix "${args[@]}" || rc=1
exit $rc
