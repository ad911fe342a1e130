"""Celery in the demo: tasks that write through ZEO, a worker and beat.

bin/celery worker [args]  -> a worker (solo pool) running the tasks below
bin/celerybeat [args]     -> beat, queueing `demoapp.beat_tick` every second
The client's POST /celery queues `demoapp.increment` through the broker.
"""
import os
import sys

import ZEO
from celery import Celery
from ZODB.POSException import ConflictError

app = Celery("demoapp")
app.conf.update(
    task_serializer="json",
    accept_content=["json"],
    result_backend=None,
    broker_connection_retry_on_startup=True,
    worker_pool="solo",
    worker_concurrency=1,
    beat_schedule={"tick": {"task": "demoapp.beat_tick", "schedule": 1.0}},
)
_zeo = {}


def configure(broker, zeo_address, release):
    app.conf.broker_url = broker
    app.conf.beat_schedule_filename = os.path.join(release, "celerybeat-schedule")
    _zeo["address"] = zeo_address


def _db():
    if "db" not in _zeo:
        host, port = _zeo["address"].rsplit(":", 1)
        _zeo["db"] = ZEO.DB((host, int(port)), wait_timeout=60)
    return _zeo["db"]


def _add(key):
    """Adds one to root[key] in a ZODB transaction, again on a conflict with a client's write."""
    for attempt in range(20):
        try:
            with _db().transaction() as conn:
                root = conn.root()
                root[key] = root.get(key, 0) + 1
                value = root[key]
            return value
        except ConflictError:
            if attempt == 19:
                raise


@app.task(name="demoapp.increment")
def increment():
    return _add("celery_hits")


@app.task(name="demoapp.beat_tick")
def beat_tick():
    return _add("beat_ticks")


def worker(broker, zeo_address, release):
    configure(broker, zeo_address, release)
    args = sys.argv[1:] or ["worker"]
    if args[0] == "worker" and not any(a == "-n" or a.startswith("--hostname") for a in args):
        # Workers of several instances may share a host name.
        args += ["-n", f"worker{os.getpid()}@%h"]
    sys.exit(app.start(args + ["--without-mingle", "--without-gossip"] if args[0] == "worker" else args))


def beat(broker, zeo_address, release):
    configure(broker, zeo_address, release)
    sys.exit(app.start(["beat", *sys.argv[1:]]))
