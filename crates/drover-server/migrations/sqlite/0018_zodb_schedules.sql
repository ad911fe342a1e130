-- The scheduled ZODB jobs (pack, backup) of each stack: the last scheduled minute (Unix seconds)
-- a run was queued for, or first seen at.
CREATE TABLE zodb_schedules (
    stack_id  INTEGER NOT NULL REFERENCES stacks(id) ON DELETE CASCADE,
    job       TEXT NOT NULL,
    last_slot INTEGER NOT NULL,
    PRIMARY KEY (stack_id, job)
);
