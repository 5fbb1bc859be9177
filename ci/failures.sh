#!/usr/bin/env bash
# Prints every failed or errored test of this run (class.test, the first 300 characters of
# its message, the report file) from the JUnit XML that Surefire and Failsafe
# (*/target/*-reports/) and the guest matrices (*/target/hmm-report*/) wrote; the harness's
# own negative checks (a guest that must fail, in suite-runner/target/hmm-suite-it/) are
# not results and are not read. .ci/run calls it last, so a red run's failures are
# in the last lines of its output; exit 0 always.
# Usage: ci/failures.sh [DIR] (default: the repository root)
set -uo pipefail
cd "${1:-$(dirname "$0")/..}" || exit 0
mapfile -t reports < <(find . \( -name slots -o -name kbuild -o -name node_modules -o -name .git \) -prune \
  -o -type f \( \( -name 'TEST-*.xml' -path '*/target/*-reports/*' \) \
       -o \( -name 'junit-*.xml' -path '*/target/hmm-report*' \) \) -print 2>/dev/null | sort)
n=0
for f in "${reports[@]}"; do
  out=$(awk -v file="$f" '
    function attr(s, a,   r) {
      if (match(s, a "=\"[^\"]*\"")) { r = substr(s, RSTART + length(a) + 2, RLENGTH - length(a) - 3); return r }
      return ""
    }
    function unescape(s) {
      gsub(/&lt;/, "<", s); gsub(/&gt;/, ">", s); gsub(/&quot;/, "\"", s); gsub(/&apos;/, "\047", s)
      gsub(/&#10;/, " ", s); gsub(/&amp;/, "\\&", s); return s
    }
    /<testcase / { cls = attr($0, "classname"); name = attr($0, "name") }
    /<(failure|error)[ >]/ {
      kind = ($0 ~ /<failure/) ? "FAILED" : "ERROR"
      msg = unescape(attr($0, "message")); if (length(msg) > 300) msg = substr(msg, 1, 300) "..."
      printf "  %-6s %s.%s\n         %s\n         (%s)\n", kind, cls, name, msg, file
    }' "$f")
  if [[ -n $out ]]; then
    echo "$out"
    n=$((n + $(grep -c '^  \(FAILED\|ERROR\)' <<<"$out")))
  fi
done
if (( n == 0 )); then
  echo "[hmm] no failed test in the ${#reports[@]} JUnit report(s) under */target"
else
  echo "[hmm] $n failed test(s) above, from ${#reports[@]} JUnit report(s) under */target"
fi
exit 0
