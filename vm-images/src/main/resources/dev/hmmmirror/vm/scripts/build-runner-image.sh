#!/bin/bash
# Builds the container runner's image of one kernel profile, locally (nothing
# is pulled): the profile's kernel root (stock kernel, headers, the kernel's
# own gcc, make, sparse) imported as is, plus QEMU from the same Debian release
# installed with apt over the host's network (dockerd runs with --bridge=none).
# The engine is DOCKER_HOST's (the runner sets it: this host's or another).
#   build-runner-image.sh KERNEL_ROOT TAG OWNER
# OWNER (HOST:PID of the JVM) labels the build container as the runner labels
# its containers, so that a run of this host that was killed halfway leaves
# nothing the next run trips over (its stale containers are removed).
set -euo pipefail
root=$1 tag=$2 owner=$3
base="$tag-base-$$"
name="hmm-runner-build-$$-$RANDOM"
cleanup() { docker rm -f "$name" >/dev/null 2>&1 || true; docker rmi "$base" >/dev/null 2>&1 || true; }
trap cleanup EXIT
tar -C "$root" --exclude=./tmp/* -c . | docker import - "$base"
docker run --name "$name" --network host --label dev.hmmmirror.runner=build --label "dev.hmmmirror.owner=$owner" \
  "$base" sh -c 'set -e; export DEBIAN_FRONTEND=noninteractive
    apt-get -o Acquire::Check-Valid-Until=false -qq update
    apt-get -o APT::Install-Recommends=false -o Dpkg::Options::=--path-exclude=/usr/share/doc/* -y -qq install qemu-system-x86
    rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb
    qemu-system-x86_64 --version'
docker commit --change 'CMD ["sleep", "infinity"]' "$name" "$tag" >/dev/null
docker image inspect --format '{{.Size}}' "$tag" | awk '{printf "image size %.0f MiB\n", $1 / 1048576}'
