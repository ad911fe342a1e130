//! The commit each app is pinned to, and the restart slots of running deployments.

use drover_core::deploy::pin::PinReason;
use drover_core::deploy::restart_plan::may_grant;

use super::Store;
use crate::time::now_ms;

impl Store {
    /// Pins an app to `sha`, unless a later deployment pinned it already (the follow-up of a
    /// finished deployment may run again after a restart: it never moves the pin back).
    pub async fn set_pin(
        &self,
        app_id: i64,
        sha: &str,
        reason: PinReason,
        deployment_id: i64,
    ) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(
            "UPDATE apps SET pinned_sha = $1, pinned_reason = $2, pinned_by = $3, pinned_at = $4 \
             WHERE id = $5 AND (pinned_by IS NULL OR pinned_by <= $6)",
        )
        .bind(sha)
        .bind(reason.as_str())
        .bind(deployment_id)
        .bind(now_ms())
        .bind(app_id)
        .bind(deployment_id)
        .execute(self.writer())
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// The commits the instances whose commands of a deployment succeeded now run for the app.
    pub async fn current_commits(&self, deployment_id: i64, app_id: i64) -> Result<Vec<String>, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT r.sha FROM releases r JOIN commands c ON c.instance_id = r.instance_id \
             WHERE c.deployment_id = $1 AND c.status = 'successful' AND r.app_id = $2 AND r.is_current = 1 \
             ORDER BY c.id",
        )
        .bind(deployment_id)
        .bind(app_id)
        .fetch_all(&self.pool)
        .await
    }

    /// Takes one of a deployment's restart slots for a command's service, if fewer than
    /// `max_unavailable` are held (holding one already counts as granted). `Err` lists the
    /// holders (`instance/service`) when it is not granted.
    pub async fn take_restart_slot(
        &self,
        command_id: i64,
        service: &str,
    ) -> Result<Result<(), Vec<String>>, sqlx::Error> {
        let mut tx = self.begin_write().await?;
        let (deployment_id, max_unavailable): (i64, i64) = sqlx::query_as(
            "SELECT d.id, d.max_unavailable FROM commands c JOIN deployments d ON d.id = c.deployment_id WHERE c.id = $1",
        )
        .bind(command_id)
        .fetch_one(&mut *tx)
        .await?;
        let holders: Vec<(i64, String, String)> = sqlx::query_as(
            "SELECT s.command_id, s.service, i.hostname FROM restart_slots s JOIN commands c ON c.id = s.command_id \
             JOIN instances i ON i.id = c.instance_id WHERE s.deployment_id = $1 ORDER BY s.acquired_at",
        )
        .bind(deployment_id)
        .fetch_all(&mut *tx)
        .await?;
        if holders.iter().any(|(c, s, _)| *c == command_id && s == service) {
            return Ok(Ok(()));
        }
        if !may_grant(holders.len(), max_unavailable.clamp(1, 1000) as u32) {
            return Ok(Err(holders.into_iter().map(|(_, s, h)| format!("{h}/{s}")).collect()));
        }
        sqlx::query(
            "INSERT INTO restart_slots (deployment_id, command_id, service, acquired_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(deployment_id)
        .bind(command_id)
        .bind(service)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Ok(()))
    }

    /// Gives a restart slot back.
    pub async fn release_restart_slot(&self, command_id: i64, service: &str) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM restart_slots WHERE command_id = $1 AND service = $2")
            .bind(command_id)
            .bind(service)
            .execute(self.writer())
            .await
            .map(|_| ())
    }

    /// Gives back every slot an instance's commands of a deployment hold (the command ended).
    pub async fn release_restart_slots(&self, deployment_id: i64, instance_id: i64) -> Result<(), sqlx::Error> {
        sqlx::query(
            "DELETE FROM restart_slots WHERE deployment_id = $1 AND command_id IN \
             (SELECT id FROM commands WHERE deployment_id = $2 AND instance_id = $3)",
        )
        .bind(deployment_id)
        .bind(deployment_id)
        .bind(instance_id)
        .execute(self.writer())
        .await
        .map(|_| ())
    }
}
