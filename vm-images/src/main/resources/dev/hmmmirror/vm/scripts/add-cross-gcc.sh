#!/bin/bash
# Adds Debian's cross compiler for ARCH to a copy of a source root (an x86-64
# root with the release's gcc and linux-source): gcc-N-GNU of the root's own
# gcc major (a kernel and its modules are built by one gcc release) and
# libc6-dev-ARCH-cross (the kernel's hmm-tests and the guest programs are
# linked statically). Runs apt in the root through chroot with this host's
# resolver configuration.
#   add-cross-gcc.sh ROOT ARCH
set -euo pipefail
root=$1 arch=$2
case "$arch" in
  arm64) gnu=aarch64-linux-gnu ;;
  *) echo "no cross compiler known for Debian architecture $arch" >&2; exit 1 ;;
esac
major=$(chroot "$root" gcc -dumpversion | cut -d. -f1)
cp -L /etc/resolv.conf "$root/etc/resolv.conf"
aptopts=(-o Acquire::Check-Valid-Until=false -o APT::Install-Recommends=false)
chroot "$root" apt-get "${aptopts[@]}" update
DEBIAN_FRONTEND=noninteractive chroot "$root" apt-get "${aptopts[@]}" -y install "gcc-$major-$gnu" "libc6-dev-$arch-cross"
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*_Packages
test -x "$root/usr/bin/$gnu-gcc-$major" || { echo "no $gnu-gcc-$major in $root after the install" >&2; exit 1; }
echo "cross source root: $(chroot "$root" "$gnu-gcc-$major" --version | head -n 1)"
