//! Deployments and their commands, created together.

use drover_core::deployment::overall_status;
use drover_core::{CommandStatus, DeploymentKind, DeploymentStatus};

use super::{CommandRow, DeploymentRow, Store};
use crate::time::now_ms;

const SELECT_DEPLOYMENT: &str =
    "SELECT d.*, s.name AS stack_name FROM deployments d JOIN stacks s ON s.id = d.stack_id";
pub(super) const SELECT_COMMAND: &str =
    "SELECT c.*, i.hostname AS hostname FROM commands c JOIN instances i ON i.id = c.instance_id";

/// A deployment to create, with one command per target.
pub struct NewDeployment<'a> {
    pub stack_id: i64,
    pub kind: DeploymentKind,
    pub comment: Option<&'a str>,
    /// The user's command, as JSON (`[]` otherwise).
    pub command_json: &'a str,
    /// The app, for app deployments: (id, name).
    pub app: Option<(i64, &'a str)>,
    /// One command per target.
    pub targets: &'a [PlannedCommand],
    /// Deploys: the revision asked for and the commit it resolved to.
    pub revision: Option<&'a str>,
    pub commit: Option<&'a str>,
    /// Serving clients down at once across the deployment.
    pub max_unavailable: u32,
}

/// One instance's command in a new deployment.
#[derive(Clone)]
pub struct PlannedCommand {
    pub instance_id: i64,
    /// What the agent runs, as JSON.
    pub spec_json: String,
    /// Why it is skipped, if it is.
    pub skip: Option<String>,
    /// Its batch: batch 0 is sent at once, later ones after the one before succeeded.
    pub batch: u32,
    /// Held back until released by someone else (a Configure waiting for a burst to settle).
    pub held: bool,
}

impl Store {
    /// Creates a deployment and its commands in one transaction; returns its id and the ids of the
    /// instances that got a pending command.
    pub async fn create_deployment(&self, new: &NewDeployment<'_>) -> Result<(i64, Vec<i64>), sqlx::Error> {
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let statuses: Vec<CommandStatus> = new
            .targets
            .iter()
            .map(|t| if t.skip.is_some() { CommandStatus::Skipped } else { CommandStatus::Pending })
            .collect();
        let status = overall_status(&statuses);
        let finished = (status != DeploymentStatus::Running).then_some(now);
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO deployments (stack_id, kind, status, comment, command, app_id, app_name, created_at, finished_at, \
             revision, commit_sha, max_unavailable) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
        )
        .bind(new.stack_id)
        .bind(new.kind.as_str())
        .bind(status.as_str())
        .bind(new.comment)
        .bind(new.command_json)
        .bind(new.app.map(|(id, _)| id))
        .bind(new.app.map(|(_, name)| name))
        .bind(now)
        .bind(finished)
        .bind(new.revision)
        .bind(new.commit)
        .bind(i64::from(new.max_unavailable.max(1)))
        .fetch_one(&mut *tx)
        .await?;
        let mut woken = Vec::new();
        for (t, status) in new.targets.iter().zip(&statuses) {
            let released = t.batch == 0 && !t.held;
            sqlx::query(
                "INSERT INTO commands (deployment_id, instance_id, status, spec, reason, batch, released, created_at, \
                 finished_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(id)
            .bind(t.instance_id)
            .bind(status.as_str())
            .bind(&t.spec_json)
            .bind(&t.skip)
            .bind(i64::from(t.batch))
            .bind(i64::from(released))
            .bind(now)
            .bind(t.skip.as_ref().map(|_| now))
            .execute(&mut *tx)
            .await?;
            if t.skip.is_none() && released {
                woken.push(t.instance_id);
            }
        }
        tx.commit().await?;
        Ok((id, woken))
    }

    /// A deployment.
    pub async fn deployment(&self, id: i64) -> Result<Option<DeploymentRow>, sqlx::Error> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT_DEPLOYMENT} WHERE d.id = $1")))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
    }

    /// A stack's latest deployments, newest first.
    pub async fn deployments(&self, stack_id: i64, limit: i64) -> Result<Vec<DeploymentRow>, sqlx::Error> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SELECT_DEPLOYMENT} WHERE d.stack_id = $1 ORDER BY d.id DESC LIMIT $2"
        )))
        .bind(stack_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
    }

    /// A deployment's commands, by instance hostname.
    pub async fn deployment_commands(&self, deployment_id: i64) -> Result<Vec<CommandRow>, sqlx::Error> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT_COMMAND} WHERE c.deployment_id = $1 ORDER BY i.hostname")))
            .bind(deployment_id)
            .fetch_all(&self.pool)
            .await
    }

    /// Releases the next batch of a rolling deployment when every released command has
    /// succeeded; skips the rest when one failed. Returns the instances to wake.
    pub async fn advance_batches(&self, deployment_id: i64) -> Result<Vec<i64>, sqlx::Error> {
        let rows: Vec<(String, i64, i64, i64)> =
            sqlx::query_as("SELECT status, released, batch, instance_id FROM commands WHERE deployment_id = $1")
                .bind(deployment_id)
                .fetch_all(&self.pool)
                .await?;
        let parsed: Vec<(CommandStatus, bool, i64, i64)> =
            rows.into_iter().filter_map(|(s, r, b, i)| Some((s.parse().ok()?, r != 0, b, i))).collect();
        let Some(next) = parsed.iter().filter(|c| !c.1).map(|c| c.2).min() else { return Ok(Vec::new()) };
        if parsed.iter().any(|c| c.1 && !c.0.is_finished()) {
            return Ok(Vec::new()); // the current batch is still running
        }
        let now = now_ms();
        if parsed.iter().any(|c| c.1 && c.0 == CommandStatus::Failed) {
            sqlx::query(
                "UPDATE commands SET status = 'skipped', released = 1, finished_at = $1, \
                 reason = 'not run: an earlier batch of this deployment failed' WHERE deployment_id = $2 AND released = 0",
            )
            .bind(now)
            .bind(deployment_id)
            .execute(self.writer())
            .await?;
            return Ok(Vec::new());
        }
        sqlx::query("UPDATE commands SET released = 1, created_at = $1 WHERE deployment_id = $2 AND batch = $3")
            .bind(now)
            .bind(deployment_id)
            .bind(next)
            .execute(self.writer())
            .await?;
        Ok(parsed.iter().filter(|c| c.2 == next).map(|c| c.3).collect())
    }

    /// The ids of every running deployment, oldest first.
    pub async fn running_deployments(&self) -> Result<Vec<i64>, sqlx::Error> {
        sqlx::query_scalar("SELECT id FROM deployments WHERE status = 'running' ORDER BY id")
            .fetch_all(&self.pool)
            .await
    }

    /// Frees the app locks of deployments that are no longer running (their follow-up was lost).
    pub async fn release_finished_locks(&self) -> Result<u64, sqlx::Error> {
        let done = sqlx::query(
            "DELETE FROM app_locks WHERE deployment_id NOT IN (SELECT id FROM deployments WHERE status = 'running')",
        )
        .execute(self.writer())
        .await?;
        Ok(done.rows_affected())
    }

    /// An instance's newest command of a deployment kind created at or after `since` (Unix ms).
    pub async fn latest_command_of_kind(
        &self,
        instance_id: i64,
        kind: DeploymentKind,
        since: i64,
    ) -> Result<Option<CommandRow>, sqlx::Error> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SELECT_COMMAND} JOIN deployments d ON d.id = c.deployment_id \
             WHERE c.instance_id = $1 AND d.kind = $2 AND c.created_at >= $3 ORDER BY c.id DESC LIMIT 1"
        )))
        .bind(instance_id)
        .bind(kind.as_str())
        .bind(since)
        .fetch_optional(&self.pool)
        .await
    }

    /// Recomputes a deployment's status from its commands, in a write transaction: the commands
    /// are read under the write lock, so a result committed meanwhile is never overwritten by a
    /// status computed before it (which left a finished deployment `running`).
    pub async fn refresh_deployment(&self, deployment_id: i64) -> Result<DeploymentStatus, sqlx::Error> {
        let mut tx = self.begin_write().await?;
        let status = refresh_in(&mut tx, deployment_id).await?;
        tx.commit().await?;
        Ok(status)
    }
}

/// Recomputes a deployment's status from its commands, in a write transaction (so a command's
/// result and its deployment's status change together). The end time is kept once set and
/// cleared while the deployment runs, so a deployment never shows an end time and `running`.
pub(super) async fn refresh_in(
    conn: &mut sqlx::AnyConnection,
    deployment_id: i64,
) -> Result<DeploymentStatus, sqlx::Error> {
    let raw: Vec<String> = sqlx::query_scalar("SELECT status FROM commands WHERE deployment_id = $1")
        .bind(deployment_id)
        .fetch_all(&mut *conn)
        .await?;
    let statuses: Vec<CommandStatus> = raw.iter().filter_map(|s| s.parse().ok()).collect();
    let status = overall_status(&statuses);
    let finished = (status != DeploymentStatus::Running).then(now_ms);
    sqlx::query(
        "UPDATE deployments SET status = $1, \
         finished_at = CASE WHEN $2 IS NULL THEN NULL ELSE COALESCE(finished_at, $2) END WHERE id = $3",
    )
    .bind(status.as_str())
    .bind(finished)
    .bind(deployment_id)
    .execute(&mut *conn)
    .await?;
    Ok(status)
}

#[cfg(test)]
mod refresh_tests;
