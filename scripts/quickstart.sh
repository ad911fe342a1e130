#!/usr/bin/env bash
# The quickstart: builds drover, starts a server on 127.0.0.1:7443 with its data in ./drover-data,
# applies examples/plone6-stack.toml (stack "plone": a ZEO server, two ZEO client instances and a
# frontend running nginx and HAProxy; app "site", the Plone 6.2 buildout in examples/plone6),
# deploys the site, creates the Plone site, and prints its URL and the HAProxy stats page with its
# credentials. The first run builds Plone (about 250 eggs from PyPI: several minutes on 2 cores);
# running it again reuses everything: the server, the repository, the stack, the releases.
#
#   scripts/quickstart.sh        start (or reuse) the stack and print where it answers
#   scripts/quickstart.sh stop   stop the server, the local agents it started and their services
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
  for state in "$DATA"/instances/*/*/srv/www/*/shared/run/*.json "$DATA"/instances/*/*/srv/www/.frontend/shared/run/*.json; do
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

# The app's repository: a bare git repository of examples/plone6, committed again only when the
# example changed.
REPO="$DATA/plone6.git"
site_git() {
  git --git-dir="$REPO" --work-tree="$PWD/examples/plone6" \
    -c user.name="drover quickstart" -c user.email="quickstart@drover.invalid" "$@"
}
if [ ! -d "$REPO" ]; then
  git init -q --bare -b main "$REPO"
  printf '__pycache__/\n*.pyc\n*.egg-info/\n' >>"$REPO/info/exclude"
fi
site_git add -A
if ! site_git rev-parse -q --verify HEAD >/dev/null || ! site_git diff --cached --quiet; then
  site_git commit -q -m "examples/plone6"
  echo "committed examples/plone6 to $REPO"
fi

echo
echo "== drover apply -f examples/plone6-stack.toml =="
"$DROVER" apply -f examples/plone6-stack.toml --wait

# An instance that comes online deploys its layers' apps at once (the first Plone build takes
# minutes). Let those deploys (and the Configure runs around them) finish first.
running() {
  "$DROVER" deployment list --stack plone --json | python3 -c '
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
    echo "waiting for deployment $id (the first Plone build takes several minutes; output in $DATA/deployment-$id.log)"
    "$DROVER" deployment show "$id" --follow >"$DATA/deployment-$id.log" 2>&1 || true
  done
done

echo
echo "== drover deploy --stack plone site =="
"$DROVER" deploy --stack plone site --wait
echo
"$DROVER" status plone

# The Plone site is created once, through a ZEO client (the demo's Zope user is admin:admin).
client=$("$DROVER" instance show --stack plone clients1 --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["address"])')
python3 - "http://$client:8081" <<'PY'
import base64, json, sys, time, urllib.error, urllib.request
base = sys.argv[1]
auth = "Basic " + base64.b64encode(b"admin:admin").decode()
for attempt in range(120):
    try:
        urllib.request.urlopen(urllib.request.Request(base + "/Plone", method="GET"), timeout=30)
        print("the Plone site exists")
        break
    except urllib.error.HTTPError as e:
        if e.code != 404:
            time.sleep(2)
            continue
        body = json.dumps({"site_id": "Plone", "title": "Plone", "default_language": "en", "portal_timezone": "UTC"})
        req = urllib.request.Request(base + "/@sites/classic", data=body.encode(), method="POST", headers={
            "Accept": "application/json", "Content-Type": "application/json", "Authorization": auth})
        urllib.request.urlopen(req, timeout=120)
        print("created the Plone site")
        break
    except (urllib.error.URLError, OSError):
        time.sleep(2)
else:
    sys.exit("the ZEO client at " + base + " did not answer; see drover deployment list --stack plone")
PY

echo
echo "== where it answers =="
"$DROVER" stack frontends --stack plone
cat <<MSG

Open the site URL above (nginx -> HAProxy -> the ZEO clients); log in as admin / admin.
The stats page takes the user and password shown.

The web console is at https://$LISTEN/ (its certificate is from the server's own CA in
$DATA/pki): sign in with the admin token in $DATA/admin.token.

The server keeps running. More:
  export DROVER_TOKEN=\$(cat $DATA/admin.token)
  $DROVER deploy --stack plone site --rolling --wait     # a zero-downtime redeploy
  $DROVER stack config --stack plone --instance clients1
  $DROVER export --stack plone
Stop everything with: scripts/quickstart.sh stop
MSG
