#!/usr/bin/env bash
# Static checks of the kernel module (kmod/ + native-headers/) on the three
# Debian stock kernels, each inside its cached kernel root (the release's
# kernel headers and the gcc the kernel was built with):
#   build       make W=1 modules                fails on any line with warning: / error:
#   sparse      make W=1 C=2 CHECK=sparse       fails on any sparse report in our files
#                                               (and when sparse cannot run or parse the headers)
#   checkpatch  checkpatch.pl --strict --no-tree --show-types -f, taken from the same
#               kernel's Debian linux-source-X.Y package; fails on any ERROR/WARNING/CHECK
# All checks of all kernels run; the exit status is 0 only when every one passed.
#
#   sudo ci/check-kmod.sh
#   HMM_KMOD_SUITES="sid trixie" ci/check-kmod.sh   # a subset (default: sid trixie bookworm)
#   HMM_SKIP_IMAGES=1 ci/check-kmod.sh              # skip `ci/hmm images --all`
#
# Logs: $HMM_MIRROR_CACHE/check-kmod-logs/<suite>-<step>.log (overwritten by each run).
# Cached here: checkpatch-<suite>-<version>/ (checkpatch.pl and its data files, extracted
# once from linux-source-X.Y); sparse is installed into a kernel root that lacks it.
# shellcheck disable=SC2016  # single-quoted $... are for the inner sh/dpkg-query
set -euo pipefail
cd "$(dirname "$0")/.."
PROJECT=$PWD
CACHE=${HMM_MIRROR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hmm-mirror}
SUITES=${HMM_KMOD_SUITES:-sid trixie bookworm}
LOGS=$CACHE/check-kmod-logs
APT_OPTS=(-q -o Acquire::Check-Valid-Until=false -o Acquire::Languages=none
  -o APT::Install-Recommends=false -o APT::Sandbox::User=root
  -o Dpkg::Use-Pty=0 -o DPkg::Lock::Timeout=600)
STEPS=(build sparse checkpatch)

say() { echo "[hmm] $*"; }
now() { echo "$EPOCHREALTIME"; }
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f s", b - a }'; }
indent() { sed 's/^/    /'; }

if [[ $(id -u) -ne 0 ]]; then
  echo "ci/check-kmod.sh needs root (chroot, unshare, mount): run it with sudo" >&2
  exit 1
fi
for t in unshare chroot mount perl dpkg-deb tar xz flock; do
  command -v "$t" >/dev/null || { echo "ci/check-kmod.sh: $t is missing (run sudo ci/install-deps.sh)" >&2; exit 1; }
done
mkdir -p "$CACHE" "$LOGS"

# --- cleanup of everything this run puts into kernel roots or /tmp ---------------
CLEANUP=()
cleanup() {
  local p
  for p in "${CLEANUP[@]}"; do
    [[ -n $p && -e $p ]] && rm -rf -- "$p"
  done
  return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

declare -A RESULT=() TIME=() KREL=()
overall=0
record() { # suite step ok|FAIL|skip start_time
  RESULT[$1/$2]=$3
  TIME[$1/$2]=$(since "$4")
  [[ $3 == ok ]] || overall=1
}

# Runs a command chrooted into ROOT in a private mount namespace with /proc mounted;
# BIND_SRC/BIND_DST (DST a path inside the root), when set, are bind-mounted first.
in_root() {
  local root=$1
  shift
  unshare -m --propagation private sh -c '
    root=$1 bsrc=$2 bdst=$3
    shift 3
    mount -t proc proc "$root/proc" || exit 125
    if [ -n "$bsrc" ]; then mount --bind "$bsrc" "$root$bdst" || exit 125; fi
    exec chroot "$root" "$@"' sh "$root" "${BIND_SRC:-}" "${BIND_DST:-}" "$@"
}

# --- 0. make sure the kernel roots exist ------------------------------------------
t0=$(now)
images_ok=1
if [[ ${HMM_SKIP_IMAGES:-0} != 1 ]]; then
  say "images: ci/hmm images --all (builds or waits for the kernel roots)"
  if ! ci/hmm images --all 2>&1 | sed 's/\x1b\[[0-9;]*m//g' | indent; then
    say "images: ci/hmm images --all FAILED; checking whatever complete roots exist"
    images_ok=0
    overall=1
  fi
  say "images: done in $(since "$t0")"
fi

# --- snapshot of the sources: every kernel checks the same files ------------------
SNAP=$(mktemp -d /tmp/hmm-check-kmod.XXXXXX)
CLEANUP+=("$SNAP")
tar -C "$PROJECT" -cf - \
  --exclude='*.o' --exclude='*.ko' --exclude='*.mod' --exclude='*.mod.c' --exclude='.*.cmd' \
  --exclude='*.a' --exclude='Module.symvers' --exclude='modules.order' --exclude='.tmp_versions' \
  kmod native-headers | tar -C "$SNAP" -xf -
shopt -s nullglob
CP_FILES=()
for f in "$SNAP"/kmod/*.c "$SNAP"/kmod/*.h "$SNAP"/native-headers/*.h; do
  CP_FILES+=("${f#"$SNAP"/}")
done
C_FILES=("$SNAP"/kmod/*.c)
shopt -u nullglob
say "sources: ${CP_FILES[*]} (${#C_FILES[@]} .c file(s))"

# The newest complete kernel-<suite>-<hash> entry (by the mtime of .complete).
find_entry() {
  local best="" best_t=0 d t
  for d in "$CACHE"/kernel-"$1"-*/; do
    d=${d%/}
    # the suite's own roots only: kernel-sid-KEY, not another architecture's kernel-sid-arm64-KEY
    if [[ ! ${d##*/} =~ ^kernel-$1-[0-9a-f]+$ ]]; then continue; fi
    if [[ $d == *.partial-* || ! -f $d/.complete || ! -d $d/root ]]; then continue; fi
    t=$(stat -c %Y "$d/.complete")
    if ((t > best_t)); then best=$d best_t=$t; fi
  done
  echo "$best"
}

# apt-get update once per root and run (lists are removed again by apt_tidy).
apt_updated=""
apt_update() {
  [[ $apt_updated == "$1" ]] && return 0
  in_root "$1" apt-get "${APT_OPTS[@]}" update >>"$2" 2>&1
  apt_updated=$1
}
apt_tidy() { # leave the root as mmdebstrap did: no package lists, no downloaded .debs
  [[ $apt_updated == "$1" ]] || return 0
  in_root "$1" sh -c 'apt-get clean; rm -f /var/lib/apt/lists/*_Packages* /var/lib/apt/lists/*_Translation-*' >/dev/null 2>&1 || true
  apt_updated=""
}

# checkpatch.pl + spelling.txt + const_structs.checkpatch (+ checker-valid.sh, which
# Debian's 7.x headers lack) from linux-source-X.Y of the kernel's own version,
# extracted once into $CACHE/checkpatch-<suite>-<version>/ (named after the headers'
# version). Sets CPDIR. Not run in a subshell: it records cleanups and apt state.
ensure_checkpatch() { # suite root krel work log
  local suite=$1 root=$2 krel=$3 work=$4 log=$5
  local mm ver src dir part deb
  CPDIR=""
  mm=$(sed -E 's/^([0-9]+\.[0-9]+).*/\1/' <<<"$krel")
  src=linux-source-$mm
  ver=$(chroot "$root" dpkg-query -W -f '${Version}' "linux-headers-$krel")
  dir=$CACHE/checkpatch-$suite-$ver
  if [[ -f $dir/.complete ]]; then CPDIR=$dir; return 0; fi
  part=$dir.partial-$$
  CLEANUP+=("$part")
  rm -rf "$part" && mkdir -p "$part"
  apt_update "$root" "$log" || return 1
  if ! in_root "$root" apt-cache show "$src=$ver" >/dev/null 2>&1; then
    echo "$src=$ver is not in the root's apt sources; using the candidate version instead" >>"$log"
    ver=$(in_root "$root" apt-cache policy "$src" | sed -n 's/^ *Candidate: //p')
    [[ -n $ver && $ver != "(none)" ]] || { echo "no $src package in the root's apt sources" >>"$log"; return 1; }
  fi
  in_root "$root" sh -c 'cd "$1" && shift && exec apt-get "$@"' sh "/tmp/${work##*/}" "${APT_OPTS[@]}" download "$src=$ver" >>"$log" 2>&1 || return 1
  deb=$(echo "$work"/"$src"_*.deb)
  [[ -f $deb ]] || { echo "download of $src=$ver produced no .deb" >>"$log"; return 1; }
  # the inner tarball is linux-source-X.Y/...; tar fails when a pattern (checker-valid.sh) is absent
  dpkg-deb --fsys-tarfile "$deb" | tar -xOf - "./usr/src/$src.tar.xz" |
    tar -xJf - -C "$part" --strip-components=2 --wildcards \
      '*/scripts/checkpatch.pl' '*/scripts/spelling.txt' '*/scripts/const_structs.checkpatch' \
      '*/scripts/checker-valid.sh' >>"$log" 2>&1 || true
  rm -f "$deb"
  for f in checkpatch.pl spelling.txt const_structs.checkpatch; do
    [[ -f $part/$f ]] || { echo "$f not found in $src=$ver" >>"$log"; return 1; }
  done
  echo "$src $ver" >"$part/SOURCE"
  touch "$part/.complete"
  rm -rf "$dir" && mv "$part" "$dir"
  CPDIR=$dir
}

# Prints the sparse/gcc diagnostics of a make log, "ours" or "theirs" ($2), for module dir $3.
diagnostics() { # log ours|theirs moddir_on_host moddir_in_root
  local line path mine
  while IFS= read -r line; do
    [[ $line =~ ^([^:[:space:]]+):[0-9]+(:[0-9]+)?:\ (warning|error): ]] || continue
    path=${BASH_REMATCH[1]}
    mine=0
    if [[ $path == /* ]]; then
      [[ $path == "$4"/* || $path == "${4%/kmod}"/native-headers/* ]] && mine=1
    elif [[ -e $3/$path ]]; then # kbuild of 6.13+ prints paths relative to the module dir
      mine=1
    fi
    if [[ ($2 == ours && $mine == 1) || ($2 == theirs && $mine == 0) ]]; then echo "$line"; fi
  done <"$1"
}

check_suite() {
  local suite=$1 entry root krel headers srctree work work_in lock_fd t log rc prep_t
  say "===== $suite ====="
  entry=$(find_entry "$suite")
  if [[ -z $entry ]]; then
    say "$suite: no complete kernel root under $CACHE (kernel-$suite-*/.complete)"
    for s in "${STEPS[@]}"; do RESULT[$suite/$s]=FAIL TIME[$suite/$s]=-; done
    KREL[$suite]='?'
    overall=1
    return 0
  fi
  root=$entry/root
  krel=$(cd "$root/usr/src" && for d in linux-headers-*; do if [[ -f $d/.config ]]; then echo "${d#linux-headers-}"; fi; done | sort -V | tail -n1)
  KREL[$suite]=${krel:-?}
  if [[ -z $krel ]]; then
    say "$suite: no kernel headers (with .config) in $root/usr/src"
    for s in "${STEPS[@]}"; do RESULT[$suite/$s]=FAIL TIME[$suite/$s]=-; done
    overall=1
    return 0
  fi
  headers=/usr/src/linux-headers-$krel
  say "$suite: kernel $krel, root $root ($(sed -n 's/^CONFIG_CC_VERSION_TEXT="\(.*\)"$/\1/p' "$root$headers/.config"))"

  work=$root/tmp/hmm-check-kmod-$$
  work_in=/tmp/${work##*/}
  CLEANUP+=("$work")
  rm -rf "$work" && mkdir -p "$work"
  cp -a "$SNAP/kmod" "$SNAP/native-headers" "$work/"

  # one run at a time may install into / download for this suite's root
  exec {lock_fd}>"$CACHE/check-kmod-$suite.lock"
  flock -w 3600 "$lock_fd"

  # --- prep: checkpatch from linux-source, sparse in the root --------------------
  prep_t=$(now)
  log=$LOGS/$suite-prep.log
  : >"$log"
  local cpdir=""
  if ensure_checkpatch "$suite" "$root" "$krel" "$work" "$log"; then
    cpdir=$CPDIR
    say "$suite: checkpatch from $(cat "$cpdir/SOURCE") ($cpdir)"
  else
    say "$suite: could not get checkpatch.pl from linux-source (log $log):"
    tail -n 15 "$log" | indent
    cpdir=""
  fi
  if ! chroot "$root" sh -c 'command -v sparse' >/dev/null 2>&1; then
    say "$suite: installing Debian's sparse into the kernel root"
    if ! { apt_update "$root" "$log" &&
      in_root "$root" env DEBIAN_FRONTEND=noninteractive apt-get "${APT_OPTS[@]}" install -y sparse >>"$log" 2>&1; }; then
      say "$suite: installing sparse FAILED (log $log):"
      tail -n 15 "$log" | indent
    fi
  fi
  apt_tidy "$root"
  flock -u "$lock_fd"
  exec {lock_fd}>&-
  local sparse_ver
  sparse_ver=$(chroot "$root" sparse --version 2>/dev/null || echo none)
  say "$suite: prep done in $(since "$prep_t") (sparse $sparse_ver)"

  # --- 1. build with W=1 ----------------------------------------------------------
  t=$(now)
  log=$LOGS/$suite-build.log
  rc=0
  in_root "$root" make -C "$headers" M="$work_in/kmod" W=1 modules >"$log" 2>&1 || rc=$?
  local bad
  bad=$(grep -iE 'warning:|error:' "$log" || true)
  if [[ $rc -eq 0 && -z $bad && -f $work/kmod/hmm_mirror.ko ]]; then
    record "$suite" build ok "$t"
    say "$suite: build W=1: ok in ${TIME[$suite/build]}"
  else
    record "$suite" build FAIL "$t"
    say "$suite: build W=1: FAIL in ${TIME[$suite/build]} (make exit $rc, log $log)"
    if [[ -n $bad ]]; then echo "$bad" | sed "s|$work_in/||g" | indent; else tail -n 20 "$log" | indent; fi
  fi

  # --- 2. sparse ------------------------------------------------------------------
  t=$(now)
  log=$LOGS/$suite-sparse.log
  rc=0
  if [[ $sparse_ver == none ]]; then
    echo "sparse is not installed in $root" >"$log"
    rc=1
  else
    # Debian's 7.x headers lack scripts/checker-valid.sh, which the kernel Makefile
    # runs for C=1/C=2: bind a copy of the kbuild scripts with the script of the
    # same kernel's source over them (the root itself stays untouched).
    srctree=$(sed -n 's|^include \(/.*\)/Makefile$|\1|p' "$root$headers/Makefile" | head -n1)
    srctree=${srctree:-$headers}
    local bsrc="" bdst=""
    if grep -q 'scripts/checker-valid.sh' "$root$srctree/Makefile" && ! chroot "$root" test -e "$srctree/scripts/checker-valid.sh"; then
      if [[ -n $cpdir && -f $cpdir/checker-valid.sh ]]; then
        bdst=$(chroot "$root" readlink -f "$srctree/scripts")
        bsrc=$work/kbuild-scripts
        cp -a "$root$bdst" "$bsrc"
        cp "$cpdir/checker-valid.sh" "$bsrc/checker-valid.sh"
        say "$suite: the headers lack scripts/checker-valid.sh; using the one of $(cat "$cpdir/SOURCE")"
      else
        say "$suite: the headers lack scripts/checker-valid.sh and linux-source gave none: kbuild will refuse sparse"
      fi
    fi
    BIND_SRC=$bsrc BIND_DST=$bdst in_root "$root" make -C "$headers" M="$work_in/kmod" W=1 C=2 CHECK=sparse modules >"$log" 2>&1 || rc=$?
  fi
  local ours theirs theirs_err nchecked nwant
  ours=$(diagnostics "$log" ours "$work/kmod" "$work_in/kmod" | grep -v '\[-W' || true)
  theirs=$(diagnostics "$log" theirs "$work/kmod" "$work_in/kmod" | grep -v '\[-W' || true)
  theirs_err=$(grep ': error:' <<<"$theirs" || true)
  nchecked=$(grep -cE '^ +CHECK +' "$log" || true)
  # the sources kbuild compiles for this kernel: dmem.c and exclusive.c are objects of
  # CONFIG_DEVICE_PRIVATE only (kmod/Kbuild); every one of them must have been checked
  nwant=0
  for f in "${C_FILES[@]}"; do
    f=${f##*/}
    if [[ -f $work/kmod/${f%.c}.o ]]; then nwant=$((nwant + 1)); fi
  done
  ((nwant > 0)) || nwant=${#C_FILES[@]}
  if grep -q 'specified, but .* is not available or not up to date' "$log"; then
    record "$suite" sparse FAIL "$t"
    say "$suite: sparse: FAIL in ${TIME[$suite/sparse]}: kbuild refused sparse $sparse_ver (not available or not up to date; log $log)"
  elif [[ $rc -ne 0 || $nchecked -lt $nwant || -n $ours || -n $theirs_err ]]; then
    record "$suite" sparse FAIL "$t"
    say "$suite: sparse $sparse_ver: FAIL in ${TIME[$suite/sparse]} (make exit $rc, $nchecked of $nwant file(s) checked, log $log)"
    [[ -n $ours ]] && { say "$suite: sparse reports in our files:"; echo "$ours" | sed "s|$work_in/||g" | indent; }
    [[ -n $theirs_err ]] && { say "$suite: sparse cannot parse the kernel's headers:"; echo "$theirs_err" | head -n 20 | indent; }
    [[ -z $ours && -z $theirs_err ]] && tail -n 20 "$log" | indent
  else
    record "$suite" sparse ok "$t"
    say "$suite: sparse $sparse_ver: ok in ${TIME[$suite/sparse]} ($nchecked of ${#C_FILES[@]} file(s) checked: the ones this kernel builds)"
  fi
  if [[ -n $theirs && -z $theirs_err ]]; then
    say "$suite: sparse warnings in the kernel's own headers (not ours, not failing):"
    sort -u <<<"$theirs" | head -n 20 | indent
  fi

  # --- 3. checkpatch --strict -----------------------------------------------------
  t=$(now)
  log=$LOGS/$suite-checkpatch.log
  if [[ -z $cpdir ]]; then
    record "$suite" checkpatch FAIL "$t"
    say "$suite: checkpatch: FAIL (no checkpatch.pl, see $LOGS/$suite-prep.log)"
  else
    # native-headers/ is our uapi: checkpatch sees it where such headers live
    # (include/uapi/linux/), so the uapi rules apply (no BIT(), c99 types allowed).
    local cpwork="$work/checkpatch" files=() f
    mkdir -p "$cpwork/kmod" "$cpwork/include/uapi/linux"
    for f in "${CP_FILES[@]}"; do
      case $f in
        native-headers/*) cp "$SNAP/$f" "$cpwork/include/uapi/linux/" && files+=("include/uapi/linux/${f#native-headers/}") ;;
        *) cp "$SNAP/$f" "$cpwork/$f" && files+=("$f") ;;
      esac
    done
    rc=0
    (cd "$cpwork" && perl "$cpdir/checkpatch.pl" --strict --no-tree --show-types --color=never -f "${files[@]}") 2>&1 |
      sed 's|include/uapi/linux/|native-headers/|g' >"$log" || rc=$?
    local nbad
    nbad=$(grep -cE '^(ERROR|WARNING|CHECK):' "$log" || true)
    if [[ $(grep -c '^total: ' "$log" || true) -eq ${#files[@]} && $nbad -eq 0 && $rc -eq 0 ]]; then
      record "$suite" checkpatch ok "$t"
      say "$suite: checkpatch --strict ($(cat "$cpdir/SOURCE")): ok in ${TIME[$suite/checkpatch]} (${#files[@]} files)"
    else
      record "$suite" checkpatch FAIL "$t"
      say "$suite: checkpatch --strict ($(cat "$cpdir/SOURCE")): FAIL in ${TIME[$suite/checkpatch]}: $nbad report(s) (log $log)"
      awk '/^(ERROR|WARNING|CHECK):/ { if (p != "") print p; p = $0; next }
           /^#[0-9]+: FILE: / && p != "" { f = $0; sub(/^#[0-9]+: FILE: /, "", f); print f " " p; p = ""; next }
           END { if (p != "") print p }' "$log" | indent
      [[ $nbad -eq 0 ]] && tail -n 20 "$log" | indent
    fi
  fi
  rm -rf "$work"
}

for suite in $SUITES; do
  check_suite "$suite"
done

# --- summary ------------------------------------------------------------------------
say "===== summary (logs in $LOGS) ====="
printf '[hmm] %-9s %-22s' kernel release
for s in "${STEPS[@]}"; do printf ' %-18s' "$s"; done
echo
for suite in $SUITES; do
  printf '[hmm] %-9s %-22s' "$suite" "${KREL[$suite]:-?}"
  for s in "${STEPS[@]}"; do printf ' %-18s' "${RESULT[$suite/$s]:-FAIL} (${TIME[$suite/$s]:--})"; done
  echo
done
((images_ok)) || say "ci/hmm images --all failed"
if ((overall)); then
  say "check-kmod: FAIL (total $(since "$t0"))"
  exit 1
fi
say "check-kmod: all kernels pass build W=1, sparse and checkpatch --strict (total $(since "$t0"))"
