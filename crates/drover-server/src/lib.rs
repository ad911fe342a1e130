//! The Drover server: the HTTP API, the store, the orchestrator loops and the providers.
//!
//! It owns all state and never connects to agents: agents call it (long-poll for commands,
//! heartbeats, reports). See `ARCHITECTURE.md` at the repository root.

mod api;
mod cancels;
mod cluster;
mod config;
mod console;
mod error;
mod frontend_tls;
mod hmac;
mod metrics_history;
mod orchestrator;
mod passwords;
mod pki;
mod presence;
mod provider;
mod relay;
mod run;
mod secrets;
mod serve;
mod served_binary;
mod state;
mod store;
mod time;

pub use config::{ConnectionLimits, DEFAULT_COMMAND_LOG_MAX_BYTES, ServerConfig};
pub use error::ServerError;
pub use run::run;
pub use serve::default_max_connections;
pub use store::TableCopy;
pub use store::migrate_sqlite_to_postgres;
