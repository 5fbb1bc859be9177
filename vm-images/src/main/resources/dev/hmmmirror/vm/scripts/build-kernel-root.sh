#!/bin/bash
# Builds a kernel root for one Debian release: the release's stock kernel
# (image and modules), its headers and the gcc it was built with, so that
# our module builds with the kernel's own compiler inside this root. perl
# (kernel-doc runs at W=1) and sparse (C=1) are there for the module checks.
# The kernel packages are unpacked, not installed (no initramfs is made); tar
# keeps the root's merged-/usr symlinks (dpkg-deb -x would replace /lib).
#   build-kernel-root.sh OUT_DIR SUITE MIRROR_URL KERNEL_RELEASE
# KERNEL_RELEASE is e.g. 7.2.13+deb14-amd64 (from linux-image-amd64).
set -euo pipefail
out=$1 suite=$2 mirror=$3 krel=$4
aptopts=(-o Acquire::Check-Valid-Until=false -o APT::Install-Recommends=false)
mmdebstrap --variant=minbase \
  --include="make,libc6-dev,kmod,perl,sparse,linux-headers-$krel" \
  --aptopt='Acquire::Check-Valid-Until "false"' \
  --aptopt='APT::Install-Recommends "false"' \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --customize-hook="chroot \"\$1\" sh -c 'cd /tmp && apt-get ${aptopts[*]} download linux-image-$krel \$(apt-cache depends linux-image-$krel | sed -n \"s/^ *Depends: \\(linux-\\(binary\\|modules\\)-$krel\\)\$/\\1/p\")'" \
  --customize-hook="for d in \"\$1\"/tmp/linux-*.deb; do dpkg-deb --fsys-tarfile \"\$d\" | tar -x --keep-directory-symlink -C \"\$1\"; done; rm -f \"\$1\"/tmp/*.deb" \
  --customize-hook="chroot \"\$1\" /sbin/depmod $krel" \
  --customize-hook='rm -rf "$1"/var/cache/apt/archives/*.deb "$1"/var/lib/apt/lists/*_Packages' \
  "$suite" "$out" "$mirror"
# Debian puts the image in /boot (6.1, 6.12) or /usr/lib/modules/KREL (7.x)
if [ ! -e "$out/boot/vmlinuz-$krel" ]; then
  test -e "$out/usr/lib/modules/$krel/vmlinuz" || { echo "no kernel image for $krel in $out" >&2; exit 1; }
  mkdir -p "$out/boot" && ln -sf "../usr/lib/modules/$krel/vmlinuz" "$out/boot/vmlinuz-$krel"
fi
test -d "$out/usr/src/linux-headers-$krel" || { echo "headers for $krel missing" >&2; exit 1; }
