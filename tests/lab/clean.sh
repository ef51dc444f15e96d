#!/usr/bin/env bash
# Removes what a lab left on this machine (a test killed before its
# teardown): lab containers with their volumes, the lab network, the lab
# route and the lab's temporary dir. With --cache, also the cached host
# images and root filesystems (the next lab run builds them again, which
# takes minutes). Refuses while a lab is in use (its lock is held).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
exec 9>/tmp/greenlight-lab.lock
flock -n 9 || { echo "clean: a lab is in use (/tmp/greenlight-lab.lock is held)" >&2; exit 1; }
mapfile -t containers < <(docker ps -aq --filter label=greenlight.lab)
if ((${#containers[@]})); then
  docker rm --force --volumes "${containers[@]}" >/dev/null
fi
if docker network inspect greenlight-lab >/dev/null 2>&1; then
  docker network rm greenlight-lab >/dev/null
fi
ip route del unreachable 172.31.240.0/24 metric 4242 2>/dev/null || true
rm -rf "${TMPDIR:-/tmp}"/greenlight-lab-*/ # the keys and certs of dead labs
echo "clean: removed ${#containers[@]} lab container(s), the lab network, route and dirs"
if [[ ${1:-} == --cache ]]; then
  mapfile -t images < <(docker images --format '{{.Repository}}:{{.Tag}}' 'greenlight-lab/*')
  if ((${#images[@]})); then
    docker rmi "${images[@]}" >/dev/null
  fi
  cache=$("$here/image.sh" --cache-dir)
  rm -rf --one-file-system "$cache"
  echo "clean: removed ${#images[@]} lab image(s) and $cache"
fi
