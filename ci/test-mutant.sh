#!/usr/bin/env bash
# CI smoke of the mutation campaign (hmm mutate, issue 22): ONE cheap mutant
# end to end on built-7.2 -- applied to a copy-on-write view of the cached
# build, rebuilt incrementally with the kernel's own toolchain (mm/hmm.c
# only), booted, and judged by the detector that kills it -- after the
# unmutated kernel through the same machinery (the baseline: what fails
# there is not a kill). Fails unless the mutant is killed.
#   ci/test-mutant.sh [more hmm mutate options, e.g. --detectors selftests,suite]
# Needs root (overlayfs, chroot) and the built-7.2 image (compiled on first
# use, then cached). Measured under TCG on a 2-core host at load ~25: 15.6 min
# (baseline 6.9 min: no-op rebuild 128 s, image 58 s, hmm-tests boot 226 s;
# mutant 8.7 min: rebuild 250 s (mm/hmm.o + vmlinux relink), image 66 s,
# hmm-tests boot 206 s), plus building the hmm command when it is stale.
# Report: target/hmm-mutate-smoke/report.html. Exit 0 killed, 1 not killed,
# 125 could not build or boot.
set -uo pipefail
cd "$(dirname "$0")/.."
mutant=mutation/src/test/resources/dev/hmmmirror/mutate/dev-mutants/01-hmm-write-fault-dropped.patch
detectors=selftests
dir=target/hmm-mutate-smoke
t0=$(date +%s)
echo "[hmm] ===== mutation smoke: $(basename "$mutant") on built-7.2, detectors: $detectors ====="
ci/hmm mutate --kernel built-7.2 --mutant-file "$mutant" --detectors "$detectors" --out "$dir" --redo \
  --expect-killed "$@"
rc=$?
echo "[hmm] mutation smoke: exit $rc in $(( $(date +%s) - t0 )) s (results: $dir/results.json)"
exit $rc
