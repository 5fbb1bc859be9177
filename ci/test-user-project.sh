#!/usr/bin/env bash
# The example user project (examples/user-project) built as a user's project would be: a copy
# outside this checkout, against the artifacts installed by ci/test.sh (mvn install; the same
# local repository: MAVEN_OPTS/MAVEN_ARGS pass through), `mvn verify` boots a guest and runs its
# @GuestTest classes. Then checks that its Failsafe report holds both tests and what the passing
# test printed in the guest. Kernel: HMM_KERNEL (default debian-sid).
set -uo pipefail
cd "$(dirname "$0")/.."
source ci/env.sh || exit 1
work=$(mktemp -d "${TMPDIR:-/tmp}/hmm-user-project.XXXXXX")
trap 'rm -rf "$work"' EXIT
cp -r examples/user-project/. "$work/"
rm -rf "$work/target"
echo "[hmm] ===== the example user project, from a copy in $work ====="
(cd "$work" && mvn -B verify "$@") || { echo "[hmm] the example user project failed" >&2; exit 1; }
reports=$work/target/failsafe-reports
xml=$(ls "$reports"/TEST-*.xml 2>/dev/null | head -n 1)
fail=0
if [[ -z $xml ]] || ! grep -q 'tests="2"' "$xml"; then
  echo "[hmm] expected a Failsafe report with 2 tests in $reports" >&2; fail=1
fi
if ! grep -rqs "user-project: the device read" "$reports"; then
  echo "[hmm] the passing guest test's output is not in the report ($reports)" >&2; fail=1
fi
if ((fail)); then
  mkdir -p target && cp -r "$work/target" target/user-project-failed 2>/dev/null
  echo "[hmm] kept the project's target/ in target/user-project-failed" >&2
  exit 1
fi
echo "[hmm] the example user project: 2 guest tests passed, the passing test's output is in its report"
