#!/usr/bin/env bash
# The load benchmark (bench/README.md, "Load"): sspr next to bare axum
# baselines built from bench/ (a hello page and argon2id verify; one sqlx
# insert), all on this machine in one run, driven by wrk. Prints each run,
# then a table of ratios against the baselines and the overload check.
#   bash bench/load.sh
# BENCH_SECONDS (10) per run, BENCH_CONNECTIONS (64), BENCH_OVERLOAD_SECONDS
# (60), BENCH_OVERLOAD_CONNECTIONS (1000). PostgreSQL: $SSPR_TEST_POSTGRES_URL,
# else the local server (two databases are created and dropped).
set -euo pipefail
cd "$(dirname "$0")/.."
source .ci/setup.sh
setup_rust
setup_node
apt_install wrk curl procps
build_release
say "cargo build --release -p sspr-bench (the baselines)"
cargo build -q --release --locked -p sspr-bench

secs=${BENCH_SECONDS:-10}
conns=${BENCH_CONNECTIONS:-64}
over_secs=${BENCH_OVERLOAD_SECONDS:-60}
over_conns=${BENCH_OVERLOAD_CONNECTIONS:-1000}
threads=2
cores=$(nproc)
pg_admin=${SSPR_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
pg_base=${pg_admin%/*}
run=$$
work=$(mktemp -d)
declare -A pid R
# Many connections at once, for wrk and for the servers.
ulimit -n 65536 2>/dev/null || true

cleanup() {
  for p in "${pid[@]}" "${load:-}" "${watch:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done
  wait 2>/dev/null || true
  for db in "sspr_bench_$run" "bare_bench_$run"; do
    psql "$pg_admin" -qc "drop database if exists $db with (force)" >/dev/null 2>&1 || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
for db in "sspr_bench_$run" "bare_bench_$run"; do psql "$pg_admin" -qc "create database $db"; done

# start NAME COMMAND...: runs it in the background, its output in $work/NAME.log.
start() {
  local name=$1
  shift
  "$@" >"$work/$name.log" 2>&1 &
  pid[$name]=$!
}

wait_up() {
  for _ in $(seq 1 300); do
    curl -fs -o /dev/null "$1" && return 0
    sleep 0.1
  done
  echo "$1 did not answer"
  cat "$work"/*.log
  exit 1
}

# sspr NAME PORT DATABASE_URL: the release build with the demo organisation,
# behind a "load balancer" at 127.0.0.1 (trusted_proxies), so wrk's
# X-Forwarded-For spreads the clients over 10.0.0.0/8; messages are held.
# Every other setting is the default.
sspr() {
  local name=$1 port=$2 url=$3
  mkdir -p "$work/$name"
  start "$name" env LEPTOS_OUTPUT_NAME=sspr LEPTOS_SITE_ROOT=target/site LEPTOS_SITE_PKG_DIR=pkg \
    LEPTOS_HASH_FILES=true DATABASE_URL="$url" SSPR_LISTEN="127.0.0.1:$port" \
    SSPR_PUBLIC_URL="http://127.0.0.1:$port" SSPR_KEY_FILE="$work/$name/sspr.key" \
    SSPR_TRUSTED_PROXIES='["127.0.0.1"]' SSPR_DELIVERY__MODE=hold SSPR_LOG_FORMAT=json \
    target/release/sspr serve --demo
  wait_up "http://127.0.0.1:$port/healthz"
}

# measure LABEL URL [VAR=value...]: one wrk run with bench/wrk/measure.lua.
measure() {
  local label=$1 url=$2
  shift 2
  local out line
  out=$(env "$@" WRK_THREADS=$threads WRK_COOKIES_OUT="$work/cookies" \
    wrk -t$threads -c"$conns" -d"${secs}s" --latency -s bench/wrk/measure.lua "$url" 2>&1) || true
  line=$(grep '^RESULT' <<<"$out") || { echo "$label: wrk printed no result: $out"; exit 1; }
  R[$label]=$line
  printf '%-34s %s\n' "$label" "${line#RESULT }"
}

# field LABEL KEY: one value of a run's RESULT line.
field() { sed -nE "s/.* $2=([^ ]+).*/\1/p" <<<" ${R[$1]}"; }

# flows NAME: the flow cookies the last step-1 run saved, in one file.
flows() { cat "$work"/cookies.* >"$work/$1.flows" 2>/dev/null || true; rm -f "$work"/cookies.*; }

rss_kib() {
  [ -r "/proc/$1/status" ] || { echo "process $1 (sspr) is gone; its log: $(tail -5 "$work"/sspr_sqlite.log)" >&2; exit 1; }
  awk '/^VmRSS/ {print $2}' "/proc/$1/status"
}

start hello target/release/bare-hello 127.0.0.1:4101
start insert_sqlite target/release/bare-insert 127.0.0.1:4102 "sqlite://$work/bare.db?mode=rwc"
start insert_pg target/release/bare-insert 127.0.0.1:4103 "$pg_base/bare_bench_$run"
wait_up http://127.0.0.1:4101/
sspr sspr_sqlite 4104 "sqlite://$work/sspr.db"
sspr sspr_pg 4105 "$pg_base/sspr_bench_$run"
for p in 4102 4103; do
  for _ in $(seq 1 100); do curl -fs -o /dev/null -X POST -d x "http://127.0.0.1:$p/insert" && break; sleep 0.1; done
done

step1=(WRK_METHOD=POST "WRK_BODY=login=user{rand}&captcha=" WRK_SPREAD=1 WRK_EXPECT=302
  WRK_LOCATION=/reset/verify WRK_SAVE=sspr_reset)
gate=(WRK_METHOD=POST "WRK_BODY=address=u{rand}%40home.example" WRK_SPREAD=1 WRK_EXPECT=302
  WRK_LOCATION=/reset/code)
insert=(WRK_METHOD=POST "WRK_BODY=row={rand}")
wrong=(WRK_METHOD=POST "WRK_BODY=login=user{rand}&password=not+the+password" WRK_SPREAD=1
  WRK_ACCEPT=application/json WRK_EXPECT=401)

say "wrk -t$threads -c$conns -d${secs}s per run, $cores cores"
measure "bare hello GET /" http://127.0.0.1:4101/
measure "sspr GET /healthz" http://127.0.0.1:4104/healthz
measure "sspr GET /sign-in" http://127.0.0.1:4104/sign-in
measure "sspr GET /reset" http://127.0.0.1:4104/reset
measure "bare insert (SQLite)" http://127.0.0.1:4102/insert "${insert[@]}"
measure "sspr reset step 1 (SQLite)" http://127.0.0.1:4104/api/reset_start "${step1[@]}"
flows sqlite
measure "sspr email gate (SQLite)" http://127.0.0.1:4104/api/reset_email "${gate[@]}" WRK_COOKIES="$work/sqlite.flows"
measure "bare insert (PostgreSQL)" http://127.0.0.1:4103/insert "${insert[@]}"
measure "sspr reset step 1 (PostgreSQL)" http://127.0.0.1:4105/api/reset_start "${step1[@]}"
flows pg
measure "sspr email gate (PostgreSQL)" http://127.0.0.1:4105/api/reset_email "${gate[@]}" WRK_COOKIES="$work/pg.flows"
measure "bare argon2id verify" http://127.0.0.1:4101/verify WRK_METHOD=POST WRK_BODY=x WRK_EXPECT=401
measure "sspr sign-in, wrong password" http://127.0.0.1:4104/api/sign_in "${wrong[@]}"

# ratio SSPR_LABEL BASE_LABEL GOAL: good answers per second against the base's.
ratio() {
  local a b r verdict
  a=$(field "$1" good_rps)
  b=$(field "$2" good_rps)
  r=$(awk -v a="$a" -v b="$b" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "n/a" }')
  verdict=$(awk -v r="$r" -v g="$3" 'BEGIN { print (r + 0 >= g) ? "met" : "NOT met" }')
  printf '| %-32s | %10s | %-26s | %10s | %6s | >= %-4s %-7s |\n' "$1" "$a" "$2" "$b" "$r" "$3" "$verdict"
}
echo
echo "Good answers per second (status and Location checked), sspr against its baseline:"
printf '| %-32s | %10s | %-26s | %10s | %6s | %-12s |\n' "sspr" "good/s" "baseline" "good/s" "ratio" "goal"
ratio "sspr GET /healthz" "bare hello GET /" 0
ratio "sspr GET /sign-in" "bare hello GET /" 0.15
ratio "sspr GET /reset" "bare hello GET /" 0.15
ratio "sspr reset step 1 (SQLite)" "bare insert (SQLite)" 0.5
ratio "sspr email gate (SQLite)" "bare insert (SQLite)" 0.5
ratio "sspr reset step 1 (PostgreSQL)" "bare insert (PostgreSQL)" 0.5
ratio "sspr email gate (PostgreSQL)" "bare insert (PostgreSQL)" 0.5
ratio "sspr sign-in, wrong password" "bare argon2id verify" 0.9

# Overload: far more password checks than the hashing slots can take, for
# BENCH_OVERLOAD_SECONDS, while one client watches /healthz.
say "overload: $over_conns connections of wrong passwords for ${over_secs}s (hashing slots: $cores)"
target=${pid[sspr_sqlite]}
base_kib=$(rss_kib "$target")
peak_kib=$base_kib
env "${wrong[@]}" WRK_THREADS=$threads wrk -t$threads -c"$over_conns" -d"${over_secs}s" --timeout 15s \
  -s bench/wrk/measure.lua http://127.0.0.1:4104/api/sign_in >"$work/overload.out" &
load=$!
WRK_THREADS=1 wrk -t1 -c1 -d"${over_secs}s" --latency -s bench/wrk/measure.lua \
  http://127.0.0.1:4104/healthz >"$work/healthz.out" &
watch=$!
while kill -0 "$load" 2>/dev/null; do
  now_kib=$(rss_kib "$target")
  [ "$now_kib" -gt "$peak_kib" ] && peak_kib=$now_kib
  sleep 1
done
wait "$load" || echo "the overload run failed: $(tail -3 "$work/overload.out")"
wait "$watch" || echo "the /healthz watch failed: $(tail -3 "$work/healthz.out")"
load= watch=
stopped=$(date +%s.%N)
overload=$(grep '^RESULT' "$work/overload.out" || true)
healthz=$(grep '^RESULT' "$work/healthz.out" || true)
# Back to normal: a single wrong-password check answered within 1 s.
recovered=never
for _ in $(seq 1 60); do
  took=$(curl -s -m 5 -o /dev/null -w '%{http_code} %{time_total}' -X POST -H 'Accept: application/json' \
    -H 'Sec-Fetch-Site: same-origin' -H 'X-Forwarded-For: 10.9.9.9' \
    -d 'login=someone&password=wrong' http://127.0.0.1:4104/api/sign_in) || took="000 0"
  if [ "${took% *}" = 401 ] && awk -v t="${took#* }" 'BEGIN { exit !(t < 1) }'; then
    recovered=$(awk -v a="$stopped" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f s", b - a }')
    break
  fi
  sleep 0.5
done
raw=$(field "bare argon2id verify" good_rps)
offered=$(sed -nE 's/.* rps=([^ ]+).*/\1/p' <<<" $overload")
statuses=$(sed -nE 's/.* statuses=([^ ]+).*/\1/p' <<<" $overload")
others=$(tr ',' '\n' <<<"$statuses" | grep -vE '^(2[0-9][0-9]|401|429|503):' || true)
bound_kib=$((base_kib + cores * 20 * 1024))
times=$(awk -v a="$offered" -v b="$raw" 'BEGIN { printf "%.1f", (b > 0) ? a / b : 0 }')
p99=$(sed -nE 's/.* p99_ms=([^ ]+).*/\1/p' <<<" $healthz")
verdict() { if [ "$1" = 1 ]; then echo met; else echo "NOT met"; fi; }
below() { awk -v a="$1" -v b="$2" 'BEGIN { print (a + 0 < b + 0) ? 1 : 0 }'; }
echo "| check | measured | goal | |"
echo "|---|---|---|---|"
echo "| offered load | $offered req/s = ${times}x the raw hashing rate | 10x | $(verdict "$(below 9.999 "$times")") |"
echo "| answers | $statuses | only 2xx, 401 (the wrong password, checked), 429, 503 | $(verdict "$([ -z "$others" ] && echo 1)") |"
echo "| /healthz p99 during the load | ${p99:-?} ms | < 100 ms | $(verdict "$(below "${p99:-1e9}" 100)") |"
echo "| resident memory | base $((base_kib / 1024)) MiB, peak $((peak_kib / 1024)) MiB | <= base + $cores x 20 MiB = $((bound_kib / 1024)) MiB | $(verdict "$([ "$peak_kib" -le "$bound_kib" ] && echo 1)") |"
echo "| back to normal after the load | $recovered | within 30 s | $(verdict "$([ "$recovered" != never ] && below "${recovered% s}" 30)") |"
echo
echo "sspr resident memory after every run: $(($(rss_kib "$target") / 1024)) MiB (SQLite), $(($(rss_kib "${pid[sspr_pg]}") / 1024)) MiB (PostgreSQL)"
