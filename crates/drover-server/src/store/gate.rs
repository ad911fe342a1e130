//! Gates: a check followed by a create that must not interleave with the same check and create on
//! another server of the control plane (two deploys of one app; a ZODB job while one runs). On
//! PostgreSQL a gate is a session advisory lock on a pooled connection of its own, held until
//! [`Gate::open`]; a gate dropped without it closes its connection, which frees the lock too. On
//! SQLite there is one server, and its in-process mutexes already serialise these.

use sqlx::Any;
use sqlx::pool::PoolConnection;

use super::{Backend, Store};

/// The gate of app deployments: the app lock's check and take.
pub const DEPLOY_GATE: i64 = 0x6472_6f76_6467;
/// The gate of ZODB jobs: the check for a running job and the queueing of a new one.
pub const ZODB_GATE: i64 = 0x6472_6f76_7a67;

/// A closed gate (nothing on SQLite).
pub struct Gate {
    conn: Option<PoolConnection<Any>>,
}

impl Store {
    /// Waits for the gate `key` and closes it behind the caller.
    pub async fn gate(&self, key: i64) -> Result<Gate, sqlx::Error> {
        if self.backend == Backend::Sqlite {
            return Ok(Gate { conn: None });
        }
        let mut conn = self.pool.acquire().await?;
        sqlx::query("SELECT pg_advisory_lock($1)").bind(key).execute(&mut *conn).await?;
        Ok(Gate { conn: Some(conn) })
    }
}

impl Gate {
    /// Opens the gate for the next one.
    pub async fn open(mut self, key: i64) {
        if let Some(mut conn) = self.conn.take()
            && let Err(e) = sqlx::query("SELECT pg_advisory_unlock($1)").bind(key).execute(&mut *conn).await
        {
            tracing::warn!("failed to open a store gate ({e}); closing its connection frees it");
            drop(conn.detach());
        }
    }
}

impl Drop for Gate {
    fn drop(&mut self) {
        // Left without `open` (an error on the way): the connection goes, and its lock with it,
        // rather than back to the pool still holding it.
        if let Some(conn) = self.conn.take() {
            drop(conn.detach());
        }
    }
}
