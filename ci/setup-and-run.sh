#!/usr/bin/env bash
# The main job: installs the host tools, builds the project, builds (or reuses)
# the default guest image, boots it in QEMU, loads hmm_mirror.ko and runs the
# device demo from Java in the guest. Pass --kernel PROFILE to pick a kernel.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ $(id -u) -eq 0 ]]; then bash ci/install-deps.sh; fi
exec ci/hmm demo "$@"
