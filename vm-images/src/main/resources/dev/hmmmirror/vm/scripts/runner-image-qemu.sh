#!/bin/sh
# Runs in the build container of the container runner's image (ContainerRunner):
# the profile's kernel root (stock kernel, headers, the kernel's own gcc, make,
# sparse), imported into the engine as is, gets QEMU from the same Debian
# release with apt over the engine host's network (the container has
# --network host; dockerd itself runs with --bridge=none). The runner commits
# the container as hmm-mirror/runner:<suite>-<key>; nothing is pulled.
set -e
export DEBIAN_FRONTEND=noninteractive
apt-get -o Acquire::Check-Valid-Until=false -qq update
apt-get -o APT::Install-Recommends=false -o Dpkg::Options::=--path-exclude=/usr/share/doc/* -y -qq install qemu-system-x86
rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb
qemu-system-x86_64 --version
