-- A held Configure (a burst of membership changes settling) counts the triggers it stands for:
-- its commands are made when it is released, from the stack as it is then, and a trigger that
-- came while they were being made sends the release round again.
ALTER TABLE deployments ADD COLUMN held_triggers BIGINT NOT NULL DEFAULT 0;

-- A stack's running deployments of a kind, without reading its whole history.
CREATE INDEX deployments_by_stack ON deployments (stack_id, kind, status);
