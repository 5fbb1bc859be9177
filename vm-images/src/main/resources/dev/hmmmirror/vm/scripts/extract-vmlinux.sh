#!/bin/bash
# Extracts the uncompressed ELF vmlinux from a bzImage/vmlinuz. Debian's
# kernels have CONFIG_PVH, so QEMU boots the ELF directly and skips the
# in-guest decompression (7-10 s under TCG).
#   extract-vmlinux.sh VMLINUZ OUT
set -euo pipefail
in=$1 out=$2
is_elf() { [ "$(head -c4 "$1" | od -An -tx1 | tr -d ' \n')" = 7f454c46 ]; }
if is_elf "$in"; then cp "$in" "$out"; exit 0; fi
try() {
  local magic=$1; shift
  for pos in $(LC_ALL=C grep -abo -P "$magic" "$in" | cut -d: -f1); do
    tail -c+$((pos + 1)) "$in" | "$@" > "$out.tmp" 2>/dev/null || true
    if [ -s "$out.tmp" ] && is_elf "$out.tmp"; then mv "$out.tmp" "$out"; return 0; fi
  done
  rm -f "$out.tmp"
  return 1
}
try '\xfd7zXZ\x00' xz -dc && exit 0
try '\x28\xb5\x2f\xfd' zstd -dc && exit 0
try '\x1f\x8b\x08' gzip -dc && exit 0
echo "no compressed ELF kernel found in $in" >&2
exit 1
