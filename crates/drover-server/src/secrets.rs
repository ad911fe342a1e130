//! Secrets: generation, hashing (the store keeps only SHA-256 hashes of tokens) and files written
//! with mode 0600.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use rand::Rng;
use sha2::{Digest, Sha256};

use crate::error::ServerError;

/// A new random secret: 40 characters from [A-Za-z0-9].
pub fn generate() -> String {
    rand::rng().sample_iter(rand::distr::Alphanumeric).take(40).map(char::from).collect()
}

/// Keeps the tokens and credentials of the server's own environment (an operator's exported
/// `DROVER_TOKEN`, say; core `child_env::is_withheld`) from a process it starts.
pub fn withhold_env(command: &mut tokio::process::Command) {
    for (name, _) in std::env::vars_os() {
        if name.to_str().is_some_and(drover_core::child_env::is_withheld) {
            command.env_remove(name);
        }
    }
}

/// An agent's credential: `drv1:agent:<instance-id>:<secret>`.
pub fn agent_credential(instance_id: i64, secret: &str) -> String {
    format!("drv1:agent:{instance_id}:{secret}")
}

/// Hex SHA-256 of a token; what the store keeps.
pub fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Writes `contents` to `path`, readable only by the owner, atomically (a temporary file beside
/// it, synced, then renamed): a reader never sees a half-written token or key.
pub fn write_private(path: &Path, contents: &str) -> Result<(), ServerError> {
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(ServerError::io("create", &tmp))?;
    f.write_all(contents.as_bytes()).map_err(ServerError::io("write", &tmp))?;
    f.sync_all().map_err(ServerError::io("sync", &tmp))?;
    std::fs::rename(&tmp, path).map_err(ServerError::io("rename", path))
}
