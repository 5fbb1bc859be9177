#!/usr/bin/env bash
# Checks the mutant catalogue (mutants/linux-7.2/*.patch) against the linux-source-7.2 tree that the
# built-7.2 kernels are compiled from:
#   apply    every patch applies to the pristine tree (patch --dry-run -p1, no fuzz)
#   compile  (--compile) every mutated file compiles, with no warning, with the very command kbuild
#            used for it in the built kernel (its .cmd file: same gcc, flags, .config, objtool), on a
#            copy of the file's directory; the cached tree and build are not written to
# The tree is the source root of built-7.2 in the image cache (ksrc-7.2-*/root/usr/src/linux-source-7.2,
# with the build in kbuild-7.2-*/build, compiled in that root's chroot: needs root), or the ones given:
#
#   ci/check-mutants.sh                         # apply check against the cached source root
#   sudo ci/check-mutants.sh --compile          # ... and compile each mutant in the cached root's chroot
#   ci/check-mutants.sh --tree DIR [--build DIR --compile]   # a tree (and its O= build) on this host
#   ci/check-mutants.sh --mutant 07-hmm-device-private-any-owner ...   # only these
#   ci/check-mutants.sh --catalogue DIR ...      # the patches of DIR instead of mutants/linux-7.2
#
# Exit status 0 only when every selected mutant passed every check; 2 when there is no tree to check.
set -euo pipefail
cd "$(dirname "$0")/.."
PROJECT=$PWD
CACHE=${HMM_MIRROR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hmm-mirror}
CATALOGUE=$PROJECT/mutants/linux-7.2
TREE="" BUILD="" COMPILE=0
ONLY=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --tree) TREE=$2; shift 2 ;;
    --build) BUILD=$2; shift 2 ;;
    --compile) COMPILE=1; shift ;;
    --mutant) ONLY+=("$2"); shift 2 ;;
    --catalogue) CATALOGUE=$(realpath "$2"); shift 2 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "unknown argument $1 (see --help)" >&2; exit 64 ;;
  esac
done

say() { echo "[hmm] $*"; }

# the newest complete cache entry NAME-*, or nothing
entry() {
  local d newest=""
  for d in "$CACHE"/"$1"-*/; do
    d=${d%/}
    [[ -f $d/.complete && ( -z $newest || $d -nt $newest ) ]] && newest=$d
  done
  echo "$newest"
}

ROOT=""
if [[ -z $TREE ]]; then
  ksrc=$(entry ksrc-7.2)
  if [[ -z $ksrc ]]; then
    echo "no linux-source-7.2 source root in $CACHE (ksrc-7.2-*): build it with" \
      "'ci/hmm-vm images --kernel built-7.2' (or name a tree with --tree DIR)" >&2
    exit 2
  fi
  ROOT=$ksrc/root
  TREE=$ROOT/usr/src/linux-source-7.2
  say "source root: $(sed -n 's/^what=//p' "$ksrc/.complete")"
  if [[ $COMPILE == 1 && -z $BUILD ]]; then
    kb=$(entry kbuild-7.2)
    [[ -n $kb ]] || { echo "no built-7.2 kernel build in $CACHE (kbuild-7.2-*): build the image first" >&2; exit 2; }
    BUILD=$kb/build
  fi
fi
[[ -f $TREE/mm/hmm.c ]] || { echo "$TREE is no kernel tree (no mm/hmm.c)" >&2; exit 2; }
if [[ $COMPILE == 1 ]]; then
  [[ -n $BUILD && -f $BUILD/.config ]] || { echo "--compile needs the tree's build (--build DIR with a .config)" >&2; exit 64; }
  if [[ -n $ROOT && $(id -u) -ne 0 ]]; then
    echo "compiling in the source root's chroot needs root: sudo ci/check-mutants.sh --compile" >&2
    exit 1
  fi
fi

patches=()
if [[ ${#ONLY[@]} -gt 0 ]]; then
  for m in "${ONLY[@]}"; do
    [[ -f $CATALOGUE/$m.patch ]] || { echo "no mutant $m in $CATALOGUE" >&2; exit 64; }
    patches+=("$CATALOGUE/$m.patch")
  done
else
  shopt -s nullglob
  patches=("$CATALOGUE"/*.patch)
  shopt -u nullglob
  [[ ${#patches[@]} -gt 0 ]] || { echo "no mutants (*.patch) in $CATALOGUE" >&2; exit 64; }
fi

# the header field $2 of patch $1
field() { sed -n "/^---\$/q; s/^$2: //p" "$1"; }
# the diff of patch $1 (everything after the header's --- line)
diffof() { sed '1,/^---$/d' "$1"; }

if [[ -n $ROOT ]]; then
  WORK=$(mktemp -d "$ROOT/tmp/hmm-mutants.XXXXXX")
else
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/hmm-mutants.XXXXXX")
fi
trap 'rm -rf "$WORK"' EXIT
# how a path of WORK is seen by the compiler (inside the chroot, ROOT is /)
inside() { if [[ -n $ROOT ]]; then echo "${1#"$ROOT"}"; else echo "$1"; fi; }
# the tree's path as the build's .cmd files name it
SRC_SEEN=$(inside "$TREE")
BUILD_SEEN=/kbuild/build
[[ -z $ROOT ]] && BUILD_SEEN=$BUILD

# compile the mutated copy $2 of file $1 (e.g. mm/hmm.c) with the build's own command; output in $3
compile() {
  local file=$1 copy=$2 log=$3 obj cmdfile cmd
  obj=${file%.c}.o
  cmdfile=$BUILD/$(dirname "$file")/.$(basename "$obj").cmd
  [[ -f $cmdfile ]] || { echo "no $cmdfile: $obj is not part of this build's .config" > "$log"; return 1; }
  cmd=$(sed -n "s|^savedcmd_$obj := ||p" "$cmdfile")
  local out; out=$(inside "$(dirname "$copy")")/$(basename "$obj")
  cmd=${cmd//"$SRC_SEEN/$file"/"$(inside "$copy")"}
  cmd=${cmd//" $obj"/" $out"}
  cmd=${cmd//"$(dirname "$file")/.$(basename "$obj").d"/"$out.d"}
  if [[ -n $ROOT ]]; then
    # objtool reads /proc (its stack limit), gcc writes to /dev/null: both mounted in a private namespace
    unshare -m --propagation private sh -c 'mount --bind "$1" "$2/kbuild" && mount -t proc proc "$2/proc" &&
      mount --rbind /dev "$2/dev" && exec chroot "$2" sh -c "cd /kbuild/build && $3"' \
      sh "$(dirname "$BUILD")" "$ROOT" "$cmd" > "$log" 2>&1
  else
    (cd "$BUILD" && sh -c "$cmd") > "$log" 2>&1
  fi
}

if [[ -n $ROOT && $COMPILE == 1 ]]; then
  mkdir -p "$ROOT/kbuild"
fi

failed=0 n=0
t0=$EPOCHREALTIME
for p in "${patches[@]}"; do
  n=$((n + 1))
  name=$(basename "$p" .patch)
  file=$(field "$p" File)
  if ! diffof "$p" | patch --dry-run -p1 -F0 -s -d "$TREE" > "$WORK/apply.log" 2>&1; then
    say "FAIL $name: does not apply to $TREE"; sed 's/^/    /' "$WORK/apply.log"
    failed=$((failed + 1)); continue
  fi
  if [[ $COMPILE == 1 ]]; then
    dir=$WORK/$name
    mkdir -p "$dir/$(dirname "$file")"
    cp -r "$TREE/$(dirname "$file")/." "$dir/$(dirname "$file")/"
    diffof "$p" | patch -p1 -F0 -s -d "$dir" > "$WORK/apply.log" 2>&1
    if ! compile "$file" "$dir/$file" "$dir/compile.log" || grep -qE 'warning:|error:' "$dir/compile.log"; then
      say "FAIL $name: $file does not compile cleanly"; sed 's/^/    /' "$dir/compile.log" | tail -n 20
      failed=$((failed + 1)); rm -rf "$dir"; continue
    fi
    rm -rf "$dir"
    say "ok   $name ($file applies and compiles)"
  else
    say "ok   $name ($file applies)"
  fi
done
say "$((n - failed)) of $n mutants passed ($([[ $COMPILE == 1 ]] && echo "apply + compile" || echo apply)) in" \
  "$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f s", b - a }')"
[[ $failed == 0 ]]
