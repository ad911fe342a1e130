-- Scaling types per instance, as in OpsWorks: 24/7 (started and stopped by hand), time (by its
-- weekly UTC schedule) or load (by its layer's thresholds).

ALTER TABLE instances ADD COLUMN scaling TEXT NOT NULL DEFAULT '24/7';
-- For time-based instances: the weekly schedule, as OpsWorks' TimeBasedAutoScaling grid (JSON).
ALTER TABLE instances ADD COLUMN schedule TEXT;
