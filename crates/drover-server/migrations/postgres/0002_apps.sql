-- Apps: source, layers, environment. Secret values (secret environment variables, the deploy
-- key) live apart, in app_secrets, and are never returned by the API.

ALTER TABLE apps ADD COLUMN repository TEXT NOT NULL DEFAULT '';
ALTER TABLE apps ADD COLUMN revision TEXT;
ALTER TABLE apps ADD COLUMN environment TEXT NOT NULL DEFAULT '{}';
ALTER TABLE apps ADD COLUMN updated_at BIGINT NOT NULL DEFAULT 0;

CREATE TABLE app_layers (
    app_id   BIGINT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    layer_id BIGINT NOT NULL REFERENCES layers(id),
    PRIMARY KEY (app_id, layer_id)
);

-- kind: 'env' (a secret environment variable, `name` is the variable) or 'deploy_key'.
CREATE TABLE app_secrets (
    app_id BIGINT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    kind   TEXT NOT NULL,
    name   TEXT NOT NULL,
    value  TEXT NOT NULL,
    PRIMARY KEY (app_id, kind, name)
);
