#!/bin/sh
# Guest side of the kernel's own hmm selftests: what the kernel's test_hmm.sh
# does (load test_hmm, run hmm-tests, unload), with the TAP kept in a file:
# the wrapper's exit status says nothing, the TAP is parsed on the host.
# Output is capped (a failed ASSERT in the 6.1 harness can loop, writing
# millions of lines) and the run is bounded in time.
#   kselftest-hmm.sh HMM_TESTS OUT_DIR TIMEOUT_SECONDS
set -u
tests=$1 out=$2 limit=$3
mkdir -p "$out"
grep -q ' /sys/kernel/debug ' /proc/mounts || mount -t debugfs debugfs /sys/kernel/debug
# hugetlb tests need reserved huge pages, or they skip
echo 16 > /proc/sys/vm/nr_hugepages
if ! modprobe test_hmm > "$out/modprobe.log" 2>&1; then
  echo "@@HMM KSELFTEST modprobe test_hmm failed: $(cat "$out/modprobe.log")"
  exit 3
fi
echo "@@HMM KSELFTEST start"
cd /tmp || exit 3
(timeout -s KILL "$limit" "$tests"; echo "# hmm-mirror: hmm-tests exit status $?") 2>&1 \
  | head -c 16000000 > "$out/hmm-tests.tap"
echo "@@HMM KSELFTEST end $(tail -n 1 "$out/hmm-tests.tap")"
rmmod test_hmm
echo "@@HMM KSELFTEST rmmod rc=$?"
echo 0 > /proc/sys/vm/nr_hugepages
exit 0
