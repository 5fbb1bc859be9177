#!/bin/sh
# Run M (docs/performance.md): in one guest, fresh JVMs of FirstResultProbe (java-bindings' test
# classes) to the first answer of /dev/hmm_mirror0, open/ioctl/close through one syscall(2) shape
# ("sys") against libc's three wrappers ("libc"), interleaved, each with an AOT cache recorded in
# the guest first. DIR holds bindings.jar (java-bindings' jar) and probe.jar (FirstResultProbe*.class):
#   hmm run --kernel debian-sid --dir DIR -- sh DIR/first-result-ab.sh DIR [ROUNDS]
# Prints "R round variant ms-main-to-answer ms-whole-JVM answer" lines, then the classes each
# variant loads from outside its AOT cache (spun or not archived).
set -e
cd "$1"
ROUNDS=${2:-12}
J=/usr/lib/jvm/java-25-openjdk-$(dpkg --print-architecture)/bin/java
DEV=/dev/null
[ -e /dev/hmm_mirror0 ] && DEV=/dev/hmm_mirror0
BASE="--enable-native-access=ALL-UNNAMED -XX:+UseSerialGC -XX:-UsePerfData -XX:TieredStopAtLevel=1 -XX:CompileThresholdScaling=10"
CP=bindings.jar:probe.jar
M=dev.hmmmirror.internal.FirstResultProbe
prop() { [ "$1" = libc ] && echo "-Dhmm.bindings.libcFileCalls=true" || true; }
echo "device $DEV; $($J -version 2>&1 | head -1)"
for v in sys libc; do
    s=$(date +%s%N)
    $J $BASE $(prop $v) -XX:AOTCacheOutput=/tmp/$v.aot -cp $CP $M $DEV >/dev/null 2>&1
    e=$(date +%s%N)
    echo "recorded the AOT cache of $v in $(( (e - s) / 1000000 )) ms"
done
for r in $(seq 1 "$ROUNDS"); do
    vs="sys libc"
    [ $((r % 2)) = 0 ] && vs="libc sys"
    for v in $vs; do
        s=$(date +%s%N)
        out=$($J $BASE $(prop $v) -XX:AOTCache=/tmp/$v.aot -cp $CP $M $DEV 2>&1)
        e=$(date +%s%N)
        echo "R $r $v $(echo "$out" | grep first-result | sed 's/.*ms=//; s/ libc.*//') $(( (e - s) / 1000000 )) $(echo "$out" | grep first-result | sed 's/ ms=.*//')"
    done
done
for v in sys libc; do
    n=$($J $BASE $(prop $v) -XX:AOTCache=/tmp/$v.aot -Xlog:class+load -cp $CP $M $DEV | grep -v 'shared objects' | grep -c 'source:')
    echo "$v: $n classes not from the AOT cache"
done
