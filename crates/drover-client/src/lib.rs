//! The typed HTTP client of the Drover API, used by the CLI, the agent and the tests.
//!
//! It speaks HTTPS only and trusts exactly one CA: the one whose SHA-256 fingerprint the token
//! carries ([`tls`]).

mod api;
mod error;
mod http;
pub mod tls;

pub use api::{AgentClient, BinaryDownload, Client};
pub use error::ClientError;
pub use http::server_urls;
