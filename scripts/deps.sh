#!/usr/bin/env bash
# Installs what building and testing drover needs on Debian. Sourced by quickstart.sh and test.sh.
# Only missing packages are installed; `apt-get update` runs once, and only if something is missing.

ensure_packages() {
  local missing=()
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "installing: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

ensure_rust() {
  if ! command -v cargo >/dev/null 2>&1; then
    echo "error: cargo is not installed; install Rust 1.95 with rustup (https://rustup.rs), then run this again" >&2
    exit 2
  fi
}

# Build tools for the TLS crates; git and tar for app sources; Python with venv for zc.buildout
# (agents bootstrap buildout from PyPI, so the machine must reach it); nginx and HAProxy, which
# agents run on frontend instances (drover runs its own; on a host with systemd, disable the
# packaged services so they do not hold port 80); redis-server, which agents run on celery_broker
# instances (the packaged service, if started, binds 127.0.0.1 only and does not get in the way).
ensure_packages ca-certificates gcc libc6-dev make git tar python3 python3-venv python3-pip haproxy nginx redis-server sqlite3 curl
# Headless Chromium and its WebDriver, for the web console's tests in a real browser
# (tests/spine/browser.rs starts chromedriver itself). Not needed to run drover.
ensure_packages chromium chromium-driver fonts-dejavu-core
# PostgreSQL and memcached for the RelStorage tests (tests/support/postgres.rs and memcached.rs
# run their own, in a temporary directory and on free ports; the packaged services are not used).
# Not needed to run drover.
ensure_packages postgresql memcached
ensure_rust

# moto's EC2 server, which the `ec2` provider's tests run against (not real AWS): a venv of its
# own under ~/.cache/drover, made and filled only when missing. The tests find it there (or
# through DROVER_MOTO_SERVER). Called by test.sh (the tests need it; quickstart does not).
MOTO_VERSION=5.2.5
ensure_moto() {
  local venv="$HOME/.cache/drover/moto-venv-$MOTO_VERSION"
  [ -x "$venv/bin/moto_server" ] && return 0
  echo "installing moto[server]==$MOTO_VERSION into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "moto[server]==$MOTO_VERSION"
}
