#!/usr/bin/env bash
# Runs the benchmarks and prints their tables (what each measures: bench/README.md):
#   bash bench/run.sh
# The reset benchmarks run on SQLite, then on PostgreSQL when it answers:
# $SSPR_TEST_POSTGRES_URL, else $DATABASE_URL, else the local server at
# 127.0.0.1:5432 (each run creates a database there and drops it).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
export SSPR_TEST_POSTGRES_URL="${SSPR_TEST_POSTGRES_URL:-${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}}"

# The PostgreSQL URL's host:port (no credentials: it is printed).
postgres_address() {
  local rest=${SSPR_TEST_POSTGRES_URL#*://}
  rest=${rest##*@}
  rest=${rest%%/*}
  case $rest in
    *:*) echo "$rest" ;;
    *) echo "$rest:5432" ;;
  esac
}

# True when something listens there.
postgres_answers() {
  local address
  address=$(postgres_address)
  timeout 3 bash -c "exec 3<>/dev/tcp/${address%:*}/${address##*:}" 2>/dev/null
}

# Runs a reset benchmark on SQLite, then on PostgreSQL.
on_both_databases() {
  cargo bench -q -p sspr-domain --bench "$1"
  echo
  if postgres_answers; then
    BENCH_DB=postgres cargo bench -q -p sspr-domain --bench "$1"
  else
    echo "PostgreSQL at $(postgres_address) does not answer: not run there"
  fi
}

echo "== argon2id hashing"
cargo bench -q -p sspr-domain --bench hashing
echo
echo "== reset step 1: the same time for every user ID"
on_both_databases reset_start
echo
echo "== reset steps after step 1 (send, choose, each gate): the same time for an existing and an unknown user ID"
on_both_databases reset_steps
echo
echo "== directory sync: entries/s and peak memory against a real slapd (BENCH_ENTRIES, default 100000)"
on_both_databases directory_sync
echo
echo "== admin portal at 100 000 accounts: users list, searches, filters, impact preview (BENCH_USERS)"
on_both_databases admin_users
echo
echo "== the admin portal's CSV upload at its limit (1 000 rows) against bare one-row transactions"
on_both_databases portal_import
echo
echo "== built front end (needs a release build: bash -c 'source .ci/setup.sh; build_release')"
echo "   as sent: brotli (.br) to browsers that accept it, gzip (.gz) otherwise; the first-load"
echo "   budget of /reset and /sign-in as Chromium receives them is end2end/tests/first_load.spec.ts"
if [ -d target/site/pkg ]; then
  size() { if [ -f "$1" ]; then stat -c %s "$1"; else echo -; fi; }
  printf '%-58s %10s %10s %10s\n' file raw gzip brotli
  for f in target/site/pkg/*; do
    case "$f" in *.br|*.gz) continue ;; esac
    [ -f "$f" ] || continue
    printf '%-58s %10s %10s %10s\n' "${f#target/site/pkg/}" "$(stat -c %s "$f")" "$(size "$f.gz")" "$(size "$f.br")"
  done
else
  echo "no target/site/pkg yet"
fi
