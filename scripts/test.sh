#!/usr/bin/env bash
# Runs every test: unit and table tests, snapshot tests, and the integration tests that drive the
# real drover server, agents and CLI. Installs what the tests need first. Then Schemathesis against
# a live server, from the API's OpenAPI document (scripts/schemathesis.sh, about 3.5 minutes). Then,
# once and alone, the slow end-to-end case: a real Plone 6 site built by zc.buildout behind nginx
# and HAProxy, through a rolling redeploy (about 5 minutes). Both are left out when arguments
# filter the tests; DROVER_SKIP_PLONE=1 leaves out the Plone case.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
cargo test --workspace --locked "$@"
if [ $# -eq 0 ]; then
  scripts/schemathesis.sh
fi
if [ $# -eq 0 ] && [ "${DROVER_SKIP_PLONE:-}" != 1 ]; then
  cargo test --locked -p drover --test spine plone -- --ignored
fi
