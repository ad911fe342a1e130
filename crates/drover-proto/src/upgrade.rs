//! Agent upgrades: `POST /stacks/{stack}/agent-upgrades` and the binary agents download.

use serde::{Deserialize, Serialize};

/// The response header of `GET /agent/binary` that carries the SHA-256 (hex) the server computed
/// of its binary when it started.
pub const SHA256_HEADER: &str = "x-drover-sha256";

/// `POST /stacks/{stack}/agent-upgrades`: every online agent of the stack (or the named
/// instances') downloads the server's binary, checks its SHA-256, installs it and execs it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAgentUpgrade {
    /// Only these instances (default: every online instance of the stack).
    #[serde(default)]
    pub instances: Vec<String>,
    /// One agent at a time: the next starts once the one before is back on the new binary.
    #[serde(default)]
    pub rolling: bool,
    /// A note for the history.
    #[serde(default)]
    pub comment: Option<String>,
    /// Fail an agent's upgrade after this many seconds (default 600).
    #[serde(default)]
    pub timeout_secs: Option<u64>,
}

/// What the server serves to upgrading agents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ServedBinary {
    /// The SHA-256 (hex) computed when the server started.
    pub sha256: String,
    /// Its size in bytes then.
    pub size: u64,
    /// The version agents report once they run it (`0.1.0+<first 12 hex of the SHA-256>`).
    pub version: String,
}
