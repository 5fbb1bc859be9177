#!/usr/bin/env bash
# Regenerates the jextract bindings of native-headers/hmm_mirror.h into
# java-bindings/src/generated/java and records the header's SHA-256.
# Needs an installed jextract (on PATH, or JEXTRACT=/path/to/bin/jextract).
# The generated files are committed and never edited by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
JEXTRACT=${JEXTRACT:-$(command -v jextract || true)}
if [[ -z "$JEXTRACT" || ! -x "$JEXTRACT" ]]; then
  echo "jextract not found: put it on PATH or set JEXTRACT=/path/to/bin/jextract (see docs/bindings.md)" >&2
  exit 1
fi
HEADER=native-headers/hmm_mirror.h
OUT=java-bindings/src/generated/java
PKG=dev.hmmmirror.internal.gen
rm -rf "$OUT/${PKG//.//}"
mkdir -p "$OUT"
args=(--output "$OUT" -t "$PKG" --header-class-name HmmMirrorH)
# Every struct and named constant of the header; function-like macros are
# not supported by jextract, and the header has none that Java needs.
for s in $(sed -n 's/^struct \([a-z_0-9]*\) {$/\1/p' "$HEADER"); do
  args+=(--include-struct "$s")
done
for c in $(sed -n 's/^#define \(HMM_MIRROR_[A-Z_0-9]*\)[ \t].*/\1/p' "$HEADER"); do
  args+=(--include-constant "$c")
done
"$JEXTRACT" "${args[@]}" "$HEADER"
{
  echo "# Written by ci/regenerate-bindings.sh; checked by HeaderHashTest."
  echo "header=$HEADER"
  echo "sha256=$(sha256sum "$HEADER" | cut -d' ' -f1)"
  echo "jextract=$("$JEXTRACT" --version 2>&1 | head -1)"
} > java-bindings/src/generated/GENERATED.properties
echo "bindings regenerated in $OUT"
