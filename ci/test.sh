#!/usr/bin/env bash
# The test command: host unit tests, then the guest suite on each kernel
# profile of HMM_KERNELS (default: the three stock Debian kernels). Each
# profile's guest is booted once; reports go to
# guest-tests/target/failsafe-reports/<profile>/ and console logs to
# */target/hmm-guest/<profile>/console.log.
set -uo pipefail
cd "$(dirname "$0")/.."
source ci/env.sh || exit 1
kernels=${HMM_KERNELS:-debian-sid debian-trixie debian-bookworm}
rc=0
first=1
for k in $kernels; do
  echo "[hmm] ===== guest suite on $k ====="
  if ((first)); then
    # full build: host unit tests, the harness's own guest checks, the guest suite
    mvn -B install -Dhmm.kernel="$k" "$@" || rc=1
    first=0
  else
    mvn -B verify -pl guest-tests -Dhmm.kernel="$k" "$@" || rc=1
  fi
done
exit $rc
