//! Versioned Custom JSON: every change to a stack's or a layer's document is a new version, so it
//! can be listed, compared and reverted.

use sqlx::{Any, Transaction};

use super::{ConfigVersionRow, Store};
use crate::time::now_ms;

/// The scope of the stack's own Custom JSON.
pub const STACK_SCOPE: &str = "stack";

/// The scope of a layer's Custom JSON.
pub fn layer_scope(shortname: &str) -> String {
    format!("layer:{shortname}")
}

pub(super) async fn insert_version(
    tx: &mut Transaction<'_, Any>,
    stack_id: i64,
    scope: &str,
    custom_json: &str,
    comment: Option<&str>,
    at: i64,
) -> Result<i64, sqlx::Error> {
    let (version,): (i64,) = sqlx::query_as(
        "INSERT INTO config_versions (stack_id, scope, version, custom_json, comment, created_at) \
         VALUES ($1, $2, (SELECT COALESCE(MAX(version), 0) + 1 FROM config_versions WHERE stack_id = $3 AND scope = $4), $5, $6, $7) \
         RETURNING version",
    )
    .bind(stack_id)
    .bind(scope)
    .bind(stack_id)
    .bind(scope)
    .bind(custom_json)
    .bind(comment)
    .bind(at)
    .fetch_one(&mut **tx)
    .await?;
    Ok(version)
}

impl Store {
    /// Replaces the Custom JSON of the stack (`layer_id` none) or of a layer, recording a new
    /// version; returns its number.
    pub async fn set_custom_json(
        &self,
        stack_id: i64,
        layer: Option<(i64, &str)>,
        custom_json: &str,
        comment: Option<&str>,
    ) -> Result<i64, sqlx::Error> {
        let mut tx = self.begin_write().await?;
        let scope = match layer {
            Some((layer_id, shortname)) => {
                sqlx::query("UPDATE layers SET custom_json = $1 WHERE id = $2")
                    .bind(custom_json)
                    .bind(layer_id)
                    .execute(&mut *tx)
                    .await?;
                layer_scope(shortname)
            }
            None => {
                sqlx::query("UPDATE stacks SET custom_json = $1 WHERE id = $2")
                    .bind(custom_json)
                    .bind(stack_id)
                    .execute(&mut *tx)
                    .await?;
                STACK_SCOPE.to_owned()
            }
        };
        let version = insert_version(&mut tx, stack_id, &scope, custom_json, comment, now_ms()).await?;
        tx.commit().await?;
        Ok(version)
    }

    /// The versions of one scope, newest first.
    pub async fn config_history(&self, stack_id: i64, scope: &str) -> Result<Vec<ConfigVersionRow>, sqlx::Error> {
        sqlx::query_as(
            "SELECT scope, version, custom_json, comment, created_at FROM config_versions \
             WHERE stack_id = $1 AND scope = $2 ORDER BY version DESC",
        )
        .bind(stack_id)
        .bind(scope)
        .fetch_all(&self.pool)
        .await
    }

    /// One version.
    pub async fn config_version(
        &self,
        stack_id: i64,
        scope: &str,
        version: i64,
    ) -> Result<Option<ConfigVersionRow>, sqlx::Error> {
        sqlx::query_as(
            "SELECT scope, version, custom_json, comment, created_at FROM config_versions \
             WHERE stack_id = $1 AND scope = $2 AND version = $3",
        )
        .bind(stack_id)
        .bind(scope)
        .bind(version)
        .fetch_optional(&self.pool)
        .await
    }
}

impl Store {
    /// A generated secret of the stack, made (with `make`) the first time it is asked for.
    pub async fn stack_secret(
        &self,
        stack_id: i64,
        name: &str,
        make: impl FnOnce() -> String,
    ) -> Result<String, sqlx::Error> {
        sqlx::query(
            "INSERT INTO stack_secrets (stack_id, name, value, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        )
        .bind(stack_id)
        .bind(name)
        .bind(make())
        .bind(now_ms())
        .execute(self.writer())
        .await?;
        sqlx::query_scalar("SELECT value FROM stack_secrets WHERE stack_id = $1 AND name = $2")
            .bind(stack_id)
            .bind(name)
            .fetch_one(&self.pool)
            .await
    }
}
