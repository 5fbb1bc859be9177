#!/usr/bin/env bash
# The hmm command as a user gets it (CI): the distribution archive the build attaches
# (cli/target/hmm-cli-VERSION-dist.tar.gz) unpacked into a scratch folder and run from there, with
# no checkout around it (HMM_ROOT unset: the module is built from the sources inside its
# vm-images jar): its help, then in guests of HMM_KERNEL (default debian-sid) a shell command that
# writes into the host directory and fails with its own exit code, and a Java program
# (examples/java-program, compiled here against the archive's java-bindings only) whose output and
# exit code come back, and examples/rdma-program (compiled against the archive's java-bindings and
# hmm-rdma: `hmm run --java` puts both on the guest classpath) reading an rxe On-Demand Paging region
# over RDMA: on debian-sid it must print the CPU's bytes; on a kernel without rxe ODP it must exit
# 3 saying so. Expects the project built (ci/test.sh). Three guest boots.
set -uo pipefail
cd "$(dirname "$0")/.."
source ci/env.sh || exit 1
work=$(mktemp -d "${TMPDIR:-/tmp}/hmm-cli.XXXXXX")
trap 'rm -rf "$work"' EXIT
fail=0
check() { if eval "$2"; then echo "[hmm] cli: ok: $1"; else echo "[hmm] cli: FAILED: $1" >&2; fail=1; fi; }

archive=$(ls cli/target/hmm-cli-*-dist.tar.gz 2>/dev/null | head -n 1)
if [[ -z $archive ]]; then
  echo "[hmm] cli: no cli/target/hmm-cli-*-dist.tar.gz: build the project first (ci/test.sh or mvn install)" >&2
  exit 1
fi
mkdir -p "$work/dist"
tar -xzf "$archive" -C "$work/dist" || exit 1
hmm=$(ls -d "$work"/dist/hmm-*/bin/hmm | head -n 1)
unset HMM_ROOT
echo "[hmm] cli: running $archive, unpacked in $work/dist"

"$hmm" --help > "$work/help.txt"; rc=$?
check "hmm --help exits 0 and lists run" '((rc == 0)) && grep -q "^  run " "$work/help.txt"'
"$hmm" run --no-such-option >/dev/null 2>&1; rc=$?
check "a usage error exits 125 (rc $rc)" '((rc == 125))'

echo "[hmm] ===== hmm run: a failing command in the guest ====="
(cd "$work" && "$hmm" run -- sh -c 'uname -r > kernel.txt; echo streamed; exit 7') > "$work/run.out"; rc=$?
cat "$work/run.out"
check "the command's exit code comes back (rc $rc, want 7)" '((rc == 7))'
check "its output was passed on" 'grep -q "^streamed" "$work/run.out"'
check "it wrote into the host directory" 'grep -q "amd64" "$work/kernel.txt"'

echo "[hmm] ===== hmm run --java: a Java program in the guest ====="
bindings=$(ls "$(dirname "$hmm")"/../lib/java-bindings-*.jar | head -n 1)
mkdir -p "$work/classes"
javac -d "$work/classes" -cp "$bindings" examples/java-program/HelloMirror.java || fail=1
printf 'Main-Class: HelloMirror\n' > "$work/manifest.txt"
jar cfm "$work/hello.jar" "$work/manifest.txt" -C "$work/classes" . || fail=1
"$hmm" run --dir "$work" --java "$work/hello.jar" 5 > "$work/java.out"; rc=$?
cat "$work/java.out"
check "the program's exit code comes back (rc $rc, want 5)" '((rc == 5))'
check "it drove /dev/hmm_mirror0 through java-bindings" 'grep -q "HelloMirror: the device read 65536 bytes, first 7" "$work/java.out"'

echo "[hmm] ===== hmm run --java: RDMA through an rxe On-Demand Paging region (examples/rdma-program) ====="
rdma=$(ls "$(dirname "$hmm")"/../lib/hmm-rdma-*.jar | head -n 1)
mkdir -p "$work/rdma-classes"
javac -d "$work/rdma-classes" -cp "$bindings:$rdma" examples/rdma-program/OdpRead.java || fail=1
jar cfe "$work/odp-read.jar" OdpRead -C "$work/rdma-classes" . || fail=1
t=$SECONDS
"$hmm" run --dir "$work" --java "$work/odp-read.jar" > "$work/rdma.out"; rc=$?
cat "$work/rdma.out"
echo "[hmm] cli: the RDMA example took $((SECONDS - t)) s (boot included)"
read_back() { # every page of both rounds, as the RDMA READ brought it back
  local r p
  for r in 1 2; do for p in 0 1 2 3; do
    grep -qx "OdpRead: read over RDMA: \"page $p, round $r, written by the CPU\"" "$work/rdma.out" || return 1
  done; done
}
if [[ ${HMM_KERNEL:-debian-sid} == debian-sid ]] || ((rc == 0)); then
  check "the RDMA example exits 0 (rc $rc)" '((rc == 0))'
  check "it read the CPU's bytes over RDMA, before and after MADV_DONTNEED" 'read_back'
else
  check "without rxe ODP the RDMA example exits 3 saying why (rc $rc)" \
    '((rc == 3)) && grep -q "OdpRead: cannot run here: .*kernel" "$work/rdma.out"'
fi
((fail == 0)) && echo "[hmm] cli: all checks passed"
exit $fail
