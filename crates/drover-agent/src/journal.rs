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

/// An entry as the file holds it: with the nonce of the command it is about.
#[derive(Debug, Serialize, Deserialize)]
struct Record {
    /// The command's nonce; none from servers (or journals) that had none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    nonce: Option<String>,
    #[serde(flatten)]
    entry: Entry,
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

    /// The entry for a command, if the agent has taken it before. An entry for the same id but
    /// another nonce is about another command (the server's database was restored and the id
    /// came back): it is discarded, never answered.
    pub fn get(&self, id: i64, nonce: Option<&str>) -> Option<Entry> {
        let raw = std::fs::read(self.path(id)).ok()?;
        let record: Record = serde_json::from_slice(&raw).ok()?;
        match (record.nonce.as_deref(), nonce) {
            (Some(had), Some(now)) if had != now => {
                tracing::info!(id, "the journal's entry for this id is about an older command; discarding it");
                let _ = std::fs::remove_file(self.path(id));
                None
            }
            _ => Some(record.entry),
        }
    }

    /// Records an entry durably (write to a temporary file, fsync, rename).
    pub fn put(&self, id: i64, nonce: Option<&str>, entry: &Entry) -> std::io::Result<()> {
        let record = Record { nonce: nonce.map(str::to_owned), entry: entry.clone() };
        let bytes = serde_json::to_vec(&record).map_err(std::io::Error::other)?;
        crate::private_file::write_private(&self.path(id), &bytes)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn result(code: i32) -> ResultReport {
        ResultReport {
            success: code == 0,
            exit_code: Some(code),
            reason: None,
            finished_at_ms: 1,
            data: None,
            nonce: Some("a".into()),
        }
    }

    #[test]
    fn an_entry_of_another_nonce_is_discarded() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::open(dir.path().to_path_buf()).unwrap();
        journal.put(7, Some("a"), &Entry::Finished { result: result(3) }).unwrap();
        assert!(matches!(journal.get(7, Some("a")), Some(Entry::Finished { .. })));
        assert!(matches!(journal.get(7, None), Some(Entry::Finished { .. })), "a server without nonces");
        assert!(journal.get(7, Some("b")).is_none(), "another command with the same id");
        assert!(journal.get(7, Some("a")).is_none(), "the stale entry is gone");
    }

    #[test]
    fn entries_without_a_nonce_still_count() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("3.json"), r#"{"state":"started"}"#).unwrap();
        let journal = Journal::open(dir.path().to_path_buf()).unwrap();
        assert!(matches!(journal.get(3, Some("x")), Some(Entry::Started)));
    }
}
