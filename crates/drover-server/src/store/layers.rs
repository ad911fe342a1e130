//! Layers.

use super::{LayerRow, Store, StoreError};
use crate::time::now_ms;

impl Store {
    /// Creates a layer.
    pub async fn create_layer(
        &self,
        stack_id: i64,
        shortname: &str,
        layer_type: &str,
        custom_json: &str,
        auto_healing: bool,
        hooks: &str,
    ) -> Result<LayerRow, StoreError> {
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let row: LayerRow = sqlx::query_as(
            "INSERT INTO layers (stack_id, shortname, layer_type, custom_json, auto_healing, hooks, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id, shortname, layer_type, custom_json, auto_healing, hooks",
        )
        .bind(stack_id)
        .bind(shortname)
        .bind(layer_type)
        .bind(custom_json)
        .bind(i64::from(auto_healing))
        .bind(hooks)
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(StoreError::from_insert)?;
        super::config::insert_version(
            &mut tx,
            stack_id,
            &super::layer_scope(shortname),
            custom_json,
            Some("created"),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(row)
    }

    /// Sets a layer's hooks and auto-healing.
    pub async fn update_layer(&self, layer_id: i64, hooks: &str, auto_healing: bool) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE layers SET hooks = $1, auto_healing = $2 WHERE id = $3")
            .bind(hooks)
            .bind(i64::from(auto_healing))
            .bind(layer_id)
            .execute(self.writer())
            .await
            .map(|_| ())
    }

    /// A stack's layers, in creation order.
    pub async fn layers(&self, stack_id: i64) -> Result<Vec<LayerRow>, sqlx::Error> {
        sqlx::query_as(
            "SELECT id, shortname, layer_type, custom_json, auto_healing, hooks FROM layers WHERE stack_id = $1 ORDER BY id",
        )
        .bind(stack_id)
        .fetch_all(&self.pool)
        .await
    }

    /// How many instances and apps use a layer.
    pub async fn layer_usage(&self, layer_id: i64) -> Result<(i64, i64), sqlx::Error> {
        sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM instance_layers WHERE layer_id = $1), \
                    (SELECT COUNT(*) FROM app_layers WHERE layer_id = $2)",
        )
        .bind(layer_id)
        .bind(layer_id)
        .fetch_one(&self.pool)
        .await
    }

    /// Deletes a layer.
    pub async fn delete_layer(&self, layer_id: i64) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM layers WHERE id = $1").bind(layer_id).execute(self.writer()).await.map(|_| ())
    }
}
