//! ZODB upkeep: packing and backups on a schedule, backups listed and restored (see `jobs`).

pub mod backups;
pub mod cron;
pub mod downtime;
pub mod jobs;
