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
(timeout -s KILL "$limit" "$tests"; echo "# hmm-mirror: hmm-tests exit status $?") 2>&1 \
  | head -c 16000000 | tee -p "$out/hmm-tests.tap" \
  | grep --line-buffered -E '^(ok |not ok |#  RUN |# [^ ]+\.c:[0-9]+:|# hmm-mirror)' | head -n 4000 > /dev/console
say "end $(tail -n 1 "$out/hmm-tests.tap")"
rmmod test_hmm
say "rmmod test_hmm rc=$?"
echo 0 > /proc/sys/vm/nr_hugepages
exit 0
