# Installs what the product and its tests need, skipping whatever is there
# already. Sourced by .ci/demo and .ci/test. Debian, run as root (or with sudo).
# Nothing here downloads a binary outside crates.io, npm and Debian.

set -euo pipefail

CARGO_LEPTOS_VERSION=0.3.10     # 0.3.11 needs rustc 1.96
WASM_BINDGEN_VERSION=0.2.130    # must equal the wasm-bindgen pin in Cargo.toml
LEPTOSFMT_VERSION=0.1.33        # formats view! macros (leptosfmt.toml)
CARGO_DENY_VERSION=0.20.2       # licenses, bans, sources (deny.toml)

# Each step says how long the run has taken so far (bash's SECONDS counts
# from the start of the script that sourced this), so a slow CI run shows
# where its time went.
say() { printf '\n==> %s  [%dm%02ds]\n' "$*" $((SECONDS / 60)) $((SECONDS % 60)); }

# The release build: hashed file names (`hash-files` in Cargo.toml), brotli
# and gzip copies beside each file (--precompress), and a wasm chunk per lazy
# page (--split; the wasm imports its chunk loader, so every wasm build of
# this app needs the flag, `cargo leptos watch --split` too).
RELEASE_FLAGS=(--release --precompress --split --cargo-locked)

build_release() {
  say "cargo leptos build ${RELEASE_FLAGS[*]}"
  cargo leptos build "${RELEASE_FLAGS[@]}"
}

# What `sspr serve` needs to find the built site (cargo leptos sets these
# itself when it runs the server).
site_env() {
  export LEPTOS_OUTPUT_NAME=sspr LEPTOS_SITE_ROOT=target/site LEPTOS_SITE_PKG_DIR=pkg LEPTOS_HASH_FILES=true
  export LEPTOS_SITE_ADDR="${LEPTOS_SITE_ADDR:-127.0.0.1:3000}"
}

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

APT_UPDATED=
apt_install() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "apt-get install ${missing[*]}"
  if [ -z "$APT_UPDATED" ]; then as_root apt-get update -qq; APT_UPDATED=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
}

setup_rust() {
  export PATH="$HOME/.cargo/bin:$PATH"
  command -v cargo >/dev/null || { echo "cargo is required (rustup.rs)"; exit 1; }
  rustup target list --installed 2>/dev/null | grep -q wasm32-unknown-unknown \
    || { say "rustup target add wasm32-unknown-unknown"; rustup target add wasm32-unknown-unknown; }
  if ! cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
    say "cargo install cargo-leptos $CARGO_LEPTOS_VERSION (about 20 minutes, once)"
    cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked
  fi
  if ! wasm-bindgen --version 2>/dev/null | grep -q "$WASM_BINDGEN_VERSION"; then
    say "cargo install wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 5 minutes, once)"
    # --locked fails on a lock entry missing from the index; resolve afresh.
    cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
  fi
}

# The test command's own checkers (the demo does not need them).
setup_checkers() {
  if ! leptosfmt --version 2>/dev/null | grep -q "$LEPTOSFMT_VERSION"; then
    say "cargo install leptosfmt $LEPTOSFMT_VERSION (about 2 minutes, once)"
    cargo install leptosfmt --version "$LEPTOSFMT_VERSION" --locked
  fi
  if ! cargo deny --version 2>/dev/null | grep -q "$CARGO_DENY_VERSION"; then
    say "cargo install cargo-deny $CARGO_DENY_VERSION (about 8 minutes, once)"
    cargo install cargo-deny --version "$CARGO_DENY_VERSION" --locked
  fi
}

# npm's binaryen provides the wasm-opt used by release builds (Debian's
# wasm-opt 108 produces a site that fails to hydrate) and Playwright.
setup_node() {
  command -v npm >/dev/null || apt_install nodejs npm
  if [ ! -x end2end/node_modules/.bin/wasm-opt ] || [ ! -d end2end/node_modules/@playwright/test ] \
     || [ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]; then
    say "npm ci (end2end)"
    (cd end2end && npm ci --no-audit --no-fund)
  fi
  export PATH="$PWD/end2end/node_modules/.bin:$PATH"
  wasm-opt --version | grep -q 'version 1[2-9][0-9]' || { echo "wrong wasm-opt: $(wasm-opt --version)"; exit 1; }
}

# Fonts for every script the product speaks (CJK, Arabic, Hebrew): the
# pages name no font that lacks them, and the screenshots of the language
# tests must show the text, not boxes.
setup_chromium() {
  apt_install chromium fonts-noto-core fonts-noto-cjk
}

pg_answers() {
  psql "${SSPR_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}" -Atqc 'select 1' >/dev/null 2>&1
}

# Tests need a PostgreSQL at 127.0.0.1:5432. Use the one the machine runs;
# otherwise start (and if needed install) Debian's, with a password login.
setup_postgres() {
  command -v psql >/dev/null || apt_install postgresql-client
  pg_answers && return 0
  if [ -z "$(ls /etc/postgresql 2>/dev/null)" ]; then apt_install postgresql; fi
  local version; version=$(ls /etc/postgresql | sort -V | tail -n 1)
  say "starting PostgreSQL $version"
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null \
    || as_root pg_ctlcluster "$version" main start || true
  for _ in $(seq 1 30); do pg_answers && return 0; sleep 1; done
  # A fresh Debian cluster asks TCP clients for a password: give postgres one.
  as_root su postgres -c "psql -qc \"ALTER USER postgres PASSWORD 'postgres'\"" >/dev/null
  export SSPR_TEST_POSTGRES_URL="postgres://postgres:postgres@127.0.0.1:5432/postgres"
  pg_answers || { echo "PostgreSQL at 127.0.0.1:5432 does not answer; tests need it"; exit 1; }
}

# The directory tests start their own OpenLDAP (slapd, ldapmodify,
# ldapwhoami) on free loopback ports. The noslapd sentinel keeps the
# package from starting a system slapd on port 389 (the init script obeys it).
setup_directory() {
  if ! dpkg -s slapd >/dev/null 2>&1; then
    as_root mkdir -p /etc/ldap
    as_root touch /etc/ldap/noslapd
  fi
  apt_install slapd ldap-utils
}

# The Active Directory tests run against a real Samba AD DC (.ci/ad-dc).
# samba-ad-provision is only a Recommends of samba-ad-dc, so it is named;
# without other recommends (krb5-user would upgrade libraries under
# PostgreSQL). The image's policy-rc.d keeps the package from starting a
# system DC on port 389.
setup_active_directory() {
  local missing=()
  for p in samba-ad-dc samba-ad-provision ldap-utils openssl; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "apt-get install ${missing[*]}"
  if [ -z "$APT_UPDATED" ]; then as_root apt-get update -qq; APT_UPDATED=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}
