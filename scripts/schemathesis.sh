#!/usr/bin/env bash
# Schemathesis against a live `drover server`: property-based requests generated from the API's
# own OpenAPI document (GET /api/v1/openapi.json). It fails on any 5xx, on any response whose
# status or body the document does not describe, when the server accepts what the schema refuses
# or refuses what it accepts, when an operation that takes a token answers without one, and when
# a refused request (4xx) changed the store (scripts/schemathesis_hooks.py; the audit table, which
# records refusals, and each server's own row in `servers` are left out). Called by scripts/test.sh;
# run it alone the same way.
#
# Schemathesis is installed in a venv under target/ (pinned below). The server gets a temp data
# dir, a free port on 127.0.0.1, rate limits high enough never to trip, and is stopped by its own
# pid. Two passes: with a personal token of a user who may deploy on the seeded stack, then with the
# admin token. Bounded: SCHEMATHESIS_MAX_EXAMPLES per operation (default 40) and
# SCHEMATHESIS_MAX_TIME seconds for both passes (default 200, a quarter of it for the user's);
# SCHEMATHESIS_SEED (default 1) makes a run repeatable.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"

VERSION=4.32.5
VENV="$PWD/target/schemathesis-venv"
MAX_EXAMPLES="${SCHEMATHESIS_MAX_EXAMPLES:-40}"
MAX_TIME="${SCHEMATHESIS_MAX_TIME:-200}"
SEED="${SCHEMATHESIS_SEED:-1}"

if [ "$("$VENV/bin/st" --version 2>/dev/null)" != "st, version $VERSION" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$VERSION"
fi
cargo build --locked -p drover --quiet

WORK="$(mktemp -d "${TMPDIR:-/tmp}/drover-schemathesis.XXXXXX")"
DATA="$WORK/data"
PIDFILE="$WORK/server.pid"
PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
URL="https://127.0.0.1:$PORT"

stop() {
  if [ -f "$PIDFILE" ]; then
    pid="$(cat "$PIDFILE")"
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid"
      for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    rm -f "$PIDFILE"
  fi
  if [ "${KEEP_WORK:-}" = 1 ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap stop EXIT

target/debug/drover server --data-dir "$DATA" --listen "127.0.0.1:$PORT" \
  --rate-limit-per-second 100000 --rate-limit-burst 1000000 >"$WORK/server.log" 2>&1 &
echo $! >"$PIDFILE"

for _ in $(seq 300); do
  [ -s "$DATA/admin.token" ] && curl -fsS --cacert "$DATA/pki/ca.crt" "$URL/api/v1/openapi.json" -o /dev/null 2>/dev/null && break
  kill -0 "$(cat "$PIDFILE")" 2>/dev/null || { cat "$WORK/server.log"; echo "the server exited" >&2; exit 1; }
  sleep 0.1
done
TOKEN="$(cat "$DATA/admin.token")"

# What the hooks point some path parameters at: a stack with a layer and an app, and a user, who
# may deploy on that stack and has a personal token.
api() {
  curl -fsS --cacert "$DATA/pki/ca.crt" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    -X "$1" "$URL/api/v1$2" -d "$3"
}
api POST /stacks '{"name": "demo"}' >/dev/null
api POST /stacks/demo/layers '{"shortname": "web", "type": "custom"}' >/dev/null
api POST /stacks/demo/apps '{"name": "site", "layers": ["web"], "repository": "https://127.0.0.1:1/none.git"}' >/dev/null
api POST /users '{"name": "alice"}' >/dev/null
api PUT /users/alice/grants/demo '{"level": "deploy"}' >/dev/null
USER_TOKEN="$(api POST /tokens '{"user": "alice"}' | python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')"

# One pass as alice (a quarter of the time: refusals for her level; she does not revoke tokens, or
# she would revoke her own), then one as the admin.
status=0
schemathesis() {
  local token="$1" seconds="$2" start=$SECONDS
  # From the temp dir, so that Schemathesis' and Hypothesis' caches stay out of the repository.
  (cd "$WORK" && DROVER_DB="$DATA/drover.db" SCHEMATHESIS_HOOKS=schemathesis_hooks PYTHONPATH="$ROOT/scripts" \
    "$VENV/bin/st" run "$URL/api/v1/openapi.json" \
    --tls-verify "$DATA/pki/ca.crt" \
    --header "Authorization: Bearer $token" \
    --phases examples,coverage,fuzzing \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance,negative_data_rejection,ignored_auth,unsupported_method,allow_header_conformance,refusal_leaves_store_unchanged \
    --max-examples "$MAX_EXAMPLES" --max-time "$seconds" --seed "$SEED" \
    --workers 1 --request-timeout 30 --no-color --generation-database none \
    "${@:3}") || status=$?
  echo "schemathesis: $((SECONDS - start)) s"
}
echo "=== as alice, a user who may deploy on stack demo"
schemathesis "$USER_TOKEN" $((MAX_TIME / 4)) --exclude-operation-id revoke_token "$@"
echo "=== as the admin"
schemathesis "$TOKEN" $((MAX_TIME - MAX_TIME / 4)) "$@"
if [ "$status" -ne 0 ]; then
  echo "--- server log (last 40 lines)"
  tail -n 40 "$WORK/server.log"
fi
exit "$status"
