#!/bin/bash
# Builds the pyverbs layer of the peer suite: Debian's python3-pyverbs (rdma-core's Python
# bindings, which also ship rdma-core's own tests under /usr/share/doc/rdma-core/tests, some of
# them gzipped) with what it needs that the shared guest userland lacks (the Python runtime,
# librdmacm), unpacked into OUT_DIR/root. The packages are resolved against the userland's own
# dpkg status with the harness's private apt state of the suite (never the host's), and unpacked
# with dpkg-deb, without maintainer scripts: the guest runs them from the layer (PYTHONHOME),
# not installed. rdma-core's daemons and udev rules (rdma-core, udev, libsystemd-shared) are
# left out: the tests need only the libraries. The tests are gunzipped in place, and every module
# is byte-compiled here (what python3's postinst would do), by the layer's own Python run with the
# userland's glibc, with GUEST_ROOT as the path its tracebacks show: the guest reads the layer
# read-only and would otherwise compile each module it imports on every run (10+ s under TCG).
#   build-pyverbs-layer.sh OUT_DIR USERLAND_ROOT APT_STATE_DIR GUEST_ROOT
set -euo pipefail
out=$1 userland=$2 apt=$3 guest=$4
mkdir -p "$out/root" "$out/debs" "$out/apt-cache/archives/partial"
opts=(-o "Dir::Etc::SourceList=$apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
  -o "Dir::State::Lists=$apt/lists" -o "Dir::State::Status=$userland/var/lib/dpkg/status"
  -o "Dir::Cache=$out/apt-cache" -o Acquire::Check-Valid-Until=false -o APT::Install-Recommends=false
  -o "APT::Sandbox::User=$(id -un)" -o Debug::NoLocking=true)
apt-get "${opts[@]}" -s install python3-pyverbs > "$out/simulate.txt"
mapfile -t pkgs < <(sed -n 's/^Inst \([^ ]*\) .*/\1/p' "$out/simulate.txt" | grep -vxE 'rdma-core|udev|libsystemd-shared')
if [ "${#pkgs[@]}" -eq 0 ]; then
  echo "apt resolved nothing to install for python3-pyverbs:" >&2
  cat "$out/simulate.txt" >&2
  exit 1
fi
echo "packages: ${pkgs[*]}"
(cd "$out/debs" && apt-get "${opts[@]}" download "${pkgs[@]}")
for deb in "$out"/debs/*.deb; do
  dpkg-deb -x "$deb" "$out/root"
  dpkg-deb --show --showformat='${Package} ${Version}\n' "$deb" >> "$out/packages.txt"
done
tests="$out/root/usr/share/doc/rdma-core/tests"
test -f "$tests/test_odp.py.gz" || test -f "$tests/test_odp.py" || { echo "python3-pyverbs ships no tests/test_odp.py" >&2; exit 1; }
find "$tests" -name '*.gz' -exec gunzip -f {} +
test -x "$out/root/usr/bin/python3" || { echo "no python3 in the layer" >&2; exit 1; }
root=$(cd "$out/root" && pwd)
PYTHONHOME=$root/usr "$userland/usr/lib64/ld-linux-x86-64.so.2" \
  --library-path "$userland/usr/lib/x86_64-linux-gnu:$root/usr/lib/x86_64-linux-gnu" "$root/usr/bin/python3" \
  -m compileall -q -s "$root" -p "$guest" -x 'lib2to3|idlelib|tkinter|/test/' \
  "$root"/usr/lib/python3.[0-9]* "$root/usr/lib/python3/dist-packages" "$tests" \
  || echo "compileall: some modules did not compile (they are compiled in the guest when imported)"
rm -rf "$out/debs" "$out/apt-cache"
du -sk "$out/root" | cut -f1 > "$out/size-kib"
