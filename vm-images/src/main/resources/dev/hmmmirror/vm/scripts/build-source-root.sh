#!/bin/bash
# Builds the root a kernel is compiled in: a Debian release's toolchain (its
# default gcc, make, flex, bison, libelf for objtool) and that release's
# linux-source package, unpacked in /usr/src. Kernels built in it, and our
# module and the kernel's hmm selftests built against them, all use that gcc.
#   build-source-root.sh OUT_DIR SUITE MIRROR_URL SOURCE_PACKAGE
# SOURCE_PACKAGE is e.g. linux-source-7.2.
set -euo pipefail
out=$1 suite=$2 mirror=$3 srcpkg=$4
mmdebstrap --variant=minbase \
  --include="make,gcc,libc6-dev,flex,bison,bc,libelf-dev,kmod,cpio,xz-utils,perl,$srcpkg" \
  --aptopt='Acquire::Check-Valid-Until "false"' \
  --aptopt='APT::Install-Recommends "false"' \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --customize-hook='rm -rf "$1"/var/cache/apt/archives/*.deb "$1"/var/lib/apt/lists/*_Packages' \
  "$suite" "$out" "$mirror"
tarball=$(ls "$out/usr/src/$srcpkg".tar.* 2>/dev/null | head -n 1)
[ -n "$tarball" ] || { echo "no source tarball of $srcpkg in $out/usr/src" >&2; exit 1; }
echo "unpacking $tarball"
tar -xf "$tarball" -C "$out/usr/src"
rm -f "$tarball"
test -f "$out/usr/src/$srcpkg/Makefile" || { echo "no $srcpkg/Makefile after unpacking" >&2; exit 1; }
echo "source root: $(sed -n 's/^\(VERSION\|PATCHLEVEL\|SUBLEVEL\) = //p' "$out/usr/src/$srcpkg/Makefile" | paste -sd.), $(chroot "$out" gcc --version | head -n 1)"
