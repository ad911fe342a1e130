//! Command nonces: a random value per command, given when it is first delivered, so that an
//! agent can tell a new command from an old one with the same id (ids come back after the
//! database is restored from an older copy).

use super::Store;

impl Store {
    /// The command's nonce, given now if it has none yet.
    pub async fn command_nonce(&self, id: i64) -> Result<Option<String>, sqlx::Error> {
        let fresh = hex::encode(rand::random::<[u8; 16]>());
        sqlx::query("UPDATE commands SET nonce = $1 WHERE id = $2 AND nonce IS NULL")
            .bind(&fresh)
            .bind(id)
            .execute(self.writer())
            .await?;
        self.stored_nonce(id).await
    }

    /// The command's nonce, if it was ever delivered.
    pub async fn stored_nonce(&self, id: i64) -> Result<Option<String>, sqlx::Error> {
        let nonce: Option<Option<String>> =
            sqlx::query_scalar("SELECT nonce FROM commands WHERE id = $1").bind(id).fetch_optional(&self.pool).await?;
        Ok(nonce.flatten())
    }
}
