//! Commands the user cancelled (only `logs` streams can be): their agents are told to stop in the
//! answer to their next output append (a following stream appends at least every few seconds).
//! Kept in memory: a server restart forgets them, and such a stream then ends at its own time
//! limit (`follow_secs`).

use std::collections::HashSet;
use std::sync::Mutex;

/// The cancelled commands not finished yet.
#[derive(Default)]
pub struct Cancelled(Mutex<HashSet<i64>>);

impl Cancelled {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashSet<i64>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Marks commands cancelled.
    pub fn add(&self, ids: impl IntoIterator<Item = i64>) {
        self.lock().extend(ids);
    }

    /// Whether a command was cancelled.
    pub fn contains(&self, id: i64) -> bool {
        self.lock().contains(&id)
    }

    /// Forgets a command that has finished.
    pub fn forget(&self, id: i64) {
        self.lock().remove(&id);
    }
}
