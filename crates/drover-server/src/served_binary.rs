//! The binary agents upgrade to (`drover agent upgrade`): the server's own executable or the
//! file of `--agent-binary`. Its SHA-256 is computed once, when the server starts; the file is
//! read again for each download, so a file changed on disk after the start is served with a
//! checksum that no longer matches, and agents refuse it.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use drover_proto::upgrade::ServedBinary;
use sha2::{Digest, Sha256};
use tokio::sync::OnceCell;

/// The served file and what the start-up measured of it.
pub struct AgentBinary {
    path: PathBuf,
    measured: OnceCell<Result<ServedBinary, String>>,
}

impl AgentBinary {
    /// The binary at `path`, not measured yet.
    pub fn new(path: PathBuf) -> Arc<Self> {
        Arc::new(Self { path, measured: OnceCell::new() })
    }

    /// Starts measuring it in the background (hashing a large binary takes a moment; the
    /// server answers meanwhile, and an upgrade waits for it).
    pub fn measure_in_background(self: &Arc<Self>) {
        let this = self.clone();
        tokio::spawn(async move {
            match this.measured().await {
                Ok(b) => tracing::info!(path = %this.path.display(), sha256 = %b.sha256, "agent binary measured"),
                Err(e) => tracing::warn!("{e}"),
            }
        });
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Its checksum, size and version as measured at start, or why it could not be read.
    pub async fn measured(&self) -> Result<ServedBinary, String> {
        self.measured
            .get_or_init(|| async {
                let path = self.path.clone();
                tokio::task::spawn_blocking(move || measure(&path))
                    .await
                    .unwrap_or_else(|e| Err(format!("measuring the agent binary failed: {e}")))
            })
            .await
            .clone()
    }
}

fn measure(path: &Path) -> Result<ServedBinary, String> {
    let unreadable = |e: std::io::Error| {
        format!(
            "the agent binary {} cannot be read ({e}); give `drover server --agent-binary FILE` a readable file",
            path.display()
        )
    };
    let mut file = std::fs::File::open(path).map_err(unreadable)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buf).map_err(unreadable)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        size += n as u64;
    }
    let sha256 = hex::encode(hasher.finalize());
    let version = drover_core::agent_upgrade::build_version(env!("CARGO_PKG_VERSION"), Some(&sha256));
    Ok(ServedBinary { sha256, size, version })
}
