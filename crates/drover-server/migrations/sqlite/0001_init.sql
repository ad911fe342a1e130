-- Drover's store. Times are Unix milliseconds (UTC). JSON documents are stored as text.

CREATE TABLE stacks (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    custom_json TEXT NOT NULL DEFAULT '{}',
    created_at  INTEGER NOT NULL
);

CREATE TABLE layers (
    id           INTEGER PRIMARY KEY,
    stack_id     INTEGER NOT NULL REFERENCES stacks(id),
    shortname    TEXT NOT NULL,
    layer_type   TEXT NOT NULL,
    custom_json  TEXT NOT NULL DEFAULT '{}',
    auto_healing INTEGER NOT NULL DEFAULT 1,
    created_at   INTEGER NOT NULL,
    UNIQUE (stack_id, shortname)
);

CREATE TABLE instances (
    id                INTEGER PRIMARY KEY,
    stack_id          INTEGER NOT NULL REFERENCES stacks(id),
    hostname          TEXT NOT NULL,
    provider          TEXT NOT NULL,
    scaling_type      TEXT NOT NULL DEFAULT '24/7',
    status            TEXT NOT NULL,
    status_changed_at INTEGER NOT NULL,
    address           TEXT,
    cpu_count         INTEGER,
    cpu_count_override INTEGER,
    memory_bytes      INTEGER,
    agent_version     TEXT,
    agent_pid         INTEGER,
    last_heartbeat    INTEGER,
    cpu_percent       REAL,
    memory_percent    REAL,
    load_1m           REAL,
    credential_hash   TEXT,
    created_at        INTEGER NOT NULL,
    UNIQUE (stack_id, hostname)
);

CREATE TABLE instance_layers (
    instance_id INTEGER NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    layer_id    INTEGER NOT NULL REFERENCES layers(id),
    PRIMARY KEY (instance_id, layer_id)
);

CREATE TABLE apps (
    id         INTEGER PRIMARY KEY,
    stack_id   INTEGER NOT NULL REFERENCES stacks(id),
    name       TEXT NOT NULL,
    app_type   TEXT NOT NULL DEFAULT 'buildout',
    attributes TEXT NOT NULL DEFAULT '{}',
    created_at INTEGER NOT NULL,
    UNIQUE (stack_id, name)
);

CREATE TABLE deployments (
    id          INTEGER PRIMARY KEY,
    stack_id    INTEGER NOT NULL REFERENCES stacks(id),
    kind        TEXT NOT NULL,
    status      TEXT NOT NULL,
    comment     TEXT,
    command     TEXT NOT NULL DEFAULT '[]',
    custom_json TEXT,
    created_at  INTEGER NOT NULL,
    finished_at INTEGER
);

CREATE TABLE commands (
    id              INTEGER PRIMARY KEY,
    deployment_id   INTEGER NOT NULL REFERENCES deployments(id),
    instance_id     INTEGER NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    status          TEXT NOT NULL,
    spec            TEXT NOT NULL,
    exit_code       INTEGER,
    reason          TEXT,
    log_bytes       INTEGER NOT NULL DEFAULT 0,
    log_pruned      INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    acknowledged_at INTEGER,
    started_at      INTEGER,
    finished_at     INTEGER
);
CREATE INDEX commands_by_instance ON commands (instance_id, status);
CREATE INDEX commands_by_deployment ON commands (deployment_id);

-- A command's output, in the chunks the agent sent; `offset` is the byte offset in the log.
CREATE TABLE command_log (
    command_id INTEGER NOT NULL REFERENCES commands(id) ON DELETE CASCADE,
    offset     INTEGER NOT NULL,
    data       TEXT NOT NULL,
    PRIMARY KEY (command_id, offset)
);
