#!/usr/bin/env bash
# The quickstart: builds drover, starts a server on 127.0.0.1:7443 with its data in ./drover-data,
# applies examples/demo-stack.toml (stack "demo": a ZEO server and a ZEO client instance, app "site"
# from examples/demo-buildout), deploys the app and prints the URLs of the ZEO clients. Running it
# again reuses everything: the server, the git repository, the stack, the release.
#
#   scripts/quickstart.sh        start (or reuse) the demo and run it
#   scripts/quickstart.sh stop   stop the server, the local agents it started and the app's services
set -euo pipefail
cd "$(dirname "$0")/.."
DATA="$PWD/drover-data"
PIDFILE="$DATA/server.pid"
LISTEN="127.0.0.1:7443"

stop() {
  if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
    kill "$(cat "$PIDFILE")"
    echo "stopped the server (pid $(cat "$PIDFILE"))"
  fi
  rm -f "$PIDFILE"
  for pidfile in "$DATA"/instances/*/*/agent.pid; do
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid" && echo "stopped agent $pidfile (pid $pid)"
    fi
    rm -f "$pidfile"
  done
  # The app's services (ZEO server, clients) outlive their agent by design: stop their groups.
  sleep 1
  for state in "$DATA"/instances/*/*/srv/www/*/shared/run/*.json; do
    [ -f "$state" ] || continue
    pid=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["pid"])' "$state" 2>/dev/null) || continue
    if kill -0 "$pid" 2>/dev/null; then
      kill -- "-$pid" 2>/dev/null && echo "stopped service $(basename "$state" .json) (pid $pid)"
    fi
  done
}

if [ "${1:-}" = "stop" ]; then
  stop
  exit 0
fi

source scripts/deps.sh
cargo build --release --locked
DROVER="$PWD/target/release/drover"
mkdir -p "$DATA"

if ! { [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }; then
  "$DROVER" server --data-dir "$DATA" --listen "$LISTEN" >>"$DATA/server.log" 2>&1 &
  echo $! >"$PIDFILE"
  echo "started drover server (pid $!), log in $DATA/server.log"
fi
for _ in $(seq 1 100); do
  [ -s "$DATA/admin.token" ] && DROVER_TOKEN=$(cat "$DATA/admin.token") "$DROVER" stack list >/dev/null 2>&1 && break
  sleep 0.2
done
export DROVER_TOKEN
DROVER_TOKEN=$(cat "$DATA/admin.token")

# The demo app's repository: a bare git repository of examples/demo-buildout, committed again
# only when the example changed.
REPO="$DATA/demo-buildout.git"
demo_git() {
  git --git-dir="$REPO" --work-tree="$PWD/examples/demo-buildout" \
    -c user.name="drover quickstart" -c user.email="quickstart@drover.invalid" "$@"
}
if [ ! -d "$REPO" ]; then
  git init -q --bare -b main "$REPO"
  printf '__pycache__/\n*.pyc\n*.egg-info/\n' >>"$REPO/info/exclude"
fi
demo_git add -A
if ! demo_git rev-parse -q --verify HEAD >/dev/null || ! demo_git diff --cached --quiet; then
  demo_git commit -q -m "examples/demo-buildout"
  echo "committed examples/demo-buildout to $REPO"
fi

echo
echo "== drover apply -f examples/demo-stack.toml =="
"$DROVER" apply -f examples/demo-stack.toml --wait

# An instance that comes online deploys its layers' apps at once. Let those deploys (and the
# Configure runs around them) finish, so that the deploy below does not overlap them.
running() {
  "$DROVER" deployment list --stack demo --json | python3 -c '
import json, sys
print(" ".join(str(d["id"]) for d in json.load(sys.stdin) if d["status"] == "running"))'
}
quiet=0
while [ "$quiet" -lt 2 ]; do
  ids=$(running)
  if [ -z "$ids" ]; then
    quiet=$((quiet + 1))
    sleep 1
    continue
  fi
  quiet=0
  for id in $ids; do
    echo "waiting for deployment $id to finish (its output: $DATA/deployment-$id.log)"
    "$DROVER" deployment show "$id" --follow >"$DATA/deployment-$id.log" 2>&1 || true
  done
done

echo
echo "== drover deploy --stack demo site =="
"$DROVER" deploy --stack demo site --wait
echo
"$DROVER" status demo

# Each instance of the clients layer runs client1..clientN on its own address, ports 8081...
clients=$("$DROVER" instance list --stack demo --json | python3 -c '
import json, sys
for i in json.load(sys.stdin):
    if "clients" in i["layers"] and i.get("address"):
        print(i["hostname"], i["address"])')
echo
echo "== the ZEO clients =="
first=""
while read -r host address; do
  [ -n "$host" ] || continue
  count=$("$DROVER" stack config --stack demo --instance "$host" --json | python3 -c '
import json, sys
members = json.load(sys.stdin)["config"]["opsworks"]["layers"]["clients"]["instances"]
print(members.get(sys.argv[1], {}).get("client_count") or 1)' "$host")
  for n in $(seq 1 "$count"); do
    url="http://$address:$((8080 + n))/"
    echo "  $host client$n: $url"
    first=${first:-$url}
  done
done <<<"$clients"
cat <<MSG

Try:
  curl -s $first                 # the client's status (its ZEO server, release, pid)
  curl -s -X POST ${first}commit # one ZODB transaction through the ZEO server

The server keeps running. More:
  export DROVER_TOKEN=\$(cat $DATA/admin.token)
  $DROVER export --stack demo                     # the stack as a stack file
  $DROVER apply -f examples/demo-stack.toml --dry-run
  $DROVER deployment list --stack demo
Stop everything with: scripts/quickstart.sh stop
MSG
