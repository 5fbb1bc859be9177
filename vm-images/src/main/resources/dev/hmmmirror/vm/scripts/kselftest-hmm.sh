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
rm -f "$out/stalled" "$out/.done"
grep -q ' /sys/kernel/debug ' /proc/mounts || mount -t debugfs debugfs /sys/kernel/debug
# hugetlb tests need reserved huge pages, or they skip: 32 MiB of them (16 of 2 MiB), at least one
# (arm64: one of 32 MiB with 16 KiB pages, of 512 MiB with 64 KiB pages; hmm-tests maps one)
hkb=$(sed -n 's/^Hugepagesize: *\([0-9]*\) kB$/\1/p' /proc/meminfo)
nr=$((32768 / ${hkb:-2048}))
[ "$nr" -ge 1 ] || nr=1
echo "$nr" > /proc/sys/vm/nr_hugepages
# device-coherent memory for test_hmm's coherent devices: a range the kernel was told to leave
# alone as "Persistent Memory (legacy)" (memmap=512M!ADDR on the kernel command line, e.g.
# -Dhmm.cmdline=memmap=512M!0x50000000), 256 MiB per device; without it those tests skip
spm_params=
spm=$(sed -n 's/^ *\([0-9a-f]*\)-\([0-9a-f]*\) : Persistent Memory (legacy)$/\1 \2/p' /proc/iomem | head -n 1)
if [ -n "$spm" ]; then
  set -- $spm
  spm_start=$((0x$1)) spm_end=$((0x$2))
  if [ $((spm_end - spm_start + 1)) -ge $((512 << 20)) ]; then
    spm_params="spm_addr_dev0=$(printf 0x%x $spm_start) spm_addr_dev1=$(printf 0x%x $((spm_start + (256 << 20))))"
  fi
fi
say "test_hmm parameters: ${spm_params:-none (no special-purpose memory: device-coherent tests skip)}"
# shellcheck disable=SC2086
if ! modprobe test_hmm $spm_params > "$out/modprobe.log" 2>&1; then
  say "modprobe test_hmm failed: $(cat "$out/modprobe.log")"
  exit 3
fi
say "start $tests (limit ${limit} s)"
cd /tmp || exit 3
# A test stuck in the kernel (spinning or blocked: on a broken kernel a write fault retried for
# ever left both hmm-tests tasks in R state) outlives the harness's SIGKILL and the time limit, and
# keeps the pipe below open: nothing would end this script. So the pipeline runs in the background
# and the TAP file is watched: no new byte for STALL seconds (the harness gives every test 30 s)
# ends the wait, and the host reads the TAP as it stands, with the stall as its last outcome.
stall=${HMM_KSELFTEST_STALL:-180}
: > "$out/hmm-tests.tap"
(
  (timeout -s KILL "$limit" "$tests"; echo "# hmm-mirror: hmm-tests exit status $?") 2>&1 \
    | head -c 16000000 | tee -p "$out/hmm-tests.tap" \
    | grep --line-buffered -E '^(ok |not ok |#  RUN |# [^ ]+\.c:[0-9]+:|# hmm-mirror)' | head -n 4000 > /dev/console
  echo done > "$out/.done"
) < /dev/null > /dev/null 2>&1 & # not this script's output: the agent reads that until its last writer is gone
last=0 quiet=0
while [ ! -e "$out/.done" ]; do
  sleep 5
  size=$(wc -c < "$out/hmm-tests.tap")
  if [ "$size" -ne "$last" ]; then
    last=$size quiet=0
  else
    quiet=$((quiet + 5))
  fi
  if [ "$quiet" -ge "$stall" ]; then
    # the host reads this file as the run's last outcome: the TAP may end anywhere (the harness's
    # stdout is a pipe, so what it printed after its last flush is still in its buffer)
    echo "stalled: hmm-tests printed nothing for ${stall} s (a test stuck in the kernel); the last line: $(tail -c 200 "$out/hmm-tests.tap" | tail -n 1)" > "$out/stalled"
    say "stalled: no output from hmm-tests for ${stall} s, after: $(grep '^#  RUN ' "$out/hmm-tests.tap" | tail -n 1)"
    tasks=
    for st in $(grep -l '^Name:.hmm-tests' /proc/[0-9]*/status 2>/dev/null); do
      pid=${st#/proc/}
      tasks="$tasks ${pid%/status}:$(sed -n 's/^State:[[:space:]]*//p' "$st" | tr ' ' '_')"
    done
    say "hmm-tests tasks (pid:state):${tasks:- none}"
    echo w > /proc/sysrq-trigger 2>/dev/null # blocked tasks' stacks to the console
    echo l > /proc/sysrq-trigger 2>/dev/null # and what the CPUs run
    say "end stalled"
    say "rmmod test_hmm skipped: a task of it is stuck in the kernel"
    echo 0 > /proc/sys/vm/nr_hugepages
    exit 0
  fi
done
rm -f "$out/.done"
say "end $(tail -n 1 "$out/hmm-tests.tap")"
rmmod test_hmm
say "rmmod test_hmm rc=$?"
echo 0 > /proc/sys/vm/nr_hugepages
exit 0
