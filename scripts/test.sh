#!/usr/bin/env bash
# Runs every test: unit and table tests, snapshot tests, and the integration tests that drive the
# real drover server, agents and CLI. Installs what the tests need first.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
cargo test --workspace --locked "$@"
