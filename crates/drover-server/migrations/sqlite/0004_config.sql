-- Versioned Custom JSON (stack and layers) and layer hooks.

CREATE TABLE config_versions (
    id          INTEGER PRIMARY KEY,
    stack_id    INTEGER NOT NULL REFERENCES stacks(id),
    scope       TEXT NOT NULL,          -- 'stack' or 'layer:<shortname>'
    version     INTEGER NOT NULL,       -- 1, 2, ... per (stack, scope)
    custom_json TEXT NOT NULL,
    comment     TEXT,
    created_at  INTEGER NOT NULL,
    UNIQUE (stack_id, scope, version)
);

INSERT INTO config_versions (stack_id, scope, version, custom_json, comment, created_at)
    SELECT id, 'stack', 1, custom_json, 'initial', created_at FROM stacks;
INSERT INTO config_versions (stack_id, scope, version, custom_json, comment, created_at)
    SELECT stack_id, 'layer:' || shortname, 1, custom_json, 'initial', created_at FROM layers;

ALTER TABLE layers ADD COLUMN hooks TEXT NOT NULL DEFAULT '{}';

-- Secrets drover generates for a stack (the HAProxy stats password when none is given).
CREATE TABLE stack_secrets (
    stack_id   INTEGER NOT NULL REFERENCES stacks(id),
    name       TEXT NOT NULL,
    value      TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (stack_id, name)
);
