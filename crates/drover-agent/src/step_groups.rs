//! The process groups of running steps (builds, hooks), so that none outlives its agent.
//!
//! Each step runs in a group of its own: a timeout, or a child left holding its pipes, kills the
//! whole group. Groups are noted in memory (killed when the agent stops) and on disk under the
//! agent's state dir with the leader's start time and the boot id (killed by the next agent when
//! this one was killed outright), so a killed agent's build does not run on beside the next one.
//! A group noted in another boot is long gone: its id now names someone else's processes.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;

static DIR: OnceLock<PathBuf> = OnceLock::new();
static LIVE: Mutex<Option<HashSet<i32>>> = Mutex::new(None);

/// Kills the groups a previous agent left running, then notes new groups under `dir`.
pub fn kill_leftovers(dir: &Path) {
    let _ = std::fs::create_dir_all(dir);
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let pgid = entry.file_name().to_str().and_then(|n| n.parse::<i32>().ok());
        let noted = std::fs::read_to_string(entry.path()).unwrap_or_default();
        // `<start ticks> <boot id>` (older agents wrote only the ticks).
        let mut words = noted.split_whitespace();
        let started = words.next().and_then(|s| s.parse::<u64>().ok());
        let same_boot = words.next().is_none_or(|boot| boot == crate::process_identity::boot_id().trim());
        if let (Some(pgid), Some(started), true) = (pgid, started, same_boot) {
            kill_if_ours(pgid, started);
        }
        let _ = std::fs::remove_file(entry.path());
    }
    let _ = DIR.set(dir.to_path_buf());
}

/// Kills group `pgid` if it is still the one noted: its leader has the noted start time, or,
/// with the leader gone, its members started after it.
fn kill_if_ours(pgid: i32, started: u64) {
    if pgid <= 1 {
        return;
    }
    match stat(pgid) {
        Some((_, start)) if start == started => {
            let _ = killpg(Pid::from_raw(pgid), Signal::SIGKILL);
        }
        Some(_) => {} // The id was reused by another process.
        None => {
            for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
                let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<i32>().ok()) else { continue };
                if stat(pid).is_some_and(|(group, start)| group == pgid && start >= started) {
                    let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
                }
            }
        }
    }
}

/// A process's group and start time (clock ticks after boot), from `/proc/<pid>/stat`.
fn stat(pid: i32) -> Option<(i32, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    drover_core::process::group_and_start(&text)
}

fn live() -> std::sync::MutexGuard<'static, Option<HashSet<i32>>> {
    LIVE.lock().unwrap_or_else(|e| e.into_inner())
}

/// A running step's group; killed (SIGKILL) when dropped, whatever is left of it.
pub struct StepGroup {
    pgid: i32,
}

impl StepGroup {
    /// Notes the group led by `pid` (spawned with `process_group(0)`).
    pub fn note(pid: i32) -> Self {
        live().get_or_insert_with(HashSet::new).insert(pid);
        if let (Some(dir), Some((_, started))) = (DIR.get(), stat(pid)) {
            let noted = format!("{started} {}", crate::process_identity::boot_id().trim());
            let _ = std::fs::write(dir.join(pid.to_string()), noted);
        }
        Self { pgid: pid }
    }

    /// Sends a signal to the whole group (never to group 0 or 1: that would be the agent's own
    /// group, or init's).
    pub fn signal(&self, signal: Signal) {
        if self.pgid > 1 {
            let _ = killpg(Pid::from_raw(self.pgid), signal);
        }
    }
}

impl Drop for StepGroup {
    fn drop(&mut self) {
        self.signal(Signal::SIGKILL);
        if let Some(set) = live().as_mut() {
            set.remove(&self.pgid);
        }
        if let Some(dir) = DIR.get() {
            let _ = std::fs::remove_file(dir.join(self.pgid.to_string()));
        }
    }
}

/// Kills the groups of every running step (the agent is stopping).
pub fn kill_running() {
    for pgid in live().as_mut().map(std::mem::take).unwrap_or_default() {
        StepGroup { pgid }.signal(Signal::SIGKILL);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_its_own_stat() {
        let (group, start) = super::stat(std::process::id() as i32).unwrap();
        assert!(group > 0 && start > 0);
    }
}
