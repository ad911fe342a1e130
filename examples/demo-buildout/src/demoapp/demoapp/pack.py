"""bin/zodbpack: packs the demo's RelStorage database to `days` ago (0: now), removing the
object revisions older than that and, with pack-gc (RelStorage's default), unreachable objects.
The database and its password are read from deploy.cfg (see storage.py), never printed.
"""
import time

from demoapp import storage


def main(storage_config, days):
    db = storage.relstorage_db(storage_config, attempts=3)
    try:
        print(f"packing {storage.describe(storage_config)} to {days} day(s) ago", flush=True)
        started = time.time()
        db.pack(days=days)
        print(f"packed in {time.time() - started:.1f} s", flush=True)
    finally:
        db.close()
