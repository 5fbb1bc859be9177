#!/usr/bin/env bash
# The guest suite through the container runner: QEMU and the kernel's gcc in a
# locally built image (Testcontainers), on one profile (HMM_KERNELS, default
# debian-sid). Starts dockerd when no engine answers (ci/start-docker.sh).
# Expects the project installed by ci/test.sh (mvn install); reports go to
# guest-tests/target/failsafe-reports/<profile>-container/, the console to
# guest-tests/target/hmm-guest/<profile>-container/console.log.
set -uo pipefail
cd "$(dirname "$0")/.."
source ci/env.sh || exit 1
bash ci/start-docker.sh || exit 1
rc=0
for k in ${HMM_KERNELS:-debian-sid}; do
  echo "[hmm] ===== guest suite on $k, container runner ====="
  # a run directory deeper than a unix socket path may be: the agent socket must not live there
  deep=$PWD/guest-tests/target/hmm-guest-deep/$(printf "a-deep-checkout-%02d/" $(seq 1 6))
  # the explorer's campaigns and the JIT reachability stress test the module and the bindings,
  # not the runner: the local matrix runs them
  mvn -B verify -pl guest-tests -Dhmm.kernel="$k" -Dhmm.runner=container -Dhmm.reports="$k-container" \
    -Dhmm.run.dir="$deep" -Dit.test='!ExplorerIT,!PlantedBugIT,!FuzzIT,!RaceIT,!ExplorerFoundIT,!ReachabilityStressIT' \
    -Dfailsafe.failIfNoSpecifiedTests=false "$@" || rc=1
done
exit $rc
