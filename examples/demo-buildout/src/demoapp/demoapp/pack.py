"""bin/zodbpack: packs the demo's RelStorage database to `days` ago (0: now), removing the
object revisions older than that and, with pack-gc (RelStorage's default), unreachable objects.
In two stages (two_stage_pack), bin/zodbpack-prepack only works out what to remove and
bin/zodbpack-pack removes it (RelStorage's pack-prepack-only and pack-skip-prepack).
The database and its password are read from deploy.cfg (see storage.py), never printed.
"""
import time

from demoapp import storage

STAGES = {
    "all": {},
    "prepack": {"pack_prepack_only": True},
    "pack": {"pack_skip_prepack": True},
}


def main(storage_config, days, stage="all"):
    db = storage.relstorage_db(storage_config, attempts=3, **STAGES[stage])
    try:
        what = {"all": "packing", "prepack": "pre-packing", "pack": "packing (pre-packed)"}[stage]
        print(f"{what} {storage.describe(storage_config)} to {days} day(s) ago", flush=True)
        started = time.time()
        db.pack(days=days)
        print(f"packed in {time.time() - started:.1f} s", flush=True)
    finally:
        db.close()
