#!/usr/bin/env bash
# Prints the event x kernel table of the mm-event guest tests (guest-tests'
# dev.hmmmirror.guest.mm) from the runs under the default report folders, and
# writes it to target/mm-events.md: docs/mm-events.md's table is this output.
#   ci/mm-events-table.sh [RUN_ROOT...]
set -euo pipefail
cd "$(dirname "$0")/.."
source ci/env.sh
roots=("$@")
if ((${#roots[@]} == 0)); then
  roots=(guest-tests/target target)
fi
mkdir -p target
"$JAVA_HOME/bin/java" -cp suite-runner/target/classes dev.hmmmirror.suite.MmEventsTable "${roots[@]}" \
  | tee target/mm-events.md
