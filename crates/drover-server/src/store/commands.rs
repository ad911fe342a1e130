//! Commands from the agent's side: delivery, acknowledgement and results (output: `command_log`).
//!
//! Every update is conditional on the command's instance and current status, so a retried or
//! duplicated report changes nothing the second time.

use drover_core::CommandStatus;
use drover_core::retention::logs_to_prune;
use drover_proto::agent::ResultReport;

use super::deployments::{SELECT_COMMAND, refresh_in};
use super::{CommandRow, Store};
use crate::time::now_ms;

/// A command that has just finished.
#[derive(Debug, Clone)]
pub struct FinishedCommand {
    pub deployment_id: i64,
    pub instance_id: i64,
    pub kind: String,
    pub success: bool,
}

impl Store {
    /// The oldest pending command of an instance.
    pub async fn next_pending(&self, instance_id: i64) -> Result<Option<CommandRow>, sqlx::Error> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SELECT_COMMAND} WHERE c.instance_id = $1 AND c.status = 'pending' AND c.released = 1 ORDER BY c.id LIMIT 1"
        )))
        .bind(instance_id)
        .fetch_optional(&self.pool)
        .await
    }

    /// An instance's commands in the given statuses, oldest first.
    pub async fn commands_in(
        &self,
        instance_id: i64,
        statuses: &[CommandStatus],
    ) -> Result<Vec<CommandRow>, sqlx::Error> {
        let all: Vec<CommandRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SELECT_COMMAND} WHERE c.instance_id = $1 AND c.status NOT IN ('successful', 'failed', 'skipped', 'superseded') \
             ORDER BY c.id"
        )))
        .bind(instance_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(all.into_iter().filter(|c| c.status.parse().is_ok_and(|s| statuses.contains(&s))).collect())
    }

    /// A command.
    pub async fn command(&self, id: i64) -> Result<Option<CommandRow>, sqlx::Error> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT_COMMAND} WHERE c.id = $1")))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
    }

    /// The app of a command's deployment.
    pub async fn command_app(&self, id: i64) -> Result<Option<i64>, sqlx::Error> {
        let app: Option<Option<i64>> = sqlx::query_scalar(
            "SELECT d.app_id FROM commands c JOIN deployments d ON d.id = c.deployment_id WHERE c.id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(app.flatten())
    }

    /// A command, only if it belongs to this instance.
    pub async fn command_of(&self, id: i64, instance_id: i64) -> Result<Option<CommandRow>, sqlx::Error> {
        Ok(self.command(id).await?.filter(|c| c.instance_id == instance_id))
    }

    /// Whether the instance's agent has taken an `agent_upgrade` command that has not ended (it
    /// may be executing its new binary).
    pub async fn upgrading(&self, instance_id: i64) -> Result<bool, sqlx::Error> {
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT c.id FROM commands c JOIN deployments d ON d.id = c.deployment_id \
             WHERE c.instance_id = $1 AND c.status IN ('acknowledged', 'running') AND d.kind = 'agent_upgrade' LIMIT 1",
        )
        .bind(instance_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(found.is_some())
    }

    /// pending → acknowledged.
    pub async fn ack_command(&self, id: i64, instance_id: i64) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE commands SET status = 'acknowledged', acknowledged_at = $1 \
             WHERE id = $2 AND instance_id = $3 AND status = 'pending'",
        )
        .bind(now_ms())
        .bind(id)
        .bind(instance_id)
        .execute(self.writer())
        .await
        .map(|_| ())
    }

    /// pending/acknowledged → running, with the agent's start time.
    pub async fn start_command(&self, id: i64, instance_id: i64, started_at: i64) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE commands SET status = 'running', started_at = $1, acknowledged_at = COALESCE(acknowledged_at, $2) \
             WHERE id = $3 AND instance_id = $4 AND status IN ('pending', 'acknowledged')",
        )
        .bind(started_at)
        .bind(now_ms())
        .bind(id)
        .bind(instance_id)
        .execute(self.writer())
        .await
        .map(|_| ())
    }

    /// Records a result. Returns the finished command the first time, `None` for a repeat.
    pub async fn finish_command(
        &self,
        id: i64,
        instance_id: i64,
        report: &ResultReport,
    ) -> Result<Option<FinishedCommand>, sqlx::Error> {
        let status = if report.success { "successful" } else { "failed" };
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE commands SET status = $1, exit_code = $2, reason = $3, finished_at = $4, \
             started_at = COALESCE(started_at, $5) \
             WHERE id = $6 AND instance_id = $7 AND status IN ('pending', 'acknowledged', 'running')",
        )
        .bind(status)
        .bind(report.exit_code)
        .bind(&report.reason)
        .bind(report.finished_at_ms)
        .bind(report.finished_at_ms)
        .bind(id)
        .bind(instance_id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(None);
        }
        let finished = finished_in(&mut tx, id, report.success).await?;
        tx.commit().await?;
        Ok(finished)
    }

    /// Marks a command that will never run (its instance stopped) as failed with a reason.
    pub async fn abandon_command(&self, id: i64, reason: &str) -> Result<Option<FinishedCommand>, sqlx::Error> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE commands SET status = 'failed', reason = $1, finished_at = $2 \
             WHERE id = $3 AND status IN ('pending', 'acknowledged', 'running')",
        )
        .bind(reason)
        .bind(now_ms())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(None);
        }
        let finished = finished_in(&mut tx, id, false).await?;
        tx.commit().await?;
        Ok(finished)
    }

    /// Drops the logs of all but the newest `keep` finished commands of an instance.
    pub async fn prune_logs(&self, instance_id: i64, keep: usize) -> Result<usize, sqlx::Error> {
        let finished: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM commands WHERE instance_id = $1 AND log_pruned = 0 \
             AND status IN ('successful', 'failed', 'skipped', 'superseded') ORDER BY id",
        )
        .bind(instance_id)
        .fetch_all(&self.pool)
        .await?;
        let prune = logs_to_prune(&finished, keep);
        for id in prune {
            let mut tx = self.begin_write().await?;
            sqlx::query("DELETE FROM command_log WHERE command_id = $1").bind(id).execute(&mut *tx).await?;
            sqlx::query("UPDATE commands SET log_pruned = 1, log_bytes = 0, log_stored = 0 WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        }
        Ok(prune.len())
    }
}

/// The finished command's follow-up facts; refreshes its deployment's status in the same
/// transaction.
async fn finished_in(
    tx: &mut sqlx::AnyConnection,
    id: i64,
    success: bool,
) -> Result<Option<FinishedCommand>, sqlx::Error> {
    let row: Option<(i64, i64, String)> = sqlx::query_as(
        "SELECT c.deployment_id, c.instance_id, d.kind FROM commands c \
         JOIN deployments d ON d.id = c.deployment_id WHERE c.id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((deployment_id, instance_id, kind)) = row else { return Ok(None) };
    refresh_in(tx, deployment_id).await?;
    Ok(Some(FinishedCommand { deployment_id, instance_id, kind, success }))
}
