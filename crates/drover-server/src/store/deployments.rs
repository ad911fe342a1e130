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
    /// The user's command, as JSON (`[]` for lifecycle events).
    pub command_json: &'a str,
    /// The command spec every target runs, as JSON.
    pub spec_json: &'a str,
    /// Instance id and, for skipped targets, the reason.
    pub targets: &'a [(i64, Option<String>)],
}

impl Store {
    /// Creates a deployment and its commands in one transaction; returns its id and the ids of the
    /// instances that got a pending command.
    pub async fn create_deployment(&self, new: &NewDeployment<'_>) -> Result<(i64, Vec<i64>), sqlx::Error> {
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        let statuses: Vec<CommandStatus> = new
            .targets
            .iter()
            .map(|(_, skip)| if skip.is_some() { CommandStatus::Skipped } else { CommandStatus::Pending })
            .collect();
        let status = overall_status(&statuses);
        let finished = (status != DeploymentStatus::Running).then_some(now);
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO deployments (stack_id, kind, status, comment, command, created_at, finished_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(new.stack_id)
        .bind(new.kind.as_str())
        .bind(status.as_str())
        .bind(new.comment)
        .bind(new.command_json)
        .bind(now)
        .bind(finished)
        .fetch_one(&mut *tx)
        .await?;
        let mut woken = Vec::new();
        for ((instance_id, skip), status) in new.targets.iter().zip(&statuses) {
            sqlx::query(
                "INSERT INTO commands (deployment_id, instance_id, status, spec, reason, created_at, finished_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(id)
            .bind(instance_id)
            .bind(status.as_str())
            .bind(new.spec_json)
            .bind(skip)
            .bind(now)
            .bind(skip.as_ref().map(|_| now))
            .execute(&mut *tx)
            .await?;
            if skip.is_none() {
                woken.push(*instance_id);
            }
        }
        tx.commit().await?;
        Ok((id, woken))
    }

    /// A deployment.
    pub async fn deployment(&self, id: i64) -> Result<Option<DeploymentRow>, sqlx::Error> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT_DEPLOYMENT} WHERE d.id = ?")))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
    }

    /// A stack's latest deployments, newest first.
    pub async fn deployments(&self, stack_id: i64, limit: i64) -> Result<Vec<DeploymentRow>, sqlx::Error> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SELECT_DEPLOYMENT} WHERE d.stack_id = ? ORDER BY d.id DESC LIMIT ?"
        )))
        .bind(stack_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
    }

    /// A deployment's commands, by instance hostname.
    pub async fn deployment_commands(&self, deployment_id: i64) -> Result<Vec<CommandRow>, sqlx::Error> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT_COMMAND} WHERE c.deployment_id = ? ORDER BY i.hostname")))
            .bind(deployment_id)
            .fetch_all(&self.pool)
            .await
    }

    /// Recomputes a deployment's status from its commands.
    pub async fn refresh_deployment(&self, deployment_id: i64) -> Result<DeploymentStatus, sqlx::Error> {
        let raw: Vec<String> = sqlx::query_scalar("SELECT status FROM commands WHERE deployment_id = ?")
            .bind(deployment_id)
            .fetch_all(&self.pool)
            .await?;
        let statuses: Vec<CommandStatus> = raw.iter().filter_map(|s| s.parse().ok()).collect();
        let status = overall_status(&statuses);
        let finished = (status != DeploymentStatus::Running).then(now_ms);
        sqlx::query("UPDATE deployments SET status = ?, finished_at = COALESCE(finished_at, ?) WHERE id = ?")
            .bind(status.as_str())
            .bind(finished)
            .bind(deployment_id)
            .execute(&self.pool)
            .await?;
        Ok(status)
    }
}
