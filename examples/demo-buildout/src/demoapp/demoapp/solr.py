"""A stand-in for Solr (not Apache Solr): the demo's `bin/solr-instance fg`.

This machine cannot fetch Solr's runnable distribution, so the demo runs this small server in its
place. It answers, for one core, the handlers a Plone site's Solr client uses, in Solr's JSON shapes:

GET  /solr/<core>/admin/ping          -> {"responseHeader": {...}, "status": "OK"}
POST /solr/<core>/update[?commit=true] -> JSON: a list of documents, or {"add": {"doc": {...}},
                                          "delete": {"id": ...}, "commit": {}}; documents are
                                          searchable once committed
GET  /solr/<core>/select?q=field:value -> {"responseHeader": {...}, "response": {"numFound",
                                          "start", "docs"}}; `*:*` and `field:*` match too

Committed documents are kept in <vardir>/<core>/docs.json, so they survive a restart.
"""
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class Index:
    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()
        self.docs = {}
        self.pending = {}
        if os.path.exists(path):
            with open(path) as f:
                self.docs = {d["id"]: d for d in json.load(f)}

    def add(self, doc):
        if "id" not in doc:
            raise ValueError("Document is missing mandatory uniqueKey field: id")
        doc = dict(doc, id=str(doc["id"]))
        with self.lock:
            self.pending[doc["id"]] = doc

    def delete(self, doc_id):
        with self.lock:
            self.pending[str(doc_id)] = None

    def commit(self):
        with self.lock:
            for doc_id, doc in self.pending.items():
                if doc is None:
                    self.docs.pop(doc_id, None)
                else:
                    self.docs[doc_id] = doc
            self.pending.clear()
            tmp = self.path + ".tmp"
            with open(tmp, "w") as f:
                json.dump(list(self.docs.values()), f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)

    def select(self, q):
        field, _, value = q.partition(":")
        with self.lock:
            docs = list(self.docs.values())
        if q in ("*:*", "*"):
            return docs

        def matches(doc):
            if field not in doc:
                return False
            if value == "*":
                return True
            have = doc[field] if isinstance(doc[field], list) else [doc[field]]
            return any(str(v) == value.strip('"') for v in have)

        return [d for d in docs if matches(d)]


def handler_for(core, index):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format, *args):
            pass

        def answer(self, status, body):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def error(self, status, msg):
            self.answer(status, {"responseHeader": {"status": status, "QTime": 0}, "error": {"msg": msg, "code": status}})

        def route(self):
            url = urlsplit(self.path)
            prefix = f"/solr/{core}/"
            if not url.path.startswith(prefix):
                self.error(404, f"no such core or handler: {url.path}")
                return None, None
            return url.path[len(prefix):].rstrip("/"), {k: v[0] for k, v in parse_qs(url.query).items()}

        def do_GET(self):
            handler, params = self.route()
            if handler == "admin/ping":
                self.answer(200, {"responseHeader": {"status": 0, "QTime": 0}, "status": "OK"})
            elif handler == "select":
                started = time.time()
                docs = index.select(params.get("q", "*:*"))
                start, rows = int(params.get("start", 0)), int(params.get("rows", 10))
                header = {"status": 0, "QTime": int((time.time() - started) * 1000), "params": params}
                self.answer(200, {"responseHeader": header,
                                  "response": {"numFound": len(docs), "start": start, "docs": docs[start:start + rows]}})
            elif handler is not None:
                self.error(404, f"no GET handler {handler}")

        def do_POST(self):
            handler, params = self.route()
            if handler is None:
                return
            if handler != "update":
                self.error(404, f"no POST handler {handler}")
                return
            try:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"[]")
                commands = body if isinstance(body, list) else [body]
                commit = params.get("commit") == "true"
                for command in commands:
                    if "add" in command or "delete" in command or "commit" in command:
                        adds = command.get("add", [])
                        for add in adds if isinstance(adds, list) else [adds]:
                            index.add(add["doc"])
                        if "delete" in command:
                            index.delete(command["delete"]["id"])
                        commit = commit or "commit" in command
                    else:
                        index.add(command)
                if commit:
                    index.commit()
            except (ValueError, KeyError, TypeError) as e:
                self.error(400, str(e))
                return
            self.answer(200, {"responseHeader": {"status": 0, "QTime": 0}})

    return Handler


class Server(ThreadingHTTPServer):
    allow_reuse_address = True
    daemon_threads = True

    def server_bind(self):
        # No reverse lookup of our own name (slow on 127.0.0.N without /etc/hosts).
        self.socket.bind(self.server_address)
        self.server_address = self.socket.getsockname()
        self.server_name, self.server_port = self.server_address[:2]


def main(host, port, vardir, core):
    if sys.argv[1:] != ["fg"]:
        sys.exit(f"usage: {sys.argv[0]} fg")
    # Lets tests make a start slow, as a real Solr's is (loading its cores).
    time.sleep(float(os.environ.get("DEMO_SOLR_START_DELAY", "0")))
    os.makedirs(os.path.join(vardir, core), exist_ok=True)
    index = Index(os.path.join(vardir, core, "docs.json"))
    server = Server((host, int(port)), handler_for(core, index))
    print(f"solr stand-in: core {core} on {host}:{port}, data in {vardir}", flush=True)
    server.serve_forever()
