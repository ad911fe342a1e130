"""A ZEO client in miniature: an HTTP server that reads and writes through ZEO, or through
RelStorage on PostgreSQL when cfg/relstorage.cfg gives it a storage config (see storage.py).

GET /        -> {"client", "release", "mark", "pid", "started", "hits", "zeo", "storage"}
                (release: the release directory it runs from; mark: release-mark.txt in it;
                 hits: a counter kept in the ZODB; storage: "zeo" or "relstorage")
POST /commit -> increments the counter in a ZODB transaction and returns it
POST /log    -> prints the request body to the client's output (its service log), one line each
POST /solr/index?id=&title= -> indexes a document in Solr ([solr-host]) and commits
GET /solr/search?q=field:value -> Solr's select answer for the query
POST /celery -> queues demoapp.increment (demoapp/tasks.py) through the Celery broker; GET / then
                shows its effect as "celery_hits" (and beat's as "beat_ticks")
GET /health  -> 200 "ok" once connected to ZEO (also the frontend's default health check URL,
                /misc_/CMFPlone/plone_icon); paths behind nginx's virtual hosting rewrite are unwrapped
"""
import json
import os
import socket
import sys
import threading
import time
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from demoapp import storage

RELEASE_MARK = "release-mark.txt"


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        pass

    def address_string(self):
        # No reverse DNS lookups per request.
        return self.client_address[0]


class Server(WSGIServer):
    def server_bind(self):
        # Bind without looking up our own host name (slow on 127.0.0.N without /etc/hosts);
        # reuse the address, or a restart fails while the old process's connections linger.
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind(self.server_address)
        self.server_address = self.socket.getsockname()
        self.server_name, self.server_port = self.server_address[:2]
        self.setup_environ()


def split(address):
    host, port = address.rsplit(":", 1)
    return host, int(port)


def solr_call(solr, environ, path, start_response):
    """Indexes into or searches the Solr at [solr-host] (core "plone")."""
    from urllib.parse import parse_qs, urlencode
    from urllib.request import Request, urlopen

    if not solr:
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"no Solr: [solr-host] has no host"]
    query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
    if environ["REQUEST_METHOD"] == "POST" and path == "/solr/index":
        body = json.dumps([query]).encode()
        request = Request(f"{solr}/update?commit=true", data=body, headers={"Content-Type": "application/json"})
    elif path == "/solr/search":
        request = Request(f"{solr}/select?" + urlencode({"q": query.get("q", "*:*"), "wt": "json"}))
    else:
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"POST /solr/index or GET /solr/search"]
    try:
        with urlopen(request, timeout=10) as resp:
            answer = resp.read()
    except Exception as e:
        start_response("502 Bad Gateway", [("Content-Type", "text/plain")])
        return [f"Solr at {solr}: {e}".encode()]
    start_response("200 OK", [("Content-Type", "application/json")])
    return [answer]


def main(
    name,
    http_address,
    zeo_address,
    release,
    storage_config=None,
    broker_host="",
    broker_port="6379",
    solr_host="",
    solr_port="8983",
):
    if len(sys.argv) > 1 and sys.argv[1] not in ("console", "fg"):
        sys.exit(f"usage: {sys.argv[0]} console")
    started = time.time()
    broker = f"redis://{broker_host}:{broker_port}/0" if broker_host else None
    solr = f"http://{solr_host}:{solr_port}/solr/plone" if solr_host else None
    mark_path = os.path.join(release, RELEASE_MARK)
    mark = open(mark_path).read().strip() if os.path.exists(mark_path) else ""
    if mark == "crash":
        # Lets tests ship a release whose clients never become healthy.
        sys.exit("release-mark.txt says crash")
    if storage_config:
        db = storage.relstorage_db(storage_config)
        kind, where = "relstorage", storage.describe(storage_config)
    else:
        db = storage.zeo_db(split(zeo_address))
        kind, where = "zeo", f"ZEO at {zeo_address}"
    lock = threading.Lock()

    def app(environ, start_response):
        path = environ.get("PATH_INFO", "/")
        if "/VirtualHostRoot" in path:
            # Behind drover's nginx: /VirtualHostBase/http/host:80/Plone/VirtualHostRoot/<path>
            path = path.split("/VirtualHostRoot", 1)[1] or "/"
        if environ["REQUEST_METHOD"] == "POST" and path == "/log":
            body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            for line in body.decode("utf-8", "replace").splitlines():
                print(line, flush=True)
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"logged"]
        if path == "/health" or path.endswith("/plone_icon"):
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"ok"]
        if path.startswith("/solr/"):
            return solr_call(solr, environ, path, start_response)
        if environ["REQUEST_METHOD"] == "POST" and path == "/celery":
            if not broker:
                start_response("404 Not Found", [("Content-Type", "text/plain")])
                return [b"no broker: build with cfg/celery.cfg"]
            from demoapp import tasks

            tasks.configure(broker, zeo_address, release)
            queued = tasks.increment.delay()
            start_response("202 Accepted", [("Content-Type", "application/json")])
            return [json.dumps({"queued": queued.id, "broker": broker}).encode()]
        with lock, db.transaction() as conn:
            root = conn.root()
            if environ["REQUEST_METHOD"] == "POST" and path == "/commit":
                root["hits"] = root.get("hits", 0) + 1
            hits = root.get("hits", 0)
            celery_hits = root.get("celery_hits", 0)
            beat_ticks = root.get("beat_ticks", 0)
        body = {
            "client": name,
            "release": os.path.basename(os.path.realpath(release)),
            "mark": mark,
            "pid": os.getpid(),
            "started": started,
            "hits": hits,
            "celery_hits": celery_hits,
            "beat_ticks": beat_ticks,
            "zeo": zeo_address,
            "storage": kind,
        }
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps(body).encode()]

    host, port = split(http_address)
    server = make_server(host, port, app, server_class=Server, handler_class=QuietHandler)
    print(f"{name} serving on {http_address}, {where}, release {release}", flush=True)
    try:
        server.serve_forever()
    finally:
        db.close()
