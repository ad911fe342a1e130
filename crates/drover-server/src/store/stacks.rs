//! Stacks and layers' parent.

use super::{StackRow, Store, StoreError};
use crate::time::now_ms;

impl Store {
    /// Creates a stack.
    pub async fn create_stack(&self, name: &str, custom_json: &str) -> Result<StackRow, StoreError> {
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let row: StackRow =
            sqlx::query_as("INSERT INTO stacks (name, custom_json, created_at) VALUES ($1, $2, $3) RETURNING *")
                .bind(name)
                .bind(custom_json)
                .bind(now)
                .fetch_one(&mut *tx)
                .await
                .map_err(StoreError::from_insert)?;
        super::config::insert_version(&mut tx, row.id, super::STACK_SCOPE, custom_json, Some("created"), now).await?;
        tx.commit().await?;
        Ok(row)
    }

    /// All stacks by name.
    pub async fn stacks(&self) -> Result<Vec<StackRow>, sqlx::Error> {
        sqlx::query_as("SELECT * FROM stacks ORDER BY name").fetch_all(&self.pool).await
    }

    /// A stack by name.
    pub async fn stack(&self, name: &str) -> Result<Option<StackRow>, sqlx::Error> {
        sqlx::query_as("SELECT * FROM stacks WHERE name = $1").bind(name).fetch_optional(&self.pool).await
    }

    /// A stack by id.
    pub async fn stack_by_id(&self, id: i64) -> Result<Option<StackRow>, sqlx::Error> {
        sqlx::query_as("SELECT * FROM stacks WHERE id = $1").bind(id).fetch_optional(&self.pool).await
    }

    /// Deletes a stack that has no instances, with its layers and history.
    pub async fn delete_stack(&self, id: i64) -> Result<(), sqlx::Error> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM command_log WHERE command_id IN (SELECT c.id FROM commands c JOIN deployments d ON d.id = c.deployment_id WHERE d.stack_id = $1)")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM commands WHERE deployment_id IN (SELECT id FROM deployments WHERE stack_id = $1)")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM deployments WHERE stack_id = $1").bind(id).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM config_versions WHERE stack_id = $1").bind(id).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM stack_secrets WHERE stack_id = $1").bind(id).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM apps WHERE stack_id = $1").bind(id).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM layers WHERE stack_id = $1").bind(id).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM stacks WHERE id = $1").bind(id).execute(&mut *tx).await?;
        tx.commit().await
    }
}
