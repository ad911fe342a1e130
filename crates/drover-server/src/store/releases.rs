//! Releases as agents report them, and the per-app deploy lock.

use drover_proto::agent::ReleaseRecord;

use super::Store;
use crate::time::now_ms;

/// A release row, with its instance's hostname.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReleaseRow {
    pub hostname: String,
    pub name: String,
    pub sha: String,
    pub outcome: String,
    pub build_case: String,
    pub config_hash: String,
    pub deploy_cfg: String,
    #[sqlx(try_from = "super::rows::IntFlag")]
    pub is_current: bool,
    pub created_at: i64,
    pub finished_at: Option<i64>,
}

/// The release `current` points at, for one app on one instance.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CurrentRelease {
    pub hostname: String,
    pub app: String,
    pub name: String,
    pub sha: String,
}

/// Who holds an app's lock.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LockHolder {
    pub deployment_id: i64,
    pub acquired_at: i64,
    pub status: String,
}

impl Store {
    /// Replaces what the server knows of an instance's releases of an app.
    pub async fn record_releases(
        &self,
        instance_id: i64,
        app_id: i64,
        current: Option<&str>,
        releases: &[ReleaseRecord],
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM releases WHERE instance_id = $1 AND app_id = $2")
            .bind(instance_id)
            .bind(app_id)
            .execute(&mut *tx)
            .await?;
        for r in releases {
            let outcome =
                serde_json::to_value(r.outcome).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default();
            sqlx::query(
                "INSERT INTO releases (instance_id, app_id, name, sha, outcome, build_case, config_hash, deploy_cfg, \
                 is_current, created_at, finished_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(instance_id)
            .bind(app_id)
            .bind(&r.name)
            .bind(&r.sha)
            .bind(outcome)
            .bind(&r.case)
            .bind(&r.config_hash)
            .bind(&r.deploy_cfg)
            .bind(i64::from(current == Some(r.name.as_str())))
            .bind(r.created_at_ms)
            .bind(r.finished_at_ms)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await
    }

    /// An app's releases on every instance, by instance then name.
    pub async fn releases(&self, app_id: i64) -> Result<Vec<ReleaseRow>, sqlx::Error> {
        sqlx::query_as(
            "SELECT i.hostname, r.name, r.sha, r.outcome, r.build_case, r.config_hash, r.deploy_cfg, r.is_current, \
             r.created_at, r.finished_at FROM releases r JOIN instances i ON i.id = r.instance_id \
             WHERE r.app_id = $1 ORDER BY i.hostname, r.name",
        )
        .bind(app_id)
        .fetch_all(&self.pool)
        .await
    }

    /// What every instance of a stack runs: each app's current release, by instance then app.
    pub async fn current_releases(&self, stack_id: i64) -> Result<Vec<CurrentRelease>, sqlx::Error> {
        sqlx::query_as(
            "SELECT i.hostname, a.name AS app, r.name, r.sha FROM releases r \
             JOIN instances i ON i.id = r.instance_id JOIN apps a ON a.id = r.app_id \
             WHERE i.stack_id = $1 AND r.is_current = 1 ORDER BY i.hostname, a.name",
        )
        .bind(stack_id)
        .fetch_all(&self.pool)
        .await
    }

    /// The holder of an app's lock, if any.
    pub async fn lock_holder(&self, app_id: i64) -> Result<Option<LockHolder>, sqlx::Error> {
        sqlx::query_as(
            "SELECT l.deployment_id, l.acquired_at, COALESCE(d.status, 'failed') AS status FROM app_locks l \
             LEFT JOIN deployments d ON d.id = l.deployment_id WHERE l.app_id = $1",
        )
        .bind(app_id)
        .fetch_optional(&self.pool)
        .await
    }

    /// Takes an app's lock for a deployment (replacing a stale holder).
    pub async fn take_lock(&self, app_id: i64, deployment_id: i64) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO app_locks (app_id, deployment_id, acquired_at) VALUES ($1, $2, $3) \
             ON CONFLICT (app_id) DO UPDATE SET deployment_id = excluded.deployment_id, acquired_at = excluded.acquired_at",
        )
        .bind(app_id)
        .bind(deployment_id)
        .bind(now_ms())
        .execute(self.writer())
        .await
        .map(|_| ())
    }

    /// Releases the locks a deployment holds.
    pub async fn release_locks(&self, deployment_id: i64) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM app_locks WHERE deployment_id = $1")
            .bind(deployment_id)
            .execute(self.writer())
            .await
            .map(|_| ())
    }
}
