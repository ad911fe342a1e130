//! Deploy webhooks: each app's HMAC key, and the signatures already seen.

use super::Store;
use crate::time::now_ms;

impl Store {
    /// Sets (or replaces) the app's webhook key.
    pub async fn set_webhook(&self, app_id: i64, secret: &str) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO app_webhooks (app_id, secret, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (app_id) DO UPDATE SET secret = excluded.secret, created_at = excluded.created_at",
        )
        .bind(app_id)
        .bind(secret)
        .bind(now_ms())
        .execute(self.writer())
        .await
        .map(|_| ())
    }

    /// Removes the app's webhook; false when it had none.
    pub async fn delete_webhook(&self, app_id: i64) -> Result<bool, sqlx::Error> {
        let done =
            sqlx::query("DELETE FROM app_webhooks WHERE app_id = $1").bind(app_id).execute(self.writer()).await?;
        Ok(done.rows_affected() == 1)
    }

    /// The app's webhook key, with the app's stack and name.
    pub async fn webhook(&self, app_id: i64) -> Result<Option<(String, String, String)>, sqlx::Error> {
        sqlx::query_as(
            "SELECT w.secret, s.name, a.name FROM app_webhooks w JOIN apps a ON a.id = w.app_id \
             JOIN stacks s ON s.id = a.stack_id WHERE w.app_id = $1",
        )
        .bind(app_id)
        .fetch_optional(&self.pool)
        .await
    }

    /// Records a delivery's signature; false when it was seen already (a replay). Signatures
    /// older than `keep_ms` are forgotten first.
    pub async fn first_delivery(&self, app_id: i64, signature: &str, keep_ms: i64) -> Result<bool, sqlx::Error> {
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM webhook_deliveries WHERE received_at < $1")
            .bind(now - keep_ms)
            .execute(&mut *tx)
            .await?;
        let done = sqlx::query(
            "INSERT INTO webhook_deliveries (app_id, signature, received_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        )
        .bind(app_id)
        .bind(signature)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }
}
