-- Command logs with a cap, and commands told apart across database restores.

-- A marker row stands for bytes of the log that are gone (cut to keep the log under its cap, or
-- lost); `data` holds the line readers see in their place, `marker_bytes` how many log bytes it
-- stands for. Text rows have `marker_bytes = 0` and stand for their own data.
ALTER TABLE command_log ADD COLUMN marker_bytes INTEGER NOT NULL DEFAULT 0;

-- Bytes of text (not markers) a command's log holds, kept under the cap.
ALTER TABLE commands ADD COLUMN log_stored INTEGER NOT NULL DEFAULT 0;
UPDATE commands SET log_stored = log_bytes;

-- A random value per command, given when it is first delivered: ids come back after a restore of
-- an older copy of this file, so the agent tells commands apart by id and nonce.
ALTER TABLE commands ADD COLUMN nonce TEXT;
