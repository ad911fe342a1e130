-- The servers of the control plane: each updates its row every few seconds; the leader is the
-- one holding the leader lock (PostgreSQL) or the only one (SQLite).
CREATE TABLE servers (
    id          TEXT PRIMARY KEY,
    url         TEXT NOT NULL,
    pid         BIGINT NOT NULL,
    started_at  BIGINT NOT NULL,
    seen_at     BIGINT NOT NULL,
    leader      BIGINT NOT NULL DEFAULT 0,
    agents      BIGINT NOT NULL DEFAULT 0,
    cpu_percent DOUBLE PRECISION NOT NULL DEFAULT 0,
    rss_bytes   BIGINT NOT NULL DEFAULT 0
);

-- What every server on one database shares: the CA certificate and key, the admin token's hash.
-- (On SQLite these stay files in the data dir, and this table is empty.)
CREATE TABLE control_plane_keys (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
