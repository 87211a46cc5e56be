#!/usr/bin/env bash
# Runs the benchmarks and prints their tables (what each measures: bench/README.md):
#   bash bench/run.sh
# Needs the PostgreSQL at 127.0.0.1:5432 for the second step-1 run.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

echo "== argon2id hashing"
cargo bench -q -p sspr-domain --bench hashing
echo
echo "== reset step 1: the same time for every user ID"
cargo bench -q -p sspr-domain --bench reset_start
BENCH_DB=postgres cargo bench -q -p sspr-domain --bench reset_start
echo
echo "== wasm bundle (needs a release build: cargo leptos build --release)"
if [ -d target/site/pkg ]; then
  for f in target/site/pkg/*; do
    printf '%-40s %10d B raw %10d B gzip -9\n' "$f" "$(stat -c %s "$f")" "$(gzip -9c "$f" | wc -c)"
  done
else
  echo "no target/site/pkg yet"
fi
