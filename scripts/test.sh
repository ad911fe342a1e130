#!/usr/bin/env bash
# Runs every test: unit and table tests, snapshot tests, and the integration tests that drive the
# real drover server, agents and CLI, with the store tests on SQLite and on a throwaway PostgreSQL,
# then a set of the integration tests with the server on PostgreSQL. Installs what the tests need
# first. Then Schemathesis against
# a live server, from the API's OpenAPI document (scripts/schemathesis.sh, about 3.5 minutes). Then,
# each once and alone, the slow end-to-end cases: a real Plone 6 site built by zc.buildout behind
# nginx and HAProxy, through a rolling redeploy (about 5 minutes), and load-based scaling under real
# CPU load (about 3 minutes). All are left out when arguments filter the tests; DROVER_SKIP_PLONE=1
# leaves out the two slow cases.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
source scripts/test-postgres.sh
ensure_moto
# Store tests run on SQLite and, through DROVER_TEST_POSTGRES_URL, on this PostgreSQL too.
start_test_postgres
cargo test --workspace --locked "$@"
if [ $# -eq 0 ]; then
  # The server on PostgreSQL: the integration tests that cover the store most (every TestStack
  # gets a PostgreSQL cluster of its own): lifecycles, restarts and crashes, restores, lost agents
  # and healing, held Configures, tokens and people. The rest build the same buildouts through
  # the same store calls; DROVER_TEST_DATABASE=postgres runs any of them (or all) so.
  DROVER_TEST_DATABASE=postgres cargo test --locked -p drover --test spine -- \
    deploy::deploys_hit config:: apps:: auth:: bad_input:: people:: join_tokens:: exec:: faults:: \
    lost:: online:: registered:: restart:: stranded:: stackfile:: import:: webhook:: power:: \
    schedules:: untrusted_facts:: frontend::a_burst ec2::
  scripts/schemathesis.sh
fi
if [ $# -eq 0 ] && [ "${DROVER_SKIP_PLONE:-}" != 1 ]; then
  cargo test --locked -p drover --test spine plone -- --ignored
  # Real CPU load for about 4 minutes: alone, so no other test's load starts or holds its instance.
  cargo test --locked -p drover --test spine load_scaling -- --ignored
fi
