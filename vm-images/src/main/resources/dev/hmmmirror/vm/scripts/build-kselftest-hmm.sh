#!/bin/sh
# Builds the kernel's own hmm selftest (hmm-tests) from a kernel source tree,
# statically linked so that it runs in any guest userland. The helper sources
# it links with (vm_util.c, thp_settings.c, ...) are read from the selftest
# Makefile's "$(TEST_GEN_FILES): ..." line, which differs between releases.
#   build-kselftest-hmm.sh SOURCE_DIR UAPI_INCLUDE_DIR OUT_FILE
set -eu
src=$1 uapi=$2 out=$3
dir=$src/tools/testing/selftests/mm
[ -f "$dir/hmm-tests.c" ] || dir=$src/tools/testing/selftests/vm
[ -f "$dir/hmm-tests.c" ] || { echo "no hmm-tests.c under $src/tools/testing/selftests" >&2; exit 1; }
extra=$(sed -n 's/^\$(TEST_GEN_FILES):[[:space:]]*//p' "$dir/Makefile" | head -n 1)
srcs=""
for f in $extra; do
  case "$f" in *.c) srcs="$srcs $dir/$f" ;; esac
done
cc=${CC:-gcc}
set -x
$cc -static -Wall -O2 -U_FORTIFY_SOURCE -I "$src" -I "$src/tools/testing/selftests" -isystem "$uapi" \
  -I "$src/tools/include" -o "$out" "$dir/hmm-tests.c" $srcs -lrt -lpthread -lm
