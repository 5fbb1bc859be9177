#!/usr/bin/env bash
# Makes sure a Docker engine answers, for the container runner. When none does,
# starts Debian's dockerd in the mode that leaves the host's network alone (no
# docker0 bridge, no iptables rules, ip_forward untouched); the runner's
# containers need no network. Waits until `docker info` works. Needs root.
#   HMM_DOCKERD_LOG (default /tmp/hmm-dockerd.log), HMM_DOCKERD_TIMEOUT (s, default 90)
set -euo pipefail
if docker info >/dev/null 2>&1; then
  echo "[hmm] docker engine: already running ($(docker version --format '{{.Server.Version}}' 2>/dev/null))"
  exit 0
fi
command -v dockerd >/dev/null || { echo "dockerd is not installed: run sudo ci/install-deps.sh (Debian's docker.io)" >&2; exit 1; }
[[ $(id -u) -eq 0 ]] || { echo "starting dockerd needs root: sudo ci/start-docker.sh" >&2; exit 1; }
log=${HMM_DOCKERD_LOG:-/tmp/hmm-dockerd.log}
timeout=${HMM_DOCKERD_TIMEOUT:-90}
setsid nohup dockerd --bridge=none --iptables=false --ip-forward=false >"$log" 2>&1 < /dev/null &
pid=$!
for ((i = 0; i < timeout; i++)); do
  if docker info >/dev/null 2>&1; then
    echo "[hmm] docker engine: dockerd (pid $pid) ready in ${i} s, no network changes; log $log"
    exit 0
  fi
  kill -0 "$pid" 2>/dev/null || break
  sleep 1
done
echo "[hmm] dockerd did not answer within ${timeout} s (or exited); last lines of $log:" >&2
tail -n 30 "$log" >&2 || true
exit 1
