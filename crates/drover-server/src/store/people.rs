//! Users, their per-stack levels and personal tokens.

use sqlx::FromRow;

use super::{Store, StoreError};
use crate::time::now_ms;

/// A user.
#[derive(Debug, Clone, FromRow)]
pub struct UserRow {
    pub id: i64,
    pub name: String,
    #[sqlx(try_from = "super::rows::IntFlag")]
    pub admin: bool,
    pub created_at: i64,
}

/// A user's level on one stack.
#[derive(Debug, Clone, FromRow)]
pub struct GrantRow {
    pub stack: String,
    pub level: String,
}

/// A personal token (never its secret).
#[derive(Debug, Clone, FromRow)]
pub struct UserTokenRow {
    pub id: i64,
    pub user_id: i64,
    pub user: String,
    pub stack_id: Option<i64>,
    pub stack: Option<String>,
    pub level: Option<String>,
    pub comment: Option<String>,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub last_used_at: Option<i64>,
}

/// A new personal token.
pub struct NewUserToken<'a> {
    pub user_id: i64,
    pub secret_hash: &'a str,
    pub stack_id: Option<i64>,
    pub level: Option<&'a str>,
    pub comment: Option<&'a str>,
    pub expires_at: Option<i64>,
}

/// A `SELECT` of personal tokens with their user's and stack's names, then `$tail`.
macro_rules! select_tokens {
    ($tail:literal) => {
        concat!(
            "SELECT t.id, t.user_id, u.name AS user, t.stack_id, s.name AS stack, t.level, t.comment, \
             t.created_at, t.expires_at, t.revoked_at, t.last_used_at \
             FROM user_tokens t JOIN users u ON u.id = t.user_id LEFT JOIN stacks s ON s.id = t.stack_id ",
            $tail
        )
    };
}

impl Store {
    /// Creates a user.
    pub async fn create_user(&self, name: &str, admin: bool) -> Result<UserRow, StoreError> {
        sqlx::query_as("INSERT INTO users (name, admin, created_at) VALUES ($1, $2, $3) RETURNING *")
            .bind(name)
            .bind(i64::from(admin))
            .bind(now_ms())
            .fetch_one(self.writer())
            .await
            .map_err(StoreError::from_insert)
    }

    /// Every user by name.
    pub async fn users(&self) -> Result<Vec<UserRow>, sqlx::Error> {
        sqlx::query_as("SELECT * FROM users ORDER BY name").fetch_all(&self.pool).await
    }

    /// A user by name.
    pub async fn user(&self, name: &str) -> Result<Option<UserRow>, sqlx::Error> {
        sqlx::query_as("SELECT * FROM users WHERE name = $1").bind(name).fetch_optional(&self.pool).await
    }

    /// Sets (or, with none, removes) a user's password hash.
    pub async fn set_password_hash(&self, user_id: i64, hash: Option<&str>) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(hash)
            .bind(user_id)
            .execute(self.writer())
            .await
            .map(|_| ())
    }

    /// A user by name, with their password hash when they have one.
    pub async fn user_with_password(&self, name: &str) -> Result<Option<(UserRow, Option<String>)>, sqlx::Error> {
        let user = self.user(name).await?;
        let Some(user) = user else { return Ok(None) };
        let hash: Option<String> = sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
            .bind(user.id)
            .fetch_one(&self.pool)
            .await?;
        Ok(Some((user, hash)))
    }

    /// Deletes a user with their grants and tokens.
    pub async fn delete_user(&self, id: i64) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM users WHERE id = $1").bind(id).execute(self.writer()).await.map(|_| ())
    }

    /// Sets a user's level on a stack.
    pub async fn grant(&self, user_id: i64, stack_id: i64, level: &str) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO user_grants (user_id, stack_id, level) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id, stack_id) DO UPDATE SET level = excluded.level",
        )
        .bind(user_id)
        .bind(stack_id)
        .bind(level)
        .execute(self.writer())
        .await
        .map(|_| ())
    }

    /// A user's levels, by stack name.
    pub async fn grants(&self, user_id: i64) -> Result<Vec<GrantRow>, sqlx::Error> {
        sqlx::query_as(
            "SELECT s.name AS stack, g.level FROM user_grants g JOIN stacks s ON s.id = g.stack_id \
             WHERE g.user_id = $1 ORDER BY s.name",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await
    }

    /// A user's level on one stack, if granted.
    pub async fn granted_level(&self, user_id: i64, stack_id: i64) -> Result<Option<String>, sqlx::Error> {
        sqlx::query_scalar("SELECT level FROM user_grants WHERE user_id = $1 AND stack_id = $2")
            .bind(user_id)
            .bind(stack_id)
            .fetch_optional(&self.pool)
            .await
    }

    /// Stores a personal token.
    pub async fn create_user_token(&self, new: &NewUserToken<'_>) -> Result<i64, StoreError> {
        sqlx::query_scalar(
            "INSERT INTO user_tokens (user_id, secret_hash, stack_id, level, comment, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(new.user_id)
        .bind(new.secret_hash)
        .bind(new.stack_id)
        .bind(new.level)
        .bind(new.comment)
        .bind(now_ms())
        .bind(new.expires_at)
        .fetch_one(self.writer())
        .await
        .map_err(StoreError::from_insert)
    }

    /// The live (not revoked, not expired) token with this secret hash, and its user; marks it
    /// used.
    pub async fn live_user_token(&self, secret_hash: &str) -> Result<Option<(UserTokenRow, UserRow)>, sqlx::Error> {
        let now = now_ms();
        let token: Option<UserTokenRow> = sqlx::query_as(select_tokens!(
            "WHERE t.secret_hash = $1 AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > $2)"
        ))
        .bind(secret_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        let Some(token) = token else { return Ok(None) };
        let user: UserRow =
            sqlx::query_as("SELECT * FROM users WHERE id = $1").bind(token.user_id).fetch_one(&self.pool).await?;
        // At most one write a minute per token: `last used` is a hint, not a log.
        sqlx::query("UPDATE user_tokens SET last_used_at = $1 WHERE id = $2 AND COALESCE(last_used_at, 0) < $3")
            .bind(now)
            .bind(token.id)
            .bind(now - 60_000)
            .execute(self.writer())
            .await?;
        Ok(Some((token, user)))
    }

    /// Personal tokens, all or one user's, newest first.
    pub async fn user_tokens(&self, user_id: Option<i64>) -> Result<Vec<UserTokenRow>, sqlx::Error> {
        sqlx::query_as(select_tokens!("WHERE ($1 IS NULL OR t.user_id = $2) ORDER BY t.id DESC"))
            .bind(user_id)
            .bind(user_id)
            .fetch_all(&self.pool)
            .await
    }

    /// A personal token by id.
    pub async fn user_token(&self, id: i64) -> Result<Option<UserTokenRow>, sqlx::Error> {
        sqlx::query_as(select_tokens!("WHERE t.id = $1")).bind(id).fetch_optional(&self.pool).await
    }

    /// Revokes a token; false when it was revoked already.
    pub async fn revoke_user_token(&self, id: i64) -> Result<bool, sqlx::Error> {
        let done = sqlx::query("UPDATE user_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now_ms())
            .bind(id)
            .execute(self.writer())
            .await?;
        Ok(done.rows_affected() == 1)
    }
}
