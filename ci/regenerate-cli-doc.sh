#!/usr/bin/env bash
# Rewrites the reference part of docs/cli.md (every subcommand's --help) from the hmm command itself,
# after a change to its options or texts; CliReferenceTest fails until the page and the tool agree.
# Builds the tool first when its sources changed (as ci/hmm does).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/ci/hmm" --version >/dev/null
source "$root/ci/env.sh"
exec "$JAVA_HOME/bin/java" -cp "$root/cli/target/hmm/lib/*" dev.hmmmirror.tool.CliReference "$root/docs/cli.md"
