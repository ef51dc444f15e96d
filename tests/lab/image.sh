#!/usr/bin/env bash
# Makes sure the lab's host image is in this machine's Docker Engine and
# prints its reference (greenlight-lab/host:KEY). Two steps, each keyed on a
# hash of its recipe, so a change rebuilds only what it touches:
#   base  the Debian root filesystem of rootfs.sh (debootstrap, minutes),
#         kept as a tarball in the cache dir and imported as
#         greenlight-lab/base:KEY (again from the tarball when the image is
#         gone, e.g. after `docker image prune -a`);
#   host  host/Dockerfile on top of it: the lab's init, sshd and dockerd
#         config (seconds).
# Cache dir: $GREENLIGHT_LAB_CACHE, else /var/cache/greenlight-lab for root,
# else ~/.cache/greenlight-lab. Build nothing with `image.sh --cached`
# (exits 0 when no debootstrap run is needed, 1 otherwise) and
# `image.sh --cache-dir` (prints the cache dir).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
ci=$here/../../.ci
if [[ -n ${GREENLIGHT_LAB_CACHE:-} ]]; then
  cache=$GREENLIGHT_LAB_CACHE
elif ((EUID == 0)); then
  cache=/var/cache/greenlight-lab
else
  cache=${XDG_CACHE_HOME:-$HOME/.cache}/greenlight-lab
fi
if [[ ${1:-} == --cache-dir ]]; then
  echo "$cache"
  exit
fi
read -r archive suite < <("$ci/debian-archive")
hash() { sha256sum | cut -c1-16; }
base_key=$({ echo "$suite"; cat "$here/rootfs.sh" "$ci/compose-v2"; } | hash)
base=greenlight-lab/base:$base_key
tarball=$cache/base-$base_key.tar.gz
image=greenlight-lab/host:$({
  echo "$base_key"
  cat "$here/image.sh"
  cd "$here/host" && find . -type f -print0 | sort -z | xargs -0 sha256sum
} | hash)

have() { docker image inspect "$1" >/dev/null 2>&1; }

if [[ ${1:-} == --cached ]]; then
  have "$image" || have "$base" || [[ -f $tarball ]]
  exit
fi
if have "$image"; then
  echo "$image"
  exit
fi
mkdir -p "$cache"
exec 9>"$cache/build.lock"
flock 9 # one build at a time on this machine
if ! have "$base"; then
  if [[ ! -f $tarball ]]; then
    started=$SECONDS
    echo "lab: building the host root filesystem ($suite) with debootstrap in $cache" >&2
    rootfs=$cache/rootfs-$base_key
    log=$cache/rootfs-$base_key.log
    # --one-file-system: never into a /proc that a failed debootstrap left mounted
    rm -rf --one-file-system "$rootfs"
    if ! "$here/rootfs.sh" "$rootfs" "$archive" "$suite" >"$log" 2>&1; then
      echo "lab: building the root filesystem failed; the end of $log:" >&2
      tail -n 30 "$log" >&2
      exit 1
    fi
    tar --numeric-owner -C "$rootfs" -c . | gzip -1 >"$tarball.partial"
    mv "$tarball.partial" "$tarball"
    rm -rf --one-file-system "$rootfs"
    echo "lab: root filesystem built in $((SECONDS - started)) s: $tarball" >&2
  fi
  started=$SECONDS
  docker import "$tarball" "$base" >/dev/null
  echo "lab: $base imported in $((SECONDS - started)) s" >&2
fi
started=$SECONDS
docker build -q --build-arg "BASE=$base" -t "$image" "$here/host" >/dev/null 2>"$cache/host-build.log" || {
  cat "$cache/host-build.log" >&2
  exit 1
}
echo "lab: $image built in $((SECONDS - started)) s" >&2
echo "$image"
