#!/usr/bin/env bash
# Lists the cache entries (NAME-KEY) that a build of the hmm command resolves the kernel profiles to,
# without building anything: it runs `hmm images` against a scratch cache holding only the markers
# of the real cache's entries, made immutable (chattr +i) so that a missing entry fails at once and
# names itself; the entry is faked (a marker) and the run repeated. Compare two builds' lists to
# prove a change re-keys nothing (e.g. the launcher of main and of a branch):
#   sudo ci/cache-keys.sh /work/main/cli/target/hmm/bin/hmm > before.txt
#   sudo ci/cache-keys.sh cli/target/hmm/bin/hmm > after.txt && diff before.txt after.txt
#   ci/cache-keys.sh LAUNCHER [PROFILE...]
# Profiles: default every x86-64 built and stock profile and the stock arm64 ones.
# Needs root (chattr) and the real cache's package indexes (apt/), i.e. a cache that booted before.
set -uo pipefail
launcher=${1:?usage: ci/cache-keys.sh LAUNCHER [PROFILE...] (e.g. cli/target/hmm/bin/hmm built-7.2)}
shift
src=${HMM_MIRROR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hmm-mirror}
profiles=("$@")
if [[ ${#profiles[@]} -eq 0 ]]; then
  profiles=(built-7.2 built-7.2-debug built-6.12 built-6.12-debug built-6.1 built-6.1-debug
    debian-sid debian-trixie debian-bookworm debian-sid-arm64 debian-sid-arm64-16k)
fi
scratch=$(mktemp -d)
trap 'chattr -i "$scratch" 2>/dev/null; rm -rf "$scratch"' EXIT
cp -a "$src/apt" "$scratch/apt"
for d in "$src"/{ksrc,kbuild,kboot,kernel,boot,userland}-*; do
  [[ -d $d && -f $d/.complete ]] || continue
  mkdir -p "$scratch/${d##*/}" && cp "$d/.complete" "$scratch/${d##*/}/"
  if [[ -f $d/build/kernelrelease ]]; then
    mkdir -p "$scratch/${d##*/}/build" && cp "$d/build/kernelrelease" "$scratch/${d##*/}/build/"
  fi
done
for p in "${profiles[@]}"; do
  for _ in 1 2 3 4 5 6 7 8; do
    chattr +i "$scratch"
    out=$(HMM_MIRROR_CACHE=$scratch timeout 300 "$launcher" images --runner local --kernel "$p" 2>&1)
    rc=$?
    chattr -i "$scratch"
    e=$(grep -o "$scratch/[a-z0-9.+-]*-[0-9a-f]\{16\}" <<< "$out" | head -n 1)
    if [[ $rc -eq 0 ]]; then
      break
    elif [[ -z $e ]]; then
      echo "$p: hmm images failed without naming an entry:" >&2
      tail -n 5 <<< "$out" >&2
      exit 1
    fi
    mkdir -p "$e/build" && printf 'key=%s\n' "${e##*-}" > "$e/.complete" && echo 0.0-fake > "$e/build/kernelrelease"
  done
done
ls "$scratch" | grep -v -e '\.lock$' -e '^apt$' | sort
