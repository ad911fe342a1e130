//! Error policy: `ServerError` is what start-up and the background loops meet ("failed to ..."
//! with the cause chained); request handlers answer with [`crate::api::Failure`] instead, the
//! one JSON error shape of the API.

use std::path::PathBuf;

/// A failure to start or run the server.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// A file or directory in the data dir.
    #[error("failed to {action} {path}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The store.
    #[error("failed to use the store")]
    Store(#[from] sqlx::Error),
    /// Applying migrations.
    #[error("failed to migrate the store")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Certificates.
    #[error("failed to create or load certificates: {0}")]
    Pki(String),
    /// The listener.
    #[error("failed to listen on {addr}")]
    Listen {
        /// The address.
        addr: std::net::SocketAddr,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Anything else worth stopping for.
    #[error("{0}")]
    Other(String),
}

impl ServerError {
    /// An I/O error on `path`.
    pub fn io(action: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io { action, path, source }
    }
}
