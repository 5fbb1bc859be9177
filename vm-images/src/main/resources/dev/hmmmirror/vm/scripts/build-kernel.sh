#!/bin/sh
# Configures and builds a guest kernel out of tree: tinyconfig, then the
# fragments merged in order, then olddefconfig; fails listing every option
# of the fragments that did not end up in the final .config (Kconfig drops
# options with unmet dependencies silently). Then bzImage, vmlinux, modules,
# the modules installed under BUILD/modroot and the uapi headers under
# BUILD/usr/include (for the kernel's selftests).
#   build-kernel.sh SOURCE_DIR BUILD_DIR JOBS FRAGMENT...
set -eu
src=$1 b=$2 jobs=$3
shift 3
mkdir -p "$b"
cd "$src"
echo "@@ configure"
make -s O="$b" ARCH=x86_64 tinyconfig
KCONFIG_CONFIG="$b/.config" scripts/kconfig/merge_config.sh -m -O "$b" "$b/.config" "$@"
make -s O="$b" ARCH=x86_64 olddefconfig
missing=0
for f in "$@"; do
  grep -E '^CONFIG_[A-Za-z0-9_]+=' "$f" | while IFS== read -r k v; do
    got=$(grep -E "^$k=" "$b/.config" | cut -d= -f2- || true)
    if [ "$got" != "$v" ]; then
      echo "MISSING $k=$v (final .config: ${got:-not set}) from $(basename "$f")"
    fi
  done
done > "$b/missing-options.txt"
if [ -s "$b/missing-options.txt" ]; then
  cat "$b/missing-options.txt"
  echo "these options of the fragments did not survive olddefconfig (unmet dependencies)" >&2
  exit 1
fi
echo "@@ build $(grep -c '=y' "$b/.config") built-in options, $(grep -c '=m' "$b/.config") modules"
make O="$b" ARCH=x86_64 -j"$jobs" bzImage vmlinux modules
echo "@@ install"
rm -rf "$b/modroot"
make -s O="$b" ARCH=x86_64 INSTALL_MOD_PATH="$b/modroot" INSTALL_MOD_STRIP=1 modules_install
make -s O="$b" ARCH=x86_64 headers
make -s O="$b" ARCH=x86_64 kernelrelease > "$b/kernelrelease"
echo "@@ done $(cat "$b/kernelrelease")"
