#!/bin/sh
# Configures and cross-builds a guest kernel of another architecture (arm64
# guests on an x86-64 host) out of tree, with Debian's cross gcc of the
# root's gcc major (gcc-N-GNU): tinyconfig, then the fragments merged in
# order, then olddefconfig; fails listing every option of the fragments
# whose final .config value is not the one the fragments give it last (a
# later fragment may override an earlier line, "# CONFIG_X is not set"
# included: arm64.config turns off hmm.config's x86-only options). Then the
# boot image, vmlinux, modules, the modules installed under BUILD/modroot and
# the uapi headers under BUILD/usr/include. BUILD/.kernelvariables then names
# ARCH, CROSS_COMPILE and CC, so `make -C BUILD M=...` cross-compiles a module.
#   build-kernel-cross.sh SOURCE_DIR BUILD_DIR JOBS ARCH FRAGMENT...
# ARCH is the kernel's (arm64).
set -eu
src=$1 b=$2 jobs=$3 arch=$4
shift 4
case "$arch" in
  arm64) gnu=aarch64-linux-gnu image=Image ;;
  *) echo "no cross build known for kernel architecture $arch" >&2; exit 1 ;;
esac
major=$(gcc -dumpversion | cut -d. -f1)
cc=$gnu-gcc-$major
command -v "$cc" >/dev/null || { echo "no cross compiler $cc in this root (Debian's gcc-$major-$gnu)" >&2; exit 1; }
mk() { make O="$b" ARCH="$arch" CROSS_COMPILE="$gnu-" CC="$cc" "$@"; }
grep -q '^-include $(objtree)/.kernelvariables' "$src/Makefile" || {
  echo "$src/Makefile does not read .kernelvariables (not Debian's linux-source?): modules could not be cross-built against it" >&2
  exit 1
}
mkdir -p "$b"
cd "$src"
echo "@@ configure ($arch, $cc)"
mk -s tinyconfig
KCONFIG_CONFIG="$b/.config" ARCH="$arch" CROSS_COMPILE="$gnu-" CC="$cc" \
  scripts/kconfig/merge_config.sh -m -O "$b" "$b/.config" "$@"
mk -s olddefconfig
# the last value each fragment line gives an option ("n" for "# CONFIG_X is not set")
cat "$@" | sed -n -e 's/^\(CONFIG_[A-Za-z0-9_]*\)=\(.*\)$/\1 \2/p' \
  -e 's/^# \(CONFIG_[A-Za-z0-9_]*\) is not set$/\1 n/p' |
  awk '{ v[$1] = $2; if (!($1 in seen)) { seen[$1] = 1; order[n++] = $1 } }
       END { for (i = 0; i < n; i++) print order[i], v[order[i]] }' |
  while read -r k v; do
    got=$(grep -E "^$k=" "$b/.config" | cut -d= -f2- || true)
    if [ "${got:-n}" != "$v" ]; then
      echo "MISSING $k=$v (final .config: ${got:-not set})"
    fi
  done > "$b/missing-options.txt"
if [ -s "$b/missing-options.txt" ]; then
  cat "$b/missing-options.txt"
  echo "these options of the fragments did not survive olddefconfig (unmet dependencies)" >&2
  exit 1
fi
echo "@@ build $(grep -c '=y' "$b/.config") built-in options, $(grep -c '=m' "$b/.config") modules"
mk -j"$jobs" "$image" vmlinux modules
echo "@@ install"
rm -rf "$b/modroot"
mk -s INSTALL_MOD_PATH="$b/modroot" INSTALL_MOD_STRIP=1 modules_install
mk -s headers
mk -s kernelrelease > "$b/kernelrelease"
cp "$b/arch/$arch/boot/$image" "$b/boot-image"
# external modules built against BUILD (make -C BUILD M=...) get the same architecture and compiler:
# Debian's linux-source Makefile reads BUILD/.kernelvariables after its own CC= (the hook Debian's
# linux-headers packages use), so these win over the host's defaults
cat > "$b/.kernelvariables" <<EOV
override ARCH = $arch
override CROSS_COMPILE = $gnu-
CC = \$(CROSS_COMPILE)gcc-$major
EOV
echo "@@ done $(cat "$b/kernelrelease")"
