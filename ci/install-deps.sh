#!/usr/bin/env bash
# Installs what building and booting guests needs, from Debian's packages:
# QEMU, mmdebstrap, the archivers the image recipes use, gcc and libc6-dev
# (the host-side layout probe), make and kmod (depmod: the modules of a
# --kernel-tree), Maven and Debian's Docker engine (docker.io, for the
# container runner; it is not started here: ci/start-docker.sh), and headless
# Chromium + poppler-utils (a test opens the HTML report as a reader does), and libibverbs-dev
# (the rdma module's layout probe compiles against verbs.h). Needs root.
# Safe to run again.
set -euo pipefail
if [[ $(id -u) -ne 0 ]]; then
  echo "ci/install-deps.sh installs Debian packages: run it as root (sudo ci/install-deps.sh)" >&2
  exit 1
fi
packages=(qemu-system-x86 mmdebstrap debootstrap cpio xz-utils zstd gzip util-linux perl gcc libc6-dev make kmod maven ca-certificates docker.io chromium poppler-utils libibverbs-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "[hmm] installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "[hmm] host tools: $(qemu-system-x86_64 --version | head -1), mmdebstrap $(mmdebstrap --version | cut -d' ' -f2)"
