-- The servers of the control plane: each updates its row every few seconds; the leader is the
-- one holding the leader lock (PostgreSQL) or the only one (SQLite).
CREATE TABLE servers (
    id          TEXT PRIMARY KEY,
    url         TEXT NOT NULL,
    pid         INTEGER NOT NULL,
    started_at  INTEGER NOT NULL,
    seen_at     INTEGER NOT NULL,
    leader      INTEGER NOT NULL DEFAULT 0,
    agents      INTEGER NOT NULL DEFAULT 0,
    cpu_percent REAL NOT NULL DEFAULT 0,
    rss_bytes   INTEGER NOT NULL DEFAULT 0
);

-- What every server on one database shares: the CA certificate and key, the admin token's hash.
-- (On SQLite these stay files in the data dir, and this table is empty.)
CREATE TABLE control_plane_keys (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
