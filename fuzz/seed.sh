#!/usr/bin/env bash
# Seeds fuzz/corpus/spec from the example specs, the diagnostics corpus and
# every ```kdl block of docs/spec.md and README.md. Idempotent.
set -euo pipefail
cd "$(dirname "$0")"
corpus=corpus/spec
mkdir -p "$corpus"
for f in ../specs/*.kdl ../tests/diagnostics/*.kdl ../tests/injection/*.kdl; do
  [[ -f $f ]] || continue
  cp -- "$f" "$corpus/seed-$(basename -- "$(dirname -- "$f")")-$(basename -- "$f")"
done
for doc in ../docs/spec.md ../README.md; do
  awk -v out="$corpus/seed-$(basename -- "$doc" .md)" '
    /^[[:space:]]*```kdl[[:space:]]*$/ { n++; open = 1; next }
    open && /^[[:space:]]*```[[:space:]]*$/ { open = 0; next }
    open { print > (out "-" n ".kdl") }
  ' "$doc"
done
echo "fuzz corpus: $(find "$corpus" -type f | wc -l) files in fuzz/$corpus"
