-- What the server decided on its own, with its reason: an instance lost (and why), healed, given
-- up on; later scaling decisions. Read with `drover events`.

CREATE TABLE events (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    stack_id INTEGER NOT NULL REFERENCES stacks(id) ON DELETE CASCADE,
    at       INTEGER NOT NULL,
    -- lost, healing, healed, healing_gave_up, ...
    kind     TEXT NOT NULL,
    instance TEXT,
    layer    TEXT,
    message  TEXT NOT NULL
);

CREATE INDEX events_by_stack ON events (stack_id, id);
