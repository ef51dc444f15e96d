#!/usr/bin/env bash
# The root filesystem of a lab host, made by debootstrap into DIR from
# ARCHIVE (suite SUITE): sshd, its own dockerd (Debian's docker.io),
# compose v1 (docker-compose) and v2 (the plugin from Debian 13), nginx with
# the njs module and its stock `default` site, curl, iproute2, procps,
# socat and tini. host/ makes it a lab host. Run by image.sh; any change to
# this file builds a new root filesystem.
set -euo pipefail
dir=${1:?usage: rootfs.sh DIR ARCHIVE SUITE} archive=${2:?} suite=${3:?}
here=$(cd "$(dirname "$0")" && pwd)

packages=(
  openssh-server
  docker.io
  docker-compose
  nginx
  libnginx-mod-http-js
  curl
  iproute2
  procps
  socat
  tini
)
debootstrap --variant=minbase --include="$(IFS=,; echo "${packages[*]}")" \
  "$suite" "$dir" "$archive"

"$here/../../.ci/compose-v2" "$dir/usr/local/lib/docker/cli-plugins/docker-compose"
# Each lab makes its own host keys; what Debian generated would be shared
# by every host. Downloaded packages, package lists and docs only take room.
rm -f "$dir"/etc/ssh/ssh_host_*
rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/* \
  "$dir"/usr/share/doc/* "$dir"/usr/share/man/* "$dir"/usr/share/locale/*
