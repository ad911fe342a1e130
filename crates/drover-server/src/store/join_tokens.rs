//! Join tokens: created, listed, revoked, and used up by enrollments in the same transaction as
//! the enrollment itself.

use sqlx::FromRow;

use super::{Store, StoreError};
use crate::time::now_ms;

const SELECT_TOKEN: &str = "SELECT t.*, s.name AS stack_name FROM join_tokens t JOIN stacks s ON s.id = t.stack_id";

/// A join token, with its stack's name.
#[derive(Debug, Clone, FromRow)]
pub struct JoinTokenRow {
    pub id: i64,
    pub stack_name: String,
    /// JSON array of layer shortnames; empty: any layer.
    pub layers: String,
    pub instance: Option<String>,
    pub comment: Option<String>,
    pub expires_at: Option<i64>,
    pub uses_left: Option<i64>,
    pub revoked_at: Option<i64>,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

impl JoinTokenRow {
    /// The layers a new host may register into (empty: any).
    pub fn layers(&self) -> Vec<String> {
        serde_json::from_str(&self.layers).unwrap_or_default()
    }

    /// What the token allows, for the core decision.
    pub fn grant<'a>(&'a self, layers: &'a [String]) -> drover_core::join::Grant<'a> {
        drover_core::join::Grant {
            stack: &self.stack_name,
            layers,
            instance: self.instance.as_deref(),
            expires_at_ms: self.expires_at,
            uses_left: self.uses_left,
            revoked: self.revoked_at.is_some(),
        }
    }
}

/// A new join token.
pub struct NewJoinToken<'a> {
    pub secret_hash: &'a str,
    pub stack_id: i64,
    pub layers: &'a [String],
    pub instance: Option<&'a str>,
    pub comment: Option<&'a str>,
    pub expires_at: Option<i64>,
    pub uses: Option<u32>,
}

/// One use of a join token: the enrollment it pays for gives the instance's agent the
/// credential made of this secret (`secrets::agent_credential`); only its hash is stored.
#[derive(Debug, Clone, Copy)]
pub struct JoinUse<'a> {
    pub token_id: i64,
    pub agent_secret: &'a str,
}

impl JoinUse<'_> {
    /// The hash of the credential this use gives instance `instance_id`.
    pub fn credential_hash(&self, instance_id: i64) -> String {
        crate::secrets::hash(&crate::secrets::agent_credential(instance_id, self.agent_secret))
    }
}

/// Takes one use of a token inside `tx`, if it is still usable now (not revoked, expired or used
/// up: checked again here, so two enrollments cannot both take its last use).
pub(super) async fn consume(tx: &mut sqlx::Transaction<'static, sqlx::Any>, token_id: i64) -> Result<(), StoreError> {
    let now = now_ms();
    let done = sqlx::query(
        "UPDATE join_tokens SET uses_left = uses_left - 1, last_used_at = $1 WHERE id = $2 AND revoked_at IS NULL \
         AND (expires_at IS NULL OR expires_at > $3) AND (uses_left IS NULL OR uses_left > 0)",
    )
    .bind(now)
    .bind(token_id)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    if done.rows_affected() == 1 { Ok(()) } else { Err(StoreError::JoinTokenSpent) }
}

impl Store {
    /// Creates a join token.
    pub async fn create_join_token(&self, new: &NewJoinToken<'_>) -> Result<JoinTokenRow, StoreError> {
        let layers = serde_json::to_string(new.layers).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
        let mut tx = self.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO join_tokens (secret_hash, stack_id, layers, instance, comment, expires_at, uses_left, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(new.secret_hash)
        .bind(new.stack_id)
        .bind(layers)
        .bind(new.instance)
        .bind(new.comment)
        .bind(new.expires_at)
        .bind(new.uses.map(i64::from))
        .bind(now_ms())
        .fetch_one(&mut *tx)
        .await
        .map_err(StoreError::from_insert)?;
        let row = sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT_TOKEN} WHERE t.id = $1")))
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(row)
    }

    /// The join token whose secret hashes to `secret_hash`.
    pub async fn join_token_by_hash(&self, secret_hash: &str) -> Result<Option<JoinTokenRow>, sqlx::Error> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT_TOKEN} WHERE t.secret_hash = $1")))
            .bind(secret_hash)
            .fetch_optional(&self.pool)
            .await
    }

    /// A join token by id.
    pub async fn join_token(&self, id: i64) -> Result<Option<JoinTokenRow>, sqlx::Error> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT_TOKEN} WHERE t.id = $1")))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
    }

    /// Join tokens, newest first: of one stack, or of all.
    pub async fn join_tokens(&self, stack_id: Option<i64>) -> Result<Vec<JoinTokenRow>, sqlx::Error> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SELECT_TOKEN} WHERE $1 IS NULL OR t.stack_id = $2 ORDER BY t.id DESC"
        )))
        .bind(stack_id)
        .bind(stack_id)
        .fetch_all(&self.pool)
        .await
    }

    /// Revokes a join token (kept, for the list); revoking it again changes nothing.
    pub async fn revoke_join_token(&self, id: i64) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE join_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now_ms())
            .bind(id)
            .execute(self.writer())
            .await
            .map(|_| ())
    }

    /// An agent claims an instance made before it enrolled: one use of the token and the
    /// credential, in one transaction (neither happens without the other). `Ok(false)`: the
    /// instance already has a credential.
    pub async fn claim_instance(&self, instance_id: i64, join: JoinUse<'_>) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        consume(&mut tx, join.token_id).await?;
        let done = sqlx::query("UPDATE instances SET credential_hash = $1 WHERE id = $2 AND credential_hash IS NULL")
            .bind(join.credential_hash(instance_id))
            .bind(instance_id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        tx.commit().await?;
        Ok(true)
    }
}
