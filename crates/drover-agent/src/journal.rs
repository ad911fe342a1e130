//! The command journal: one file per command the agent took, under `<root>/var/lib/drover/commands`.
//!
//! Written before a command's process starts and again when it ends, so after a restart the agent
//! knows whether a command ran (report its saved result, or report that it was interrupted)
//! and never starts it a second time. Entries are kept for a day after the result reached the
//! server, so a late duplicate delivery is recognised too; older ones are pruned.

use std::path::PathBuf;

use drover_proto::agent::ResultReport;
use serde::{Deserialize, Serialize};

/// What the agent knows about a command.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Entry {
    /// Its process was (about to be) started.
    Started,
    /// It ended; the result may not have reached the server yet.
    Finished {
        /// The result to report.
        result: ResultReport,
    },
}

/// The journal directory.
#[derive(Clone)]
pub struct Journal {
    dir: PathBuf,
}

impl Journal {
    /// The journal in `dir`, created if missing.
    pub fn open(dir: PathBuf) -> std::io::Result<Self> {
        std::fs::create_dir_all(&dir)?;
        Ok(Self { dir })
    }

    fn path(&self, id: i64) -> PathBuf {
        self.dir.join(format!("{id}.json"))
    }

    /// The entry for a command, if the agent has taken it before.
    pub fn get(&self, id: i64) -> Option<Entry> {
        let raw = std::fs::read(self.path(id)).ok()?;
        serde_json::from_slice(&raw).ok()
    }

    /// Records an entry durably (write to a temporary file, fsync, rename).
    pub fn put(&self, id: i64, entry: &Entry) -> std::io::Result<()> {
        use std::io::Write;
        let tmp = self.dir.join(format!("{id}.json.tmp"));
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&serde_json::to_vec(entry).map_err(std::io::Error::other)?)?;
        f.sync_all()?;
        std::fs::rename(tmp, self.path(id))
    }

    /// Removes entries not touched for longer than `age`.
    pub fn prune(&self, age: std::time::Duration) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else { return };
        for entry in entries.flatten() {
            let stale = entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|e| e > age);
            if stale {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}
