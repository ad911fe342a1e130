-- One commit per deployment, and the commit each app runs.

-- What a deploy asked for and the one commit every instance of it builds.
ALTER TABLE deployments ADD COLUMN revision TEXT;
ALTER TABLE deployments ADD COLUMN commit_sha TEXT;
-- Serving clients down at once across the deployment (plone_instances.max_unavailable).
ALTER TABLE deployments ADD COLUMN max_unavailable INTEGER NOT NULL DEFAULT 1;

-- The commit the app runs: Setup, Configure and new instances build it, never the branch head.
ALTER TABLE apps ADD COLUMN pinned_sha TEXT;
ALTER TABLE apps ADD COLUMN pinned_reason TEXT;
ALTER TABLE apps ADD COLUMN pinned_by INTEGER;
ALTER TABLE apps ADD COLUMN pinned_at INTEGER;

-- Restart slots held by serving clients while they restart (at most max_unavailable per
-- deployment); a command's slots go when it finishes.
CREATE TABLE restart_slots (
    deployment_id INTEGER NOT NULL REFERENCES deployments(id) ON DELETE CASCADE,
    command_id    INTEGER NOT NULL REFERENCES commands(id) ON DELETE CASCADE,
    service       TEXT NOT NULL,
    acquired_at   INTEGER NOT NULL,
    PRIMARY KEY (command_id, service)
);
CREATE INDEX restart_slots_deployment ON restart_slots (deployment_id);
