#!/bin/sh
# Guest side of the peer suite: rdma-core's own ODP tests (tests/test_odp.py, as Debian's
# python3-pyverbs ships them) against rxe, run with the Python of the pyverbs layer the host
# staged (not installed in the userland: PYTHONHOME points into it). Sets rxe up as
# SoftRoce.ensure() does (a dummy netdev that exists only in this guest) unless rxe0 is there,
# reads rxe0's On-Demand Paging capabilities (no ODP: the reason goes to skipped.txt and nothing
# runs), reserves 16 huge pages (the huge-page tests skip without), then runs unittest
# verbosely; its output is kept in a file (capped, bounded in time) and parsed on the host.
# Each test's result line also goes to the console (at most 2000 lines, line-buffered), so that
# the kernel's messages of a test appear before its result line.
#   peer-suite.sh LAYER_ROOT OUT_DIR TIMEOUT_SECONDS
set -u
layer=$1 out=$2 limit=$3
say() { echo "@@HMM PEER $*" > /dev/console; echo "$*"; }
mkdir -p "$out"
# rxe0 is there when a test of the suite made it first (SoftRoce.ensure(): same device, same
# netdev); `rdma link show rxe0` is no test for that (it wants DEV/PORT), sysfs is
if [ ! -d /sys/class/infiniband/rxe0 ]; then
  if ! { modprobe rdma_rxe && modprobe ib_uverbs; } > "$out/setup.log" 2>&1; then
    echo "modprobe rdma_rxe / ib_uverbs failed: $(cat "$out/setup.log")" > "$out/skipped.txt"
    say "skipped: $(cat "$out/skipped.txt")"
    exit 0
  fi
  if ! ip link show hmmrxe0 > /dev/null 2>&1; then
    { ip link add hmmrxe0 type dummy && ip addr add 10.233.0.1/24 dev hmmrxe0 \
      && ip link set hmmrxe0 mtu 9000 up; } >> "$out/setup.log" 2>&1 || { say "setup failed: $(cat "$out/setup.log")"; exit 3; }
  fi
  rdma link add rxe0 type rxe netdev hmmrxe0 >> "$out/setup.log" 2>&1 || { say "setup failed: $(cat "$out/setup.log")"; exit 3; }
fi
# its port turns ACTIVE once the netdev is up (SoftRoce.ensure() waits the same 20 s)
i=0
while ! grep -q ACTIVE /sys/class/infiniband/rxe0/ports/1/state 2>/dev/null && [ $i -lt 40 ]; do
  sleep 0.5; i=$((i + 1))
done
ibv_devinfo -d rxe0 -v > "$out/devinfo.txt" 2>&1
# general_odp_caps lists ODP_SUPPORT where the device has On-Demand Paging at all
if ! grep -q '^[[:space:]]*ODP_SUPPORT$' "$out/devinfo.txt"; then
  echo "rxe0 has no On-Demand Paging on kernel $(uname -r) (ibv_devinfo -v: general_odp_caps without ODP_SUPPORT)" > "$out/skipped.txt"
  say "skipped: $(cat "$out/skipped.txt")"
  exit 0
fi
tests=$layer/usr/share/doc/rdma-core
# the huge-page tests (test_odp_rc_huge_*) need reserved 2 MiB pages, or they skip
hugepages=$(cat /proc/sys/vm/nr_hugepages)
[ "$hugepages" -ge 16 ] || echo 16 > /proc/sys/vm/nr_hugepages
say "start rdma-core tests.test_odp on rxe0 (limit ${limit} s)"
cd "$tests" || exit 3
(PYTHONHOME=$layer/usr PYTHONPATH=$tests PYTHONDONTWRITEBYTECODE=1 \
  LD_LIBRARY_PATH=$layer/usr/lib/x86_64-linux-gnu \
  timeout -s KILL "$limit" "$layer/usr/bin/python3" -u tests/run_tests.py --dev rxe0 -v tests.test_odp
  echo "# hmm-mirror: rdma-core tests exit status $?") 2>&1 \
  | stdbuf -o0 head -c 4000000 | tee -p "$out/test_odp.log" \
  | grep --line-buffered -m 2000 -E '^[[:alnum:]_]+ \(|\.\.\. |^(ok|FAIL|ERROR|skipped .*)$|^Ran |^(OK|FAILED)|^# hmm-mirror' > /dev/console
say "end $(tail -n 1 "$out/test_odp.log")"
echo "$hugepages" > /proc/sys/vm/nr_hugepages
exit 0
