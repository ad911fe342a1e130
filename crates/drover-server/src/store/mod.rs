//! The store: every query the server makes, behind one type, so that moving to PostgreSQL later
//! touches only this module. SQL is kept portable (no SQLite-only syntax beyond `INSERT ... RETURNING`,
//! which PostgreSQL shares).

mod apps;
mod audit;
mod command_log;
mod commands;
mod config;
mod deployments;
mod events;
mod instances;
mod join_tokens;
mod layer_provider;
mod layers;
mod load_scaling;
mod nonces;
mod people;
mod pins;
mod releases;
mod rows;
mod stacks;
mod webhooks;
mod zodb;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};

pub use apps::{AppFields, AppRow, SecretChanges};
pub use audit::{AuditFilter, AuditRow};
pub use command_log::{AppendOutcome, LogPage};
pub use commands::FinishedCommand;
pub use deployments::{NewDeployment, PlannedCommand};
pub use events::NewEvent;
pub use instances::NewInstance;
pub use join_tokens::{JoinTokenRow, JoinUse, NewJoinToken};
pub use layer_provider::LayerProviderRow;
pub use load_scaling::{LoadScaling, LoadScalingRow};
pub use people::{NewUserToken, UserRow, UserTokenRow};

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

/// The server's state.
#[derive(Clone)]
pub struct Store {
    pool: SqlitePool,
}

impl Store {
    /// Opens (creating) the SQLite store at `path` in WAL mode and applies migrations.
    pub async fn open(path: &Path) -> Result<Self, ServerError> {
        let url = format!("sqlite://{}", path.display());
        let opts = SqliteConnectOptions::from_str(&url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new().max_connections(8).connect_with(opts).await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(Self { pool })
    }

    /// Begins a transaction that takes SQLite's write lock at once (`BEGIN IMMEDIATE`), waiting
    /// up to the busy timeout for it. A deferred transaction that reads first and writes later
    /// fails with "database is locked" when another connection wrote in between; this cannot.
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
        self.pool.begin_with("BEGIN IMMEDIATE").await
    }
}
