#!/usr/bin/env bash
# Builds a .deb of the module's DKMS source: /usr/src/hmm_mirror-VERSION/ holding kmod/dkms.conf
# at the top, kmod/ and native-headers/; installing it runs `dkms install` for every kernel whose
# headers are installed (and DKMS's autoinstall does so for kernels installed later); removing it
# runs `dkms remove`. Needs dpkg-deb only.
#   ci/build-dkms-deb.sh [OUT_DIR]          default target/dkms; prints the .deb's path
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=$(realpath -m "${1:-$root/target/dkms}")
name=$(sed -n 's/^PACKAGE_NAME="\(.*\)"/\1/p' "$root/kmod/dkms.conf")
ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$root/kmod/dkms.conf")
pkg=hmm-mirror-dkms
stage=$(mktemp -d "${TMPDIR:-/tmp}/hmm-dkms-deb.XXXXXX")
trap 'rm -rf "$stage"' EXIT
chmod 755 "$stage"
src=$stage/usr/src/$name-$ver
mkdir -p "$src/kmod" "$src/native-headers" "$stage/DEBIAN" "$out"
cp "$root/kmod/dkms.conf" "$src/"
cp "$root"/kmod/{*.c,*.h,Kbuild,Makefile} "$src/kmod/"
cp "$root"/native-headers/*.h "$src/native-headers/"
cat > "$stage/DEBIAN/control" <<CONTROL
Package: $pkg
Version: $ver
Architecture: all
Section: kernel
Priority: optional
Maintainer: hmm-mirror <hmm-mirror@localhost>
Depends: dkms
Description: hmm_mirror kernel module (DKMS source)
 Simulated HMM devices (/dev/hmm_mirrorN) that mirror a process's address space through the
 kernel's HMM, for the hmm-mirror Java API. Built by DKMS for each installed kernel's headers.
CONTROL
cat > "$stage/DEBIAN/postinst" <<POSTINST
#!/bin/sh
set -e
if [ "\$1" = configure ]; then
  dkms add -m $name -v $ver --rpm_safe_upgrade >/dev/null 2>&1 || true
  for k in \$(ls /lib/modules 2>/dev/null); do
    if [ -e "/lib/modules/\$k/build/Makefile" ]; then
      dkms install -m $name -v $ver -k "\$k" || echo "hmm-mirror-dkms: building for \$k failed (see /var/lib/dkms/$name/$ver/build/make.log)" >&2
    fi
  done
fi
POSTINST
cat > "$stage/DEBIAN/prerm" <<PRERM
#!/bin/sh
set -e
dkms remove -m $name -v $ver --all --rpm_safe_upgrade >/dev/null 2>&1 || true
PRERM
chmod 755 "$stage/DEBIAN/postinst" "$stage/DEBIAN/prerm"
deb=$out/${pkg}_${ver}_all.deb
dpkg-deb --root-owner-group --build "$stage" "$deb" >/dev/null
echo "$deb"
