#!/bin/bash
# Builds the guest userland: a minimal Debian root with a Java 25 runtime,
# busybox, kmod and e2fsprogs (ext4 on a loop device for the writeback tests), and the RDMA
# userland for rxe (soft-RoCE): libibverbs with its providers (librxe), ibverbs-utils
# (ibv_devinfo) and iproute2 (`rdma link add`); systemd-standalone-sysusers satisfies
# libibverbs1's sysusers dependency without pulling in systemd. It is shared by every kernel
# profile (the guest's userspace need not come from the kernel's release).
#   build-userland.sh OUT_DIR SUITE MIRROR_URL
set -euo pipefail
out=$1 suite=$2 mirror=$3
mmdebstrap --variant=minbase \
  --include=openjdk-25-jre-headless,busybox-static,kmod,e2fsprogs \
  --include=libibverbs1,ibverbs-providers,ibverbs-utils,iproute2,systemd-standalone-sysusers \
  --aptopt='Acquire::Check-Valid-Until "false"' \
  --aptopt='APT::Install-Recommends "false"' \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --setup-hook='mkdir -p "$1/usr/share/man/man1"' \
  --customize-hook='rm -rf "$1"/var/cache/apt/archives/*.deb "$1"/var/lib/apt/lists/*_Packages' \
  --customize-hook='mkdir -p "$1/hmm/host" "$1/hmm/out" "$1/hmm/kmod"' \
  "$suite" "$out" "$mirror"
