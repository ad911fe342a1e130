//! `drover logs` on the instance: the supervisor's service logs (`srv/www/<app>/shared/var/log/
//! <service>.log`) and the agent's own log (`agent.log` in the root, where the server's local
//! instances write it), streamed as the command's output in the wire form of
//! `drover_core::service_logs::WireLine`; and their rotation by size (`logs.max_size`,
//! `logs.keep`), so none grows without bound.
//!
//! History lines carry the time they give themselves (or that of the next line that gives one, or
//! the file's last write); followed lines carry the time the agent read them (within [`POLL`] of
//! their write).

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use drover_core::service_logs::{Rotation, WireLine, times_of};

use crate::app::paths::AppPaths;
use crate::output::OutputStream;

/// How often followed files are read for new lines.
const POLL: Duration = Duration::from_millis(100);
/// How often the set of files is looked at again while following (new services).
const RESCAN: Duration = Duration::from_secs(2);
/// How often a quiet stream says it is alive (and so learns whether it was cancelled).
const KEEPALIVE: Duration = Duration::from_secs(2);
/// The most of a file's end read for its history.
const HISTORY_BYTES: u64 = 8 << 20;
/// The lines of each source shown when neither a count nor a time is asked for.
const DEFAULT_LINES: u32 = 10;
/// A line without its end yet is sent anyway once it is this long.
const MAX_PARTIAL: usize = 64 << 10;
/// How often the rotation looks at the files' sizes.
pub const ROTATION_CHECK: Duration = Duration::from_secs(2);

/// A log file and the name it is shown under.
#[derive(Debug, Clone, PartialEq)]
struct Source {
    /// `<app>/<service>` or `agent`.
    name: String,
    path: PathBuf,
}

/// Every log file on this instance: each app's services, then the agent's.
fn all_sources(root: &Path) -> Vec<Source> {
    let mut found = Vec::new();
    if let Ok(apps) = std::fs::read_dir(root.join("srv/www")) {
        for app in apps.flatten() {
            let app = app.file_name().to_string_lossy().into_owned();
            let Ok(files) = std::fs::read_dir(AppPaths::new(root, &app).logs()) else { continue };
            for file in files.flatten() {
                let path = file.path();
                if path.extension().is_some_and(|e| e == "log")
                    && let Some(stem) = path.file_stem()
                {
                    found.push(Source { name: format!("{app}/{}", stem.to_string_lossy()), path });
                }
            }
        }
    }
    found.sort_by(|a, b| a.name.cmp(&b.name));
    let agent = root.join("agent.log");
    if agent.is_file() {
        found.push(Source { name: "agent".into(), path: agent });
    }
    found
}

/// Whether a source is one the user asked for: all when none are named; `client1` names that
/// service of every app, `site/client1` one app's, `agent` the agent's log.
fn wanted(name: &str, services: &[String]) -> bool {
    services.is_empty()
        || services.iter().any(|s| s == name || name.split_once('/').is_some_and(|(_, service)| service == s))
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// What the command asks for.
pub struct Ask<'a> {
    pub services: &'a [String],
    pub since_secs: Option<u64>,
    pub lines: Option<u32>,
    pub follow_secs: Option<u64>,
}

/// A followed file: where reading goes on, and a line not ended yet.
struct Followed {
    source: Source,
    offset: u64,
    partial: Vec<u8>,
}

/// Streams the history the ask selects, then (when following) new lines until the time is up or
/// the server says the command was cancelled.
pub async fn stream(root: &Path, ask: &Ask<'_>, out: &OutputStream) -> Result<(), String> {
    let sources: Vec<Source> = all_sources(root).into_iter().filter(|s| wanted(&s.name, ask.services)).collect();
    let since_ms = ask.since_secs.map(|s| now_ms() - (s.min(10 * 365 * 86_400) as i64) * 1000);
    let lines = ask.lines.or(if ask.since_secs.is_some() { None } else { Some(DEFAULT_LINES) });
    let mut followed = Vec::new();
    let mut history: Vec<(i64, String)> = Vec::new();
    for source in sources {
        let (end, mut picked) = read_history(&source, since_ms, lines).unwrap_or_default();
        history.append(&mut picked);
        followed.push(Followed { source, offset: end, partial: Vec::new() });
    }
    // Sorted by time (stable: a file's lines keep their order), so the stream starts merged.
    history.sort_by_key(|(t, _)| *t);
    for (_, line) in history {
        out.push(&line);
    }
    let Some(follow_secs) = ask.follow_secs else { return Ok(()) };
    let deadline = Instant::now() + Duration::from_secs(follow_secs);
    let (mut rescanned, mut alive) = (Instant::now(), Instant::now());
    out.push(&WireLine::encode(now_ms(), "", ""));
    while Instant::now() < deadline && !out.stop_requested() {
        tokio::time::sleep(POLL).await;
        if rescanned.elapsed() >= RESCAN {
            rescanned = Instant::now();
            for source in all_sources(root).into_iter().filter(|s| wanted(&s.name, ask.services)) {
                if !followed.iter().any(|f| f.source.path == source.path) {
                    followed.push(Followed { source, offset: 0, partial: Vec::new() });
                }
            }
        }
        let mut sent = false;
        for f in &mut followed {
            let text = read_new(f).unwrap_or_default();
            if !text.is_empty() {
                out.push(&text);
                sent = true;
            }
        }
        if sent {
            alive = Instant::now();
        } else if alive.elapsed() >= KEEPALIVE {
            alive = Instant::now();
            out.push(&WireLine::encode(now_ms(), "", ""));
        }
    }
    if out.stop_requested() {
        out.push(&WireLine::encode(now_ms(), "agent", "drover logs: cancelled, no longer following"));
    }
    Ok(())
}

/// A file's length and its lines the ask selects, in wire form with their times.
fn read_history(
    source: &Source,
    since_ms: Option<i64>,
    lines: Option<u32>,
) -> std::io::Result<(u64, Vec<(i64, String)>)> {
    let mut file = std::fs::File::open(&source.path)?;
    let meta = file.metadata()?;
    let len = meta.len();
    let mtime_ms =
        meta.modified().ok().and_then(|m| m.duration_since(UNIX_EPOCH).ok()).map_or(0, |d| d.as_millis() as i64);
    let start = len.saturating_sub(HISTORY_BYTES);
    file.seek(SeekFrom::Start(start))?;
    let mut raw = Vec::new();
    file.take(len - start).read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw);
    let mut all: Vec<&str> = text.split_inclusive('\n').collect();
    if start > 0 && !all.is_empty() {
        all.remove(0); // cut mid-line
    }
    // A last line without its end is left for following.
    let complete = text.ends_with('\n');
    let read_to = if complete || all.is_empty() { len } else { len - all.last().map_or(0, |l| l.len() as u64) };
    if !complete {
        all.pop();
    }
    let times = times_of(&all, mtime_ms);
    let mut picked: Vec<(i64, String)> = all
        .iter()
        .zip(times)
        .filter(|(_, t)| since_ms.is_none_or(|since| *t >= since))
        .map(|(l, t)| (t, WireLine::encode(t, &source.name, l)))
        .collect();
    if let Some(n) = lines {
        let drop = picked.len().saturating_sub(n as usize);
        picked.drain(..drop);
    }
    Ok((read_to, picked))
}

/// What a followed file gained since the last read, as wire lines stamped now. A file shorter
/// than where reading was (rotated: copied and emptied) is read from its start.
fn read_new(f: &mut Followed) -> std::io::Result<String> {
    let mut file = std::fs::File::open(&f.source.path)?;
    let len = file.metadata()?.len();
    if len < f.offset {
        f.offset = 0;
        f.partial.clear();
    }
    if len == f.offset {
        return Ok(String::new());
    }
    file.seek(SeekFrom::Start(f.offset))?;
    let mut raw = Vec::new();
    file.take((len - f.offset).min(HISTORY_BYTES)).read_to_end(&mut raw)?;
    f.offset += raw.len() as u64;
    f.partial.extend_from_slice(&raw);
    let now = now_ms();
    let mut text = String::new();
    let cut = match f.partial.iter().rposition(|b| *b == b'\n') {
        Some(i) => i + 1,
        None if f.partial.len() >= MAX_PARTIAL => f.partial.len(),
        None => 0,
    };
    let done: Vec<u8> = f.partial.drain(..cut).collect();
    for line in String::from_utf8_lossy(&done).lines() {
        text.push_str(&WireLine::encode(now, &f.source.name, line));
    }
    Ok(text)
}

/// Rotates every log file that passed the size the stack configuration sets (read from the last
/// stack configuration an event delivered: `logs.max_size`, `logs.keep`).
pub fn rotate_all(root: &Path) {
    let config = std::fs::read(crate::lifecycle::stack_config_path(root))
        .ok()
        .and_then(|raw| serde_json::from_slice(&raw).ok())
        .unwrap_or(serde_json::Value::Null);
    let rotation = Rotation::from_attributes(&config);
    for source in all_sources(root) {
        if let Err(e) = rotate(&source.path, &rotation) {
            tracing::warn!("failed to rotate {}: {e}", source.path.display());
        }
    }
}

/// `<path>.<n>`.
fn numbered(path: &Path, n: u32) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{n}"));
    PathBuf::from(name)
}

/// Carries out the core's rotation plan for one file: the oldest copy goes, the others shift up,
/// the file is copied to `.1` and emptied in place (its writers append, so they go on at its start).
fn rotate(path: &Path, rotation: &Rotation) -> std::io::Result<()> {
    let size = std::fs::metadata(path)?.len();
    let Some(plan) = rotation.plan(size) else { return Ok(()) };
    if let Some(n) = plan.remove {
        match std::fs::remove_file(numbered(path, n)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
    }
    for (from, to) in plan.shifts {
        match std::fs::rename(numbered(path, from), numbered(path, to)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
    }
    if let Some(n) = plan.copy_to {
        // The copy takes the file's permissions.
        std::fs::copy(path, numbered(path, n))?;
    }
    std::fs::OpenOptions::new().write(true).open(path)?.set_len(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_are_chosen_by_service_app_and_service_or_agent() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let cases = [
            ("site/client1", s(&[]), true),
            ("site/client1", s(&["client1"]), true),
            ("site/client1", s(&["site/client1"]), true),
            ("site/client1", s(&["other/client1"]), false),
            ("site/client1", s(&["client2", "agent"]), false),
            ("agent", s(&["agent"]), true),
            ("agent", s(&["client1"]), false),
        ];
        for (name, services, want) in cases {
            assert_eq!(wanted(name, &services), want, "{name} {services:?}");
        }
    }

    #[test]
    fn rotation_keeps_the_configured_count_and_empties_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("client1.log");
        let rotation = Rotation { max_bytes: 10, keep: 2 };
        for round in 0..4 {
            std::fs::write(&path, format!("round {round} ....\n")).unwrap();
            rotate(&path, &rotation).unwrap();
            assert_eq!(std::fs::metadata(&path).unwrap().len(), 0);
        }
        assert_eq!(std::fs::read_to_string(numbered(&path, 1)).unwrap(), "round 3 ....\n");
        assert_eq!(std::fs::read_to_string(numbered(&path, 2)).unwrap(), "round 2 ....\n");
        assert!(!numbered(&path, 3).exists());
        std::fs::write(&path, "short\n").unwrap();
        rotate(&path, &rotation).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "short\n");
    }
}
