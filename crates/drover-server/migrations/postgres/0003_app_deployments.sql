-- App deployments: which app, rolling batches, per-deployment Custom JSON; releases as the
-- agents report them; one lock per app.

ALTER TABLE deployments ADD COLUMN app_id BIGINT REFERENCES apps(id) ON DELETE SET NULL;
ALTER TABLE deployments ADD COLUMN app_name TEXT;
-- Commands of later batches wait (released = 0) until the batch before them succeeded.
ALTER TABLE commands ADD COLUMN batch BIGINT NOT NULL DEFAULT 0;
ALTER TABLE commands ADD COLUMN released BIGINT NOT NULL DEFAULT 1;

CREATE TABLE releases (
    instance_id   BIGINT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    app_id        BIGINT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    sha           TEXT NOT NULL,
    outcome       TEXT NOT NULL,
    build_case    TEXT NOT NULL,
    config_hash   TEXT NOT NULL,
    deploy_cfg    TEXT NOT NULL,
    is_current    BIGINT NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL,
    finished_at   BIGINT,
    PRIMARY KEY (instance_id, app_id, name)
);

-- Held by a running deploy or rollback of the app.
CREATE TABLE app_locks (
    app_id        BIGINT PRIMARY KEY REFERENCES apps(id) ON DELETE CASCADE,
    deployment_id BIGINT NOT NULL,
    acquired_at   BIGINT NOT NULL
);
