-- Deploy webhooks: one per app, signed with HMAC-SHA256 (GitHub's X-Hub-Signature-256).

CREATE TABLE app_webhooks (
    app_id     INTEGER PRIMARY KEY REFERENCES apps(id) ON DELETE CASCADE,
    -- The HMAC key itself (a signature cannot be checked against a hash of it); the store is 0600.
    secret     TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

-- Signatures seen, so a delivery sent again is refused; pruned once older than the freshness
-- window (a delivery older than that is refused as stale anyway).
CREATE TABLE webhook_deliveries (
    app_id      INTEGER NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    signature   TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (app_id, signature)
);
