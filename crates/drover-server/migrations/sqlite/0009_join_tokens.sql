-- Join tokens: each enrolls agents into one stack, optionally only into some layers or as one
-- instance, until it expires, is used up or is revoked. Only the SHA-256 of the secret is kept.
CREATE TABLE join_tokens (
    id           INTEGER PRIMARY KEY,
    secret_hash  TEXT NOT NULL UNIQUE,
    stack_id     INTEGER NOT NULL REFERENCES stacks(id) ON DELETE CASCADE,
    -- JSON array of layer shortnames a new host may register into; [] means any layer.
    layers       TEXT NOT NULL DEFAULT '[]',
    -- The hostname it is made for: the only token that can claim that pre-created instance.
    instance     TEXT,
    comment      TEXT,
    expires_at   INTEGER,
    -- NULL: any number of enrollments.
    uses_left    INTEGER,
    revoked_at   INTEGER,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER
);
CREATE INDEX join_tokens_by_stack ON join_tokens (stack_id);
