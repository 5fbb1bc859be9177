#!/bin/bash
# Installs a built kernel tree's modules into OUT (OUT/lib/modules/KREL) without
# running make in the tree: make modules_install would rebuild the tree's host
# tools and generated headers whenever this host's compiler is not the one the
# tree was built with. Copies each module of modules.order (stripped of debug
# info where this host's strip can), modules.builtin*, then depmod -b OUT.
#   install-tree-modules.sh TREE KREL OUT
set -euo pipefail
tree=$1 krel=$2 out=$3
mods=$out/lib/modules/$krel
mkdir -p "$mods/kernel"
n=0
: > "$mods/modules.order"
while read -r m; do
  [ -n "$m" ] || continue
  rel=${m#kernel/}
  ko=${rel%.o}
  ko=${ko%.ko}.ko
  [ -f "$tree/$ko" ] || { echo "modules.order names $m, but $tree/$ko does not exist: build the modules (make modules)" >&2; exit 1; }
  mkdir -p "$mods/kernel/$(dirname "$ko")"
  strip --strip-debug -o "$mods/kernel/$ko" "$tree/$ko" 2>/dev/null || cp "$tree/$ko" "$mods/kernel/$ko"
  echo "kernel/$ko" >> "$mods/modules.order"
  n=$((n + 1))
done < "$tree/modules.order"
for f in modules.builtin modules.builtin.modinfo; do
  if [ -f "$tree/$f" ]; then cp "$tree/$f" "$mods/$f"; fi
done
map=()
[ -f "$tree/System.map" ] && map=(-F "$tree/System.map")
depmod -b "$out" "${map[@]}" "$krel"
echo "installed $n modules of $tree into $mods"
