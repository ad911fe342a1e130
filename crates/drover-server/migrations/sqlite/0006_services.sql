-- The services an instance's agent supervises, as its latest heartbeat reported them (a JSON
-- array of drover_proto::agent::ServiceReport), and when that was.
ALTER TABLE instances ADD COLUMN services TEXT;
ALTER TABLE instances ADD COLUMN services_at INTEGER;
