-- Load-based scaling per layer: the rule (JSON: `enabled` and core's LoadRule), and when the
-- layer last started or stopped instances by it (Unix ms), for its ignore_metrics time.

ALTER TABLE layers ADD COLUMN load_scaling TEXT;
ALTER TABLE layers ADD COLUMN load_scaling_acted_at BIGINT;
