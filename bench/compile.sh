#!/usr/bin/env bash
# Prints the compiler's figures (not a test): wall time and peak memory of
# `greenlight check` over the example specs, and of `build` on a generated
# spec with 50 apps. Targets: check < 50 ms, 50-app build < 50 ms, < 30 MB.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin=target/release/greenlight
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

{
  printf 'greenlight 1\nproject "fifty"\nproxy {\n    mode "host"\n'
  for i in $(seq 1 50); do printf '    route "/app%d" app="app%d"\n' "$i" "$i"; done
  printf '}\n'
  for i in $(seq 1 50); do
    printf 'app "app%d" {\n    image "registry.example.com/team/app%d"\n    port 8080\n    host-ports blue=%d green=%d\n    health "/healthz"\n}\n' \
      "$i" "$i" $((10000 + i)) $((20000 + i))
  done
} >"$work/fifty.kdl"

measure() { # LABEL RUNS CMD...
  local label=$1 runs=$2 best=999999 total=0 i start end ms rss
  shift 2
  for ((i = 0; i < runs; i++)); do
    start=$(date +%s%N)
    "$@" >/dev/null
    end=$(date +%s%N)
    ms=$(((end - start) / 1000))
    total=$((total + ms))
    ((ms < best)) && best=$ms
  done
  if [[ $(type -t "$1") == function ]]; then
    rss=$(/usr/bin/time -f %M "$bin" build "$work/fifty.kdl" -o "$work/out-rss" 2>&1 >/dev/null | tail -n 1)
  else
    rss=$(/usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -n 1)
  fi
  awk -v l="$label" -v b="$best" -v t="$total" -v n="$runs" -v r="$rss" \
    'BEGIN { printf "%-40s best %6.2f ms  mean %6.2f ms  peak RSS %6.1f MB  (%d runs)\n", l, b / 1000, t / n / 1000, r / 1024, n }'
}

measure "check specs/*.kdl (5 examples)" 20 "$bin" check specs/*.kdl
# Each run writes into a new directory, so every one is a full build.
fresh_build() { "$bin" build "$work/fifty.kdl" -o "$work/out-$((++fresh_count))"; }
fresh_count=0
measure "build of a 50-app spec (fresh dir)" 20 fresh_build
measure "rebuild of a 50-app spec (unchanged)" 20 "$bin" build "$work/fifty.kdl" -o "$work/out-1"
