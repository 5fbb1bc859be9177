#!/usr/bin/env bash
# The guest suite on kernels built here from Debian's linux-source packages
# (vm-images' kconfig/hmm.config on tinyconfig; TEST_HMM=m), with the kernel's
# own hmm selftests run in the same guest and reported next to ours:
#   ci/test-built-kernels.sh                      built-7.2
#   HMM_BUILT_KERNELS="built-7.2 built-7.2-debug built-6.1" ci/test-built-kernels.sh
# The first run of a kernel compiles it (12-15 min on 2 cores, debug longer);
# later runs reuse the cached build. Reports: target/hmm-report-built/.
# Exit code as ci/hmm matrix: 0, 1 (our tests failed), 2 (kernel splat), 125.
set -uo pipefail
cd "$(dirname "$0")/.."
kernels=${HMM_BUILT_KERNELS:-built-7.2}
args=()
for k in $kernels; do args+=(--kernel "$k"); done
echo "[hmm] ===== guest suite + the kernel's hmm selftests on built kernels: $kernels ====="
HMM_REPORT_DIR=${HMM_REPORT_DIR:-target/hmm-report-built} exec ci/hmm matrix "${args[@]}" "$@"
