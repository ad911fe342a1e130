//! The ZODB jobs' schedule records, and whether a stack runs one.

use super::Store;

impl Store {
    /// The last scheduled minute a job of a stack ran for (or was first seen at).
    pub async fn zodb_last_slot(&self, stack_id: i64, job: &str) -> Result<Option<i64>, sqlx::Error> {
        sqlx::query_scalar("SELECT last_slot FROM zodb_schedules WHERE stack_id = $1 AND job = $2")
            .bind(stack_id)
            .bind(job)
            .fetch_optional(&self.pool)
            .await
    }

    /// Records the scheduled minute a job ran for.
    pub async fn set_zodb_last_slot(&self, stack_id: i64, job: &str, slot: i64) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO zodb_schedules (stack_id, job, last_slot) VALUES ($1, $2, $3) \
             ON CONFLICT (stack_id, job) DO UPDATE SET last_slot = excluded.last_slot",
        )
        .bind(stack_id)
        .bind(job)
        .bind(slot)
        .execute(self.writer())
        .await
        .map(|_| ())
    }

    /// The id of a running ZODB job of the stack (pack, backup, restore), if one runs.
    pub async fn running_zodb_job(&self, stack_id: i64) -> Result<Option<i64>, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT id FROM deployments WHERE stack_id = $1 AND status = 'running' \
             AND kind IN ('zodb_pack', 'zodb_backup', 'zodb_restore') ORDER BY id LIMIT 1",
        )
        .bind(stack_id)
        .fetch_optional(&self.pool)
        .await
    }
}
