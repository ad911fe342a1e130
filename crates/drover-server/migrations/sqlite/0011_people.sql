-- People and permissions: users, their per-stack levels, their personal API tokens, and the
-- audit trail of every change and refusal.

CREATE TABLE users (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    -- Manages every stack, and users.
    admin      INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);

-- A user's level on a stack; no row is `deny`.
CREATE TABLE user_grants (
    user_id  INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    stack_id INTEGER NOT NULL REFERENCES stacks(id) ON DELETE CASCADE,
    level    TEXT NOT NULL CHECK (level IN ('deny', 'show', 'deploy', 'manage')),
    PRIMARY KEY (user_id, stack_id)
);

-- Personal API tokens: only the SHA-256 of the secret is kept. A token reaches at most its
-- user's levels, cut down to its stack and level when it has them.
CREATE TABLE user_tokens (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    secret_hash  TEXT NOT NULL UNIQUE,
    stack_id     INTEGER REFERENCES stacks(id) ON DELETE CASCADE,
    level        TEXT CHECK (level IN ('show', 'deploy', 'manage')),
    comment      TEXT,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER,
    revoked_at   INTEGER,
    last_used_at INTEGER
);
CREATE INDEX user_tokens_user ON user_tokens (user_id);

-- Who did what, when, from where, and how it ended; refusals included.
CREATE TABLE audit (
    id      INTEGER PRIMARY KEY,
    at      INTEGER NOT NULL,
    actor   TEXT NOT NULL,
    peer    TEXT,
    stack   TEXT,
    action  TEXT NOT NULL,
    status  INTEGER NOT NULL,
    outcome TEXT NOT NULL
);
CREATE INDEX audit_at ON audit (at);
CREATE INDEX audit_stack ON audit (stack, at);
CREATE INDEX audit_actor ON audit (actor, at);
