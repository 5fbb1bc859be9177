#!/usr/bin/env bash
# The DKMS route, as far as this machine allows (CI): the .deb of ci/build-dkms-deb.sh is installed
# with dpkg into a throw-away overlay of the sid kernel root (that kernel's headers and gcc; dkms
# from Debian's archive), so its postinst runs `dkms add` + `dkms install` as on a real Debian host;
# then the module DKMS built is loaded in a guest of that kernel (the harness's own module
# unloaded first) and a Java program with only java-bindings on its classpath drives
# /dev/hmm_mirror0 from a plain `java` command. Needs root (mount, chroot) and the network to the
# Debian mirror (apt in the chroot). The guest has no network, so dkms itself cannot run inside it.
set -uo pipefail
cd "$(dirname "$0")/.."
source ci/env.sh || exit 1
cache=${HMM_MIRROR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hmm-mirror}
ci/hmm images --kernel debian-sid >/dev/null || { echo "[hmm] dkms: no sid image" >&2; exit 1; }
# the x86-64 sid root (kernel-sid-KEY), not another architecture's (kernel-sid-arm64-KEY)
kroot=$(ls -td "$cache"/kernel-sid-*/ 2>/dev/null | while read -r d; do
  d=${d%/}
  [[ ${d##*/} =~ ^kernel-sid-[0-9a-f]+$ && -f $d/.complete ]] && echo "$d" && break
done)
[[ -n $kroot ]] || { echo "[hmm] dkms: no complete kernel-sid-* entry in $cache" >&2; exit 1; }
krel=$(ls "$kroot/root/usr/lib/modules" | head -n 1)
work=$(mktemp -d "${TMPDIR:-/tmp}/hmm-dkms.XXXXXX")
mnt=$work/root
cleanup() {
  for m in dev/pts dev proc sys; do umount "$mnt/$m" 2>/dev/null; done
  umount "$mnt" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
deb=$(ci/build-dkms-deb.sh "$work/deb") || exit 1
echo "[hmm] dkms: $(basename "$deb") into an overlay of $kroot (kernel $krel)"
mkdir -p "$work/upper" "$work/ovl" "$mnt"
mount -t overlay overlay -o "lowerdir=$kroot/root,upperdir=$work/upper,workdir=$work/ovl" "$mnt" || exit 1
for m in proc sys dev dev/pts; do mkdir -p "$mnt/$m"; mount --bind "/$m" "$mnt/$m"; done
cp /etc/resolv.conf "$mnt/etc/resolv.conf" 2>/dev/null
cp "$deb" "$mnt/tmp/"
apt=(-o Acquire::Check-Valid-Until=false -o APT::Install-Recommends=false -o Dpkg::Use-Pty=false -qq)
t0=$SECONDS
if ! TMPDIR=/tmp chroot "$mnt" sh -c "apt-get ${apt[*]} update && DEBIAN_FRONTEND=noninteractive apt-get ${apt[*]} install -y dkms" \
    > "$work/apt.log" 2>&1; then
  tail -20 "$work/apt.log" >&2; echo "[hmm] dkms: installing dkms in the chroot failed" >&2; exit 1
fi
echo "[hmm] dkms: dkms installed in the chroot in $((SECONDS - t0)) s"
t0=$SECONDS
TMPDIR=/tmp chroot "$mnt" dpkg -i "/tmp/$(basename "$deb")" 2>&1 | tee "$work/dpkg.log" | sed 's/^/  /'
TMPDIR=/tmp chroot "$mnt" dkms status 2>&1 | sed 's/^/  dkms status: /'
ko=$(ls "$mnt/usr/lib/modules/$krel/updates/dkms/"hmm_mirror.ko* 2>/dev/null | head -n 1)
[[ -n $ko ]] || { echo "[hmm] dkms: DKMS installed no hmm_mirror.ko for $krel" >&2;
  cat "$mnt"/var/lib/dkms/hmm_mirror/*/build/make.log 2>/dev/null | tail -30 >&2; exit 1; }
echo "[hmm] dkms: dpkg -i + dkms install took $((SECONDS - t0)) s: $(basename "$ko")"
guest=$work/guest
mkdir -p "$guest/classes"
# DKMS compressed it as the kernel's modules are; modprobe would decompress it, the guest's insmod
# (finit_module) cannot: EINVAL
case $ko in
  *.xz) xz -dc "$ko" > "$guest/hmm_mirror.ko" ;;
  *.zst) zstd -qdc "$ko" > "$guest/hmm_mirror.ko" ;;
  *) cp "$ko" "$guest/hmm_mirror.ko" ;;
esac
bindings=$(ls cli/target/hmm/lib/java-bindings-*.jar | head -n 1)
cp "$bindings" "$guest/java-bindings.jar"
javac -d "$guest/classes" -cp "$bindings" examples/java-program/HelloMirror.java || exit 1
"$PWD/ci/hmm" run --kernel debian-sid --dir "$guest" -- sh -c "rmmod hmm_mirror && insmod ./hmm_mirror.ko ndevices=1 \
  && grep '^hmm_mirror ' /proc/modules && ls /dev/hmm_mirror* \
  && /usr/lib/jvm/java-25-openjdk-amd64/bin/java --enable-native-access=ALL-UNNAMED -cp java-bindings.jar:classes HelloMirror" \
  | tee "$work/guest.out"
rc=${PIPESTATUS[0]}
if ((rc != 0)) || ! grep -q "HelloMirror: the device read" "$work/guest.out"; then
  echo "[hmm] dkms: the DKMS-built module did not work in the guest (exit $rc)" >&2; exit 1
fi
echo "[hmm] dkms: the module DKMS built for $krel loaded in the guest and a plain java program drove it"
