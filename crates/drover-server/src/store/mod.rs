//! The store: every query the server makes, behind one type, on SQLite (the default) or
//! PostgreSQL through sqlx's `Any` driver. One SQL text serves both: `$N` placeholders, nothing
//! either lacks (`string_agg`, not `GROUP_CONCAT`; flags as 0/1 integers; `"offset"` quoted).

mod apps;
mod audit;
mod command_log;
mod commands;
mod config;
mod deployments;
mod events;
mod gate;
mod held_configure;
mod instances;
mod join_tokens;
mod layer_provider;
mod layers;
mod load_scaling;
mod migrate;
mod nonces;
mod people;
mod pins;
mod releases;
mod rows;
mod servers;
mod stacks;
#[cfg(test)]
pub(crate) mod test_backends;
mod webhooks;
mod zodb;

use std::path::Path;
use std::time::Duration;

use sqlx::AnyPool;
use sqlx::any::AnyPoolOptions;
use sqlx::{Any, Executor};

pub use apps::{AppFields, AppRow, SecretChanges};
pub use audit::{AuditFilter, AuditRow};
pub use command_log::{AppendOutcome, LogPage};
pub use commands::FinishedCommand;
pub use deployments::{NewDeployment, PlannedCommand};
pub use events::NewEvent;
pub use gate::{DEPLOY_GATE, ZODB_GATE};
pub use instances::{NewHostname, NewInstance};
pub use join_tokens::{JoinTokenRow, JoinUse, NewJoinToken};
pub use layer_provider::LayerProviderRow;
pub use load_scaling::{LoadScaling, LoadScalingRow};
pub use migrate::{TableCopy, sqlite_to_postgres as migrate_sqlite_to_postgres};
pub use people::{NewUserToken, UserRow, UserTokenRow};
pub use servers::ServerRow;

pub use config::{STACK_SCOPE, layer_scope};
pub use rows::{CommandRow, ConfigVersionRow, DeploymentRow, InstanceRow, LayerRow, StackRow};

use crate::error::ServerError;

/// A refused write that changed nothing.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique name is taken.
    #[error("already exists")]
    Duplicate,
    /// The join token was revoked, expired or used up meanwhile.
    #[error("the join token was revoked, expired or used up meanwhile")]
    JoinTokenSpent,
    /// The database failed.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

impl StoreError {
    pub(crate) fn from_insert(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::Database(d) if d.is_unique_violation() => Self::Duplicate,
            _ => Self::Db(e),
        }
    }
}

/// Which database holds the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// One SQLite file in the data dir (the default).
    Sqlite,
    /// A PostgreSQL database, which several servers may share.
    Postgres,
}

/// The server's state.
#[derive(Clone)]
pub struct Store {
    /// Reads (and, on PostgreSQL, writes).
    pool: AnyPool,
    /// Writes: on SQLite one connection of its own, so writers queue here in arrival order rather
    /// than race for SQLite's write lock and sleep in its busy handler (1, 2, 5 ... 100 ms) while
    /// holding connections that reads then wait for; on PostgreSQL the same pool as reads.
    writes: AnyPool,
    backend: Backend,
}

/// The advisory lock key every writing transaction takes on PostgreSQL, so that writes are one at
/// a time as on SQLite (`BEGIN IMMEDIATE`). ("drover" in ASCII.)
const WRITE_LOCK_KEY: i64 = 0x6472_6f76_6572;

impl Store {
    /// Opens (creating) the SQLite store at `path` in WAL mode and applies migrations.
    pub async fn open(path: &Path) -> Result<Self, ServerError> {
        sqlx::any::install_default_drivers();
        let url = format!("sqlite://{}?mode=rwc", url_path(path));
        let pool = sqlite_pool(8).connect(&url).await?;
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        let writes = sqlite_pool(1).connect(&url).await?;
        Ok(Self { pool, writes, backend: Backend::Sqlite })
    }

    /// Connects to the PostgreSQL store at `url` (`postgres://user@host/db`; the password comes
    /// from a passfile, never the URL) and applies migrations.
    pub async fn connect_postgres(url: &str) -> Result<Self, ServerError> {
        sqlx::any::install_default_drivers();
        let pool =
            AnyPoolOptions::new().max_connections(16).acquire_timeout(Duration::from_secs(30)).connect(url).await?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        Ok(Self { writes: pool.clone(), pool, backend: Backend::Postgres })
    }

    /// Whether several servers may share this store (PostgreSQL).
    pub fn is_shared(&self) -> bool {
        self.backend == Backend::Postgres
    }

    /// Where writes go: a statement that changes the store runs on this pool, never on `pool`.
    fn writer(&self) -> &AnyPool {
        &self.writes
    }

    /// Begins a transaction that holds the store's write lock from its start, waiting for it: on
    /// SQLite `BEGIN IMMEDIATE`, on PostgreSQL a transaction-scoped advisory lock. A transaction
    /// that reads first and writes later then never works from reads another writer made stale.
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, Any>, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => self.writes.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => {
                let mut tx = self.pool.begin().await?;
                sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(WRITE_LOCK_KEY).execute(&mut *tx).await?;
                Ok(tx)
            }
        }
    }
}

/// A pool of `size` SQLite connections in WAL mode. The busy timeout still guards against another
/// process (`sqlite3` on the file, a backup tool) holding the write lock.
fn sqlite_pool(size: u32) -> AnyPoolOptions {
    AnyPoolOptions::new().max_connections(size).after_connect(|conn, _| {
        Box::pin(async move {
            conn.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON")
                .await
                .map(|_| ())
        })
    })
}

/// `path` as the path of a URL: bytes other than unreserved ones and `/` percent-encoded (SQLite's
/// URL parser decodes them), so a data dir with a space, `?` or `#` in it still opens.
fn url_path(path: &Path) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    for &b in path.as_os_str().as_encoded_bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A data dir whose path a URL would misread (a space, `#`, `?`, `%`) still opens, and in it.
    #[tokio::test]
    async fn a_data_dir_with_url_characters_in_its_path_opens() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("drover data #1?%20");
        std::fs::create_dir_all(&data).unwrap();
        let store = Store::open(&data.join("drover.db")).await.unwrap();
        store.create_stack("demo", "{}").await.unwrap();
        assert!(data.join("drover.db").is_file());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "a file was made outside the data dir");
    }

    /// Writers waiting for the write lock never hold the connections reads need: with a write
    /// transaction open and more writers than the pool has connections queued behind it, a read
    /// still answers at once. (They used to wait in SQLite's busy handler, each holding one of
    /// the pool's connections, and the read waited for the transaction.)
    #[tokio::test]
    async fn reads_answer_while_writers_queue_behind_a_write_transaction() {
        for t in test_backends::stores().await {
            let store = &t.store;
            let stack = store.create_stack("queued", "{}").await.unwrap();
            let instance = test_backends::online_instance(store, stack.id, "web1").await;
            let held = store.begin_write().await.unwrap();
            let writers: Vec<_> = (0..24)
                .map(|_| {
                    let store = store.clone();
                    tokio::spawn(async move { store.clear_services(instance).await })
                })
                .collect();
            // Let the writers reach the lock.
            tokio::time::sleep(Duration::from_millis(300)).await;
            let read = tokio::time::timeout(Duration::from_secs(8), store.stacks()).await;
            assert!(read.is_ok_and(|r| r.is_ok()), "{}: a read waited behind the queued writers", t.backend);
            held.commit().await.unwrap();
            for writer in writers {
                writer.await.unwrap().unwrap_or_else(|e| panic!("{}: a queued write failed: {e}", t.backend));
            }
        }
    }
}
