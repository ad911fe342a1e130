//! Apps, their layers and their secrets. Secret values are read back only by
//! [`Store::app_secrets`], for the agent that runs one of the app's commands; listings carry secret
//! names only.

use std::collections::BTreeMap;

use sqlx::FromRow;

use super::{Store, StoreError};
use crate::time::now_ms;

/// An app as the store returns it (no secret values).
#[derive(Debug, Clone, FromRow)]
pub struct AppRow {
    pub id: i64,
    pub name: String,
    pub app_type: String,
    pub repository: String,
    pub revision: Option<String>,
    pub environment: String,
    pub created_at: i64,
    pub updated_at: i64,
    /// Comma-separated layer shortnames.
    pub layer_names: Option<String>,
    /// Comma-separated names of secret variables.
    pub secret_names: Option<String>,
    /// 1 when a deploy key is set.
    pub has_deploy_key: i64,
    /// The commit the app runs (see `drover_core::deploy::pin`).
    pub pinned_sha: Option<String>,
    /// Why: `deployed` or `rolled_back`.
    pub pinned_reason: Option<String>,
    /// The deployment that pinned it.
    pub pinned_by: Option<i64>,
    /// When.
    pub pinned_at: Option<i64>,
}

impl AppRow {
    fn split(list: &Option<String>) -> Vec<String> {
        list.as_deref().unwrap_or_default().split(',').filter(|s| !s.is_empty()).map(String::from).collect()
    }

    /// Layer shortnames.
    pub fn layers(&self) -> Vec<String> {
        Self::split(&self.layer_names)
    }

    /// Secret variable names.
    pub fn secret_names(&self) -> Vec<String> {
        let mut names = Self::split(&self.secret_names);
        names.sort();
        names
    }

    /// Plain environment variables.
    pub fn environment(&self) -> BTreeMap<String, String> {
        serde_json::from_str(&self.environment).unwrap_or_default()
    }
}

const SELECT_APP: &str = "SELECT a.*, \
     (SELECT string_agg(l.shortname, ',' ORDER BY l.id) FROM app_layers al JOIN layers l ON l.id = al.layer_id WHERE al.app_id = a.id) \
        AS layer_names, \
     (SELECT string_agg(s.name, ',' ORDER BY s.name) FROM app_secrets s WHERE s.app_id = a.id AND s.kind = 'env') AS secret_names, \
     CASE WHEN EXISTS (SELECT 1 FROM app_secrets s WHERE s.app_id = a.id AND s.kind = 'deploy_key') THEN 1 ELSE 0 END \
        AS has_deploy_key \
     FROM apps a";

/// An app's fields as written by create and update.
pub struct AppFields<'a> {
    pub app_type: &'a str,
    pub repository: &'a str,
    pub revision: Option<&'a str>,
    pub environment: &'a BTreeMap<String, String>,
    pub layer_ids: &'a [i64],
}

/// Secret changes.
pub struct SecretChanges<'a> {
    /// `Some(None)` removes the deploy key; `Some(Some(k))` sets it.
    pub deploy_key: Option<Option<&'a str>>,
    pub set_env: &'a BTreeMap<String, String>,
    pub unset_env: &'a [String],
}

impl Store {
    /// Creates an app with its layers and secrets in one transaction.
    pub async fn create_app(
        &self,
        stack_id: i64,
        name: &str,
        fields: &AppFields<'_>,
        secrets: &SecretChanges<'_>,
    ) -> Result<i64, StoreError> {
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO apps (stack_id, name, app_type, repository, revision, environment, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(stack_id)
        .bind(name)
        .bind(fields.app_type)
        .bind(fields.repository)
        .bind(fields.revision)
        .bind(serde_json::to_string(fields.environment).unwrap_or_default())
        .bind(now)
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(StoreError::from_insert)?;
        write_layers(&mut tx, id, fields.layer_ids).await?;
        write_secrets(&mut tx, id, secrets).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Updates an app's fields and secrets in one transaction.
    pub async fn update_app(
        &self,
        id: i64,
        fields: &AppFields<'_>,
        secrets: &SecretChanges<'_>,
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE apps SET repository = $1, revision = $2, environment = $3, updated_at = $4 WHERE id = $5")
            .bind(fields.repository)
            .bind(fields.revision)
            .bind(serde_json::to_string(fields.environment).unwrap_or_default())
            .bind(now_ms())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM app_layers WHERE app_id = $1").bind(id).execute(&mut *tx).await?;
        write_layers(&mut tx, id, fields.layer_ids).await?;
        write_secrets(&mut tx, id, secrets).await?;
        tx.commit().await
    }

    /// A stack's apps by name.
    pub async fn apps(&self, stack_id: i64) -> Result<Vec<AppRow>, sqlx::Error> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT_APP} WHERE a.stack_id = $1 ORDER BY a.name")))
            .bind(stack_id)
            .fetch_all(&self.pool)
            .await
    }

    /// An app by name.
    pub async fn app(&self, stack_id: i64, name: &str) -> Result<Option<AppRow>, sqlx::Error> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT_APP} WHERE a.stack_id = $1 AND a.name = $2")))
            .bind(stack_id)
            .bind(name)
            .fetch_optional(&self.pool)
            .await
    }

    /// An app's secrets as (kind, name, value), for the agent running one of its commands.
    pub async fn app_secrets(&self, app_id: i64) -> Result<Vec<(String, String, String)>, sqlx::Error> {
        sqlx::query_as("SELECT kind, name, value FROM app_secrets WHERE app_id = $1 ORDER BY kind, name")
            .bind(app_id)
            .fetch_all(&self.pool)
            .await
    }

    /// Deletes an app and its secrets.
    pub async fn delete_app(&self, id: i64) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM apps WHERE id = $1").bind(id).execute(self.writer()).await.map(|_| ())
    }
}

async fn write_layers(tx: &mut sqlx::AnyConnection, app_id: i64, layer_ids: &[i64]) -> Result<(), sqlx::Error> {
    for layer_id in layer_ids {
        sqlx::query("INSERT INTO app_layers (app_id, layer_id) VALUES ($1, $2)")
            .bind(app_id)
            .bind(layer_id)
            .execute(&mut *tx)
            .await?;
    }
    Ok(())
}

async fn write_secrets(tx: &mut sqlx::AnyConnection, app_id: i64, s: &SecretChanges<'_>) -> Result<(), sqlx::Error> {
    for name in s.unset_env {
        sqlx::query("DELETE FROM app_secrets WHERE app_id = $1 AND kind = 'env' AND name = $2")
            .bind(app_id)
            .bind(name)
            .execute(&mut *tx)
            .await?;
    }
    for (name, value) in s.set_env {
        upsert_secret(tx, app_id, "env", name, value).await?;
    }
    match s.deploy_key {
        Some(Some(key)) => upsert_secret(tx, app_id, "deploy_key", "deploy_key", key).await?,
        Some(None) => {
            sqlx::query("DELETE FROM app_secrets WHERE app_id = $1 AND kind = 'deploy_key'")
                .bind(app_id)
                .execute(&mut *tx)
                .await?;
        }
        None => {}
    }
    Ok(())
}

async fn upsert_secret(
    tx: &mut sqlx::AnyConnection,
    app_id: i64,
    kind: &str,
    name: &str,
    value: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO app_secrets (app_id, kind, name, value) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (app_id, kind, name) DO UPDATE SET value = excluded.value",
    )
    .bind(app_id)
    .bind(kind)
    .bind(name)
    .bind(value)
    .execute(&mut *tx)
    .await
    .map(|_| ())
}
