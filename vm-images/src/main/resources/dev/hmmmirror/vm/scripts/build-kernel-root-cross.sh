#!/bin/bash
# Builds the kernel root of a foreign-architecture kernel (arm64 guests on an
# x86-64 host) as a cross root: a root of this host's architecture with
# Debian's cross gcc for ARCH (the major the kernel's headers name), the host
# architecture's linux-kbuild (scripts/ and tools/ run here), the ARCH kernel's
# headers and its image and modules unpacked, not installed. Nothing of ARCH
# runs in it (no qemu-user): the module's objects and the guest programs are
# the only ARCH code made here. Debian's ARCH headers set ARCH= and
# CROSS_COMPILE= themselves, so a plain `make -C /usr/src/linux-headers-KREL`
# cross-compiles. libc6-dev-ARCH-cross links the static guest programs.
#   build-kernel-root-cross.sh OUT_DIR SUITE MIRROR_URL KERNEL_RELEASE ARCH
# KERNEL_RELEASE is e.g. 7.2.13+deb14-arm64-16k (from linux-image-arm64-16k).
set -euo pipefail
out=$1 suite=$2 mirror=$3 krel=$4 arch=$5
case "$arch" in
  arm64) gnu=aarch64-linux-gnu ;;
  *) echo "no cross compiler known for Debian architecture $arch" >&2; exit 1 ;;
esac
host=$(dpkg --print-architecture)
aptopts=(-o Acquire::Check-Valid-Until=false -o APT::Install-Recommends=false)
# run in the chroot: the ARCH headers' Depends name the common headers, the kbuild package and the gcc
# major (gcc-N-for-host); install the first two for this host's architecture, gcc as the cross gcc-N-GNU;
# then fetch the ARCH kernel's debs (image; its base: config, System.map, modules.builtin; binary; modules;
# headers) to unpack
inside=$(mktemp)
trap 'rm -f "$inside"' EXIT
cat > "$inside" <<EOS
set -eu
d=\$(apt-cache depends linux-headers-$krel:$arch | sed -n 's/^ *Depends: <\\?\\([^:>]*\\).*/\\1/p')
common=\$(echo "\$d" | grep -x 'linux-headers-.*-common')
kbuild=\$(echo "\$d" | grep -x 'linux-kbuild-.*')
gccv=\$(echo "\$d" | sed -n 's/^gcc-\([0-9]*\)-for-host\$/\1/p')
test -n "\$common" -a -n "\$kbuild" -a -n "\$gccv"
echo "cross root: \$common \$kbuild:$host gcc-\$gccv-$gnu"
DEBIAN_FRONTEND=noninteractive apt-get ${aptopts[*]} -y install "\$common" "\$kbuild:$host" "gcc-\$gccv-$gnu"
bin=\$(apt-cache depends linux-image-$krel:$arch | sed -n 's/^ *Depends: \(linux-\(base\|binary\|modules\)-$krel\)\(:.*\)\?\$/\1/p')
cd /tmp && apt-get ${aptopts[*]} download linux-headers-$krel:$arch linux-image-$krel:$arch \$(for b in \$bin; do echo \$b:$arch; done)
EOS
mmdebstrap --variant=minbase --architectures="$host,$arch" \
  --include="make,libc6-dev,kmod,perl,sparse,libc6-dev-$arch-cross" \
  --aptopt='Acquire::Check-Valid-Until "false"' \
  --aptopt='APT::Install-Recommends "false"' \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --customize-hook="cp \"$inside\" \"\$1/tmp/cross-root.sh\" && chroot \"\$1\" sh /tmp/cross-root.sh && rm \"\$1/tmp/cross-root.sh\"" \
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
cc=$(sed -n 's/^CC = .*)\(gcc-[0-9]*\)$/\1/p' "$out/usr/src/linux-headers-$krel/.kernelvariables")
test -x "$out/usr/bin/$gnu-${cc:-gcc-16}" || { echo "the headers' compiler $gnu-${cc:-?} is not in $out" >&2; exit 1; }
test -e "$out/boot/config-$krel" -o -e "$out/usr/lib/modules/$krel/config" || { echo "no config of $krel in $out (linux-base-$krel?)" >&2; exit 1; }
