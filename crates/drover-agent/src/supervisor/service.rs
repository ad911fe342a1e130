//! One supervised service.

use std::collections::BTreeMap;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use drover_core::deploy::plan::ServiceSpec;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use serde::{Deserialize, Serialize};

use super::state_file;
use crate::app::paths::AppPaths;

/// What `shared/run/<service>.json` holds (mode 0600: the environment may hold secrets).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServiceState {
    /// The running process (leader of its own group).
    pub pid: i32,
    /// What it runs.
    pub spec: ServiceSpec,
    /// Its environment.
    pub env: BTreeMap<String, String>,
    /// What it runs (servers only; see `fingerprint`).
    #[serde(default)]
    pub fingerprint: Option<String>,
    /// When the process started, Unix milliseconds (older agents did not record it).
    #[serde(default)]
    pub started_at_ms: Option<i64>,
}

impl ServiceState {
    /// Reads a state file.
    pub fn load(path: &Path) -> Result<Self, String> {
        let raw = std::fs::read(path).map_err(|e| e.to_string())?;
        serde_json::from_slice(&raw).map_err(|e| e.to_string())
    }
}

#[derive(Default)]
struct Inner {
    pid: Option<i32>,
    /// Set while stopping, so the watcher does not restart it.
    stopping: bool,
    /// Bumped on each start, so an old watcher knows it is stale.
    generation: u64,
    /// What the running process runs.
    fingerprint: Option<String>,
    /// When the running process started, Unix milliseconds.
    started_at_ms: Option<i64>,
    /// Restarts after the process exited on its own, since this agent supervises it.
    restarts: u32,
}

/// A service's state as heartbeats report it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// Its process, while alive.
    pub pid: Option<i32>,
    /// Being stopped (or stopped).
    pub stopping: bool,
    /// When its process started, Unix milliseconds.
    pub started_at_ms: Option<i64>,
    /// Restarts after exits of its own.
    pub restarts: u32,
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// A service and its watcher.
pub struct Service {
    paths: AppPaths,
    /// What it runs.
    pub spec: ServiceSpec,
    env: BTreeMap<String, String>,
    inner: Mutex<Inner>,
}

/// Whether `pid` is alive and not a zombie.
fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat.rsplit_once(')').is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

impl Service {
    /// A service not yet started.
    pub fn new(paths: AppPaths, spec: ServiceSpec, env: BTreeMap<String, String>) -> Arc<Self> {
        Arc::new(Self { paths, spec, env, inner: Mutex::new(Inner::default()) })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// What the running process runs, when known.
    pub fn fingerprint(&self) -> Option<String> {
        self.lock().fingerprint.clone()
    }

    /// Its pid, state and counters, read together.
    pub fn snapshot(&self) -> Snapshot {
        let inner = self.lock();
        Snapshot {
            pid: inner.pid.filter(|p| alive(*p)),
            stopping: inner.stopping,
            started_at_ms: inner.started_at_ms,
            restarts: inner.restarts,
        }
    }

    /// Records when an adopted process started.
    pub fn set_started_at(&self, started_at_ms: Option<i64>) {
        self.lock().started_at_ms = started_at_ms;
    }

    /// Records what an adopted process runs.
    pub fn set_fingerprint(&self, fingerprint: Option<String>) {
        self.lock().fingerprint = fingerprint;
    }

    /// The running pid.
    pub fn pid(&self) -> Option<i32> {
        self.lock().pid.filter(|p| alive(*p))
    }

    /// Starts the process and records it in its state file; returns its pid and fingerprint.
    /// It takes no lock: the watcher calls it while holding the service's.
    fn spawn_process(&self) -> Result<(i32, Option<String>, i64), String> {
        // An app's services run from its current release; an absolute script (the frontend's
        // nginx and HAProxy) runs in the app's shared directory.
        let (script, cwd) = if Path::new(&self.spec.script).is_absolute() {
            (PathBuf::from(&self.spec.script), self.paths.shared())
        } else {
            let current = self.paths.current();
            (current.join("bin").join(&self.spec.script), current)
        };
        let log_path = self.paths.logs().join(format!("{}.log", self.spec.name));
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(|e| format!("failed to open {}: {e}", log_path.display()))?;
        let child = crate::child_env::std_command(&script)
            .args(&self.spec.args)
            .current_dir(&cwd)
            .envs(&self.env)
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log)
            .process_group(0)
            .spawn()
            .map_err(|e| format!("failed to start {}: {e}", script.display()))?;
        let pid = child.id() as i32;
        let started_at_ms = now_ms();
        // The process is reaped by a thread, so it never lingers as a zombie while watched.
        std::thread::spawn(move || {
            let mut child = child;
            let _ = child.wait();
        });
        let fingerprint = if self.spec.client { None } else { super::fingerprint::of(&self.paths, &self.spec) };
        let state = ServiceState {
            pid,
            spec: self.spec.clone(),
            env: self.env.clone(),
            fingerprint,
            started_at_ms: Some(started_at_ms),
        };
        let path = state_file(&self.paths, &self.spec.name);
        let written = serde_json::to_vec(&state)
            .map_err(std::io::Error::other)
            .and_then(|bytes| crate::private_file::write_private(&path, &bytes));
        if let Err(e) = written {
            tracing::warn!("failed to record {}: {e}", path.display());
        }
        Ok((pid, state.fingerprint, started_at_ms))
    }

    /// Starts the process and its watcher.
    pub fn start(self: &Arc<Self>) -> Result<i32, String> {
        let (pid, fingerprint, started_at_ms) = self.spawn_process()?;
        let generation = {
            let mut inner = self.lock();
            inner.pid = Some(pid);
            inner.fingerprint = fingerprint;
            inner.started_at_ms = Some(started_at_ms);
            inner.stopping = false;
            inner.generation += 1;
            inner.generation
        };
        self.watch(generation);
        Ok(pid)
    }

    /// Watches a process started by an earlier run of the agent (or starts it if it died).
    pub fn adopt(self: &Arc<Self>, pid: i32) {
        if !alive(pid) {
            tracing::warn!(service = %self.spec.name, pid, "service died while the agent was away; starting it");
            if let Err(e) = self.start() {
                tracing::error!(service = %self.spec.name, "failed to start: {e}");
            }
            return;
        }
        let generation = {
            let mut inner = self.lock();
            inner.pid = Some(pid);
            inner.generation += 1;
            inner.generation
        };
        tracing::info!(service = %self.spec.name, pid, "re-adopted service");
        self.watch(generation);
    }

    /// Restarts the service with backoff whenever it exits on its own.
    fn watch(self: &Arc<Self>, generation: u64) {
        let service = self.clone();
        tokio::spawn(async move {
            let mut backoff = Duration::from_secs(1);
            let mut started = Instant::now();
            loop {
                tokio::time::sleep(Duration::from_millis(250)).await;
                let (pid, stopping, current) = {
                    let inner = service.lock();
                    (inner.pid, inner.stopping, inner.generation)
                };
                if current != generation || stopping {
                    return;
                }
                if pid.is_some_and(alive) {
                    if started.elapsed() > Duration::from_secs(60) {
                        backoff = Duration::from_secs(1);
                    }
                    continue;
                }
                tracing::warn!(service = %service.spec.name, "service exited; restarting in {backoff:?}");
                tokio::time::sleep(backoff).await;
                {
                    // Checked and spawned under the lock, so a stop cannot slip in between and
                    // leave a fresh process running.
                    let mut inner = service.lock();
                    if inner.stopping || inner.generation != generation {
                        return;
                    }
                    match service.spawn_process() {
                        Ok((new_pid, fingerprint, started_at_ms)) => {
                            inner.pid = Some(new_pid);
                            inner.fingerprint = fingerprint;
                            inner.started_at_ms = Some(started_at_ms);
                            inner.restarts += 1;
                        }
                        Err(e) => tracing::error!(service = %service.spec.name, "failed to restart: {e}"),
                    }
                }
                started = Instant::now();
                backoff = (backoff * 2).min(Duration::from_secs(30));
            }
        });
    }

    /// SIGTERM to the group, SIGKILL after `grace`; forgets the state file.
    pub async fn stop(&self, grace: Duration) {
        let pid = {
            let mut inner = self.lock();
            inner.stopping = true;
            inner.pid.take()
        };
        let _ = std::fs::remove_file(state_file(&self.paths, &self.spec.name));
        let Some(pid) = pid else { return };
        let group = Pid::from_raw(pid);
        let _ = killpg(group, Signal::SIGTERM);
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if !alive(pid) && killpg(group, None).is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        tracing::warn!(service = %self.spec.name, pid, "did not stop after SIGTERM; killing it");
        let _ = killpg(group, Signal::SIGKILL);
    }
}
