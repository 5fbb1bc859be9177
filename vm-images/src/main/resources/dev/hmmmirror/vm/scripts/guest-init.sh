#!/bin/sh
# Stage 2 of an hmm-mirror guest, PID 1 in the guest userland: load the
# module, start the guest agent JVM on /dev/ttyS1 (hmm.agent=TTY on the kernel
# command line names another: ttyS0 in arm64 guests) and power off when it ends.
# The host writes run-agent.sh (the java command line) into the same share.
#
# Stage 1 (init) starts this script under the userland's static busybox, so
# everything before the JVM runs its applets in place of the dynamic mount,
# stty, insmod ...: under TCG each first exec of a dynamic binary loads its
# libraries over 9p (docs, performance.md, 'Boot, by stage'). With
# hmm.init=classic on the kernel command line stage 1 starts it under dash,
# with the userland's tools, as before 7 December 2026.
read -r cmdline < /proc/cmdline
PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH
up() { cut -d' ' -f1 /proc/uptime; }
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /tmp
echo hmm-guest > /proc/sys/kernel/hostname
insmod_first=
agent=/dev/ttyS1
for a in $cmdline; do
  case "$a" in
    hmm.agent=*) agent=/dev/${a#hmm.agent=} ;;
    hmm.insmod=first) insmod_first=1 ;;
  esac
done
load_module() {
  insmod /hmm/host/hmm_mirror.ko $(cat /hmm/host/module-params 2>/dev/null)
  echo "@@HMM MODULE rc=$? uptime=$(up)"
}
module=
if [ -f /hmm/host/hmm_mirror.ko ]; then
  # Loaded while the agent's JVM starts: the host sends nothing before it has
  # read this marker (and fails the boot unless rc=0). hmm.insmod=first on the
  # kernel command line loads it before the JVM starts instead.
  if [ -n "$insmod_first" ]; then
    load_module
  else
    load_module &
    module=$!
  fi
fi
if [ -f /hmm/host/work-dir ]; then
  # the host directory of `hmm run` / `hmm shell`, read-write at its host path
  work=$(cat /hmm/host/work-dir)
  mkdir -p "$work"
  mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,rw work "$work" || echo "@@HMM FAIL mount work $work"
fi
stty -F "$agent" raw -echo -onlcr 115200
sh /hmm/host/run-agent.sh < "$agent" > "$agent"
rc=$?
echo "@@HMM AGENT_EXIT rc=$rc uptime=$(up)"
[ -n "$module" ] && wait "$module"
if grep -q '^hmm_mirror ' /proc/modules; then
  rmmod hmm_mirror
  echo "@@HMM RMMOD rc=$? uptime=$(up)"
fi
/usr/bin/dmesg > /hmm/out/dmesg.txt 2>&1 || dmesg > /hmm/out/dmesg.txt 2>&1
echo "$rc" > /hmm/out/exitcode
sync
echo "@@HMM DONE rc=$rc uptime=$(up)"
busybox poweroff -f
