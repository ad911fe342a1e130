"""Schemathesis hooks for scripts/schemathesis.sh (loaded through SCHEMATHESIS_HOOKS).

- `refusal_leaves_store_unchanged`: a check that every refused request (4xx) left the server's
  store as it was. Before each call the store (`$DROVER_DB`, opened read-only) is snapshotted;
  after a 4xx it is compared. The `audit` table is left out: it records refusals by design (401,
  403 and every request that changes something); so are sqlx's `_sqlx_migrations`, `servers` (each
  server's own row, refreshed every 2 s whatever the requests) and `user_tokens.last_used_at` (a
  personal token records its use, to the minute, whatever the answer).
- Operations that would start a local agent (creating or starting an instance) get a stack name
  that can never exist (`Not-A-Stack`, not a valid name), so the run starts no process; their
  bodies are still checked.
- Long-polls wait at most a second (`wait` in the query), so they do not eat the time budget.
- Path parameters that name things are sometimes (by a hash of the drawn value, so runs with one
  seed repeat) replaced with the seeded stack `demo`, its layer `web`, its app `site` and the user
  `alice`, so that handlers get past "not found" and their validation is exercised too.
"""

import hashlib
import os
import sqlite3

import schemathesis

DB = os.environ["DROVER_DB"]
LEFT_OUT = {"audit", "_sqlx_migrations", "servers"}
# Columns a refused request may change: a personal token records its use (to the minute) whatever
# the answer.
COLUMNS_LEFT_OUT = {"user_tokens": {"last_used_at"}}
NO_SPAWN = {"create_instance", "start_instance"}
SEEDED = {"stack": "demo", "layer": "web", "app": "site", "name": "alice"}
# Operations that would remove what the seeding made; they keep the drawn names.
KEEP_DRAWN = {"delete_stack", "delete_layer", "delete_app", "delete_user"}

_before = {}
_verdicts = {}


def snapshot():
    conn = sqlite3.connect(f"file:{DB}?mode=ro", uri=True, timeout=10)
    try:
        tables = [
            name
            for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            if name not in LEFT_OUT
        ]
        state = {}
        for table in tables:
            digest = hashlib.sha256()
            count = 0
            skip = COLUMNS_LEFT_OUT.get(table, set())
            columns = [c[1] for c in conn.execute(f'PRAGMA table_info("{table}")') if c[1] not in skip]
            listed = ", ".join(f'"{c}"' for c in columns)
            order = ", ".join(str(i + 1) for i in range(len(columns)))
            for row in conn.execute(f'SELECT {listed} FROM "{table}" ORDER BY {order}'):
                digest.update(repr(row).encode())
                count += 1
            state[table] = (count, digest.hexdigest())
        return state
    finally:
        conn.close()


def _operation_id(ctx):
    operation = getattr(ctx, "operation", None)
    definition = getattr(operation, "definition", None)
    raw = getattr(definition, "raw", None) or {}
    return raw.get("operationId", "")


@schemathesis.hook
def map_path_parameters(ctx, path_parameters):
    if not path_parameters:
        return path_parameters
    op = _operation_id(ctx)
    if op in NO_SPAWN:
        path_parameters["stack"] = "Not-A-Stack"
        return path_parameters
    if op in KEEP_DRAWN:
        return path_parameters
    for key, seeded in SEEDED.items():
        value = path_parameters.get(key)
        if isinstance(value, str) and hashlib.sha256(value.encode()).digest()[0] % 2 == 0:
            path_parameters[key] = seeded
    return path_parameters


@schemathesis.hook
def map_query(ctx, query):
    # Long-polls (`wait` on events and logs) would spend the run's time budget waiting.
    if query and isinstance(query.get("wait"), int) and query["wait"] > 1:
        query["wait"] = 1
    return query


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    _before["state"] = snapshot()


@schemathesis.hook
def after_call(ctx, case, response):
    before = _before.pop("state", None)
    if before is None or not 400 <= response.status_code < 500:
        return
    after = snapshot()
    changed = sorted(t for t in set(before) | set(after) if before.get(t) != after.get(t))
    if changed:
        _verdicts[id(response)] = (response, changed)


@schemathesis.check
def refusal_leaves_store_unchanged(ctx, response, case):
    found = _verdicts.pop(id(response), None)
    if found is not None:
        raise AssertionError(
            f"a {response.status_code} refusal changed the store: tables {', '.join(found[1])}"
        )
