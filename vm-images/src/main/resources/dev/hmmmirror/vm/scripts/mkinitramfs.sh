#!/bin/bash
# Builds the small initramfs that mounts the guest root over 9p.
#   mkinitramfs.sh KERNEL_ROOT KERNEL_RELEASE BUSYBOX INIT_SCRIPT OUT
# It holds a static busybox, the init script and the kernel modules needed
# for a 9p root under overlayfs (with their dependencies, in load order;
# modules built into the kernel are skipped).
set -euo pipefail
kroot=$1 krel=$2 busybox=$3 init=$4 out=$5
mdir=$kroot/usr/lib/modules/$krel
[ -f "$mdir/modules.dep" ] || [ -f "$mdir/modules.order" ] || mdir=$kroot/lib/modules/$krel
[ -f "$mdir/modules.dep" ] || { echo "no modules.dep in $mdir (run depmod)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work"/{bin,dev,proc,sys,newroot,lower,upper,lib/modules}
cp "$busybox" "$work/bin/busybox"
for a in $("$work/bin/busybox" --list); do
  [ "$a" = busybox ] || ln -sf busybox "$work/bin/$a"
done
cp "$init" "$work/init"
chmod 755 "$work/init"

declare -A seen=()
order=()
add() {
  local name=$1 line path deps d
  [ -n "${seen[$name]:-}" ] && return 0
  seen[$name]=1
  # modules.dep: "kernel/fs/9p/9p.ko.xz: kernel/net/9p/9pnet.ko.xz ..."
  line=$(grep -E "/${name//_/[_-]}\.ko(\.xz|\.zst|\.gz)?:" "$mdir/modules.dep" || true)
  if [ -z "$line" ]; then
    if grep -qE "/${name//_/[_-]}\.ko$" "$mdir/modules.builtin" 2>/dev/null; then return 0; fi
    echo "module $name is neither in modules.dep nor built in ($krel)" >&2
    exit 1
  fi
  path=${line%%:*}
  deps=${line#*:}
  for d in $deps; do
    d=$(basename "$d"); d=${d%%.ko*}
    add "$d"
  done
  case "$path" in
    *.xz) xz -dc "$mdir/$path" ;;
    *.zst) zstd -dc "$mdir/$path" ;;
    *.gz) gzip -dc "$mdir/$path" ;;
    *) cat "$mdir/$path" ;;
  esac > "$work/lib/modules/$name.ko"
  order+=("$name")
}
for m in virtio_pci 9pnet_virtio 9p overlay; do add "$m"; done
printf '%s\n' "${order[@]}" > "$work/modules.load"
(cd "$work" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) | gzip -1 > "$out.tmp"
mv "$out.tmp" "$out"
echo "initramfs: ${#order[@]} modules (${order[*]}), $(du -k "$out" | cut -f1) KiB"
