-- App deployments: which app, rolling batches, per-deployment Custom JSON; releases as the
-- agents report them; one lock per app.

ALTER TABLE deployments ADD COLUMN app_id INTEGER REFERENCES apps(id) ON DELETE SET NULL;
ALTER TABLE deployments ADD COLUMN app_name TEXT;
-- Commands of later batches wait (released = 0) until the batch before them succeeded.
ALTER TABLE commands ADD COLUMN batch INTEGER NOT NULL DEFAULT 0;
ALTER TABLE commands ADD COLUMN released INTEGER NOT NULL DEFAULT 1;

CREATE TABLE releases (
    instance_id   INTEGER NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    app_id        INTEGER NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    sha           TEXT NOT NULL,
    outcome       TEXT NOT NULL,
    build_case    TEXT NOT NULL,
    config_hash   TEXT NOT NULL,
    deploy_cfg    TEXT NOT NULL,
    is_current    INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    finished_at   INTEGER,
    PRIMARY KEY (instance_id, app_id, name)
);

-- Held by a running deploy or rollback of the app.
CREATE TABLE app_locks (
    app_id        INTEGER PRIMARY KEY REFERENCES apps(id) ON DELETE CASCADE,
    deployment_id INTEGER NOT NULL,
    acquired_at   INTEGER NOT NULL
);
