#!/usr/bin/env bash
# The quickstart: builds drover, starts a server on 127.0.0.1:7443 with its data in ./drover-data,
# creates a stack "demo" with two layers and two local instances, and runs a command across them.
#
#   scripts/quickstart.sh        start (or reuse) the demo and run it
#   scripts/quickstart.sh stop   stop the server and the local agents it started
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

if ! "$DROVER" stack show demo >/dev/null 2>&1; then
  "$DROVER" stack create demo
  "$DROVER" layer create --stack demo app --type custom
  "$DROVER" layer create --stack demo db --type zeoserver
  "$DROVER" instance create --stack demo --layer app --wait
  "$DROVER" instance create --stack demo --layer db --wait
fi

echo
echo "== drover exec across both layers =="
"$DROVER" exec --stack demo -- sh -c 'echo "$(uname -n) root=$DROVER_ROOT load=$(cut -d" " -f1 /proc/loadavg)"'
echo
"$DROVER" status demo
cat <<MSG

The server keeps running. Try:
  export DROVER_TOKEN=\$(cat $DATA/admin.token)
  $DROVER exec --stack demo --layer db -- uptime
  $DROVER deployment list --stack demo
Stop everything with: scripts/quickstart.sh stop
MSG
