#!/bin/sh
# Guest side of the kernel's own hmm selftests: what the kernel's test_hmm.sh
# does (load test_hmm, run hmm-tests, unload), with the TAP kept in a file:
# the wrapper's exit status says nothing, the TAP is parsed on the host.
# The TAP file is capped (a failed ASSERT in the 6.1 harness can loop,
# writing millions of lines) and the run is bounded in time. Each test's
# RUN and result lines also go to the console (at most 4000 lines), so that
# the kernel's messages appear between them and the host can point at them.
#   kselftest-hmm.sh HMM_TESTS OUT_DIR TIMEOUT_SECONDS
set -u
tests=$1 out=$2 limit=$3
say() { echo "@@HMM KSELFTEST $*" > /dev/console; echo "$*"; }
mkdir -p "$out"
grep -q ' /sys/kernel/debug ' /proc/mounts || mount -t debugfs debugfs /sys/kernel/debug
# hugetlb tests need reserved huge pages, or they skip
echo 16 > /proc/sys/vm/nr_hugepages
if ! modprobe test_hmm > "$out/modprobe.log" 2>&1; then
  say "modprobe test_hmm failed: $(cat "$out/modprobe.log")"
  exit 3
fi
say "start $tests (limit ${limit} s)"
cd /tmp || exit 3
(timeout -s KILL "$limit" "$tests"; echo "# hmm-mirror: hmm-tests exit status $?") 2>&1 \
  | head -c 16000000 | tee -p "$out/hmm-tests.tap" \
  | grep --line-buffered -E '^(ok |not ok |#  RUN |# [^ ]+\.c:[0-9]+:|# hmm-mirror)' | head -n 4000 > /dev/console
say "end $(tail -n 1 "$out/hmm-tests.tap")"
rmmod test_hmm
say "rmmod test_hmm rc=$?"
echo 0 > /proc/sys/vm/nr_hugepages
exit 0
