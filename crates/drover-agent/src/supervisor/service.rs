//! One supervised service.

use std::collections::BTreeMap;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use drover_core::deploy::plan::ServiceSpec;
use drover_core::process::{PidNow, ProcessIdentity};
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
    /// Who the process is (boot id, start time, cmdline), read right after the spawn: a pid
    /// that has another identity now belongs to a stranger (older agents did not record it).
    #[serde(default)]
    pub identity: Option<ProcessIdentity>,
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
    /// Who the running process is; without it (an older agent's record) a live pid is trusted.
    identity: Option<ProcessIdentity>,
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

/// Whether `pid` is alive and still the process recorded as `identity` (only alive without one).
fn ours(pid: i32, identity: Option<&ProcessIdentity>) -> bool {
    match identity {
        Some(identity) => crate::process_identity::judge(pid, identity) == PidNow::Ours,
        None => alive(pid),
    }
}

/// Whether a process's command line runs `script` (a path, or a name under `bin/`), also when
/// the program rewrote it as one string ("nginx: master process /usr/sbin/nginx -c …").
fn runs_script(found: &ProcessIdentity, script: &str) -> bool {
    let name = Path::new(script).file_name().and_then(|n| n.to_str()).unwrap_or(script);
    found
        .cmdline
        .iter()
        .take(3)
        .flat_map(|arg| arg.split_whitespace().take(4))
        .any(|word| Path::new(word).file_name().and_then(|n| n.to_str()) == Some(name))
}

/// What a spawn made: the pid, what it runs, when it started, who it is.
struct Spawned {
    pid: i32,
    fingerprint: Option<String>,
    started_at_ms: i64,
    identity: Option<ProcessIdentity>,
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
            pid: inner.pid.filter(|p| ours(*p, inner.identity.as_ref())),
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
        let inner = self.lock();
        inner.pid.filter(|p| ours(*p, inner.identity.as_ref()))
    }

    /// Starts the process and records it in its state file; returns its pid and fingerprint.
    /// It takes no lock: the watcher calls it while holding the service's.
    fn spawn_process(&self) -> Result<Spawned, String> {
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
        // `spawn` returns once the program was executed, so this is the service's own identity.
        let identity = crate::process_identity::read_after_spawn(pid);
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
            identity,
        };
        let path = state_file(&self.paths, &self.spec.name);
        let written = serde_json::to_vec(&state)
            .map_err(std::io::Error::other)
            .and_then(|bytes| crate::private_file::write_private(&path, &bytes));
        if let Err(e) = written {
            tracing::warn!("failed to record {}: {e}", path.display());
        }
        Ok(Spawned { pid, fingerprint: state.fingerprint, started_at_ms, identity: state.identity })
    }

    /// Starts the process and its watcher.
    pub fn start(self: &Arc<Self>) -> Result<i32, String> {
        let Spawned { pid, fingerprint, started_at_ms, identity } = self.spawn_process()?;
        let generation = {
            let mut inner = self.lock();
            inner.pid = Some(pid);
            inner.fingerprint = fingerprint;
            inner.started_at_ms = Some(started_at_ms);
            inner.identity = identity;
            inner.stopping = false;
            inner.generation += 1;
            inner.generation
        };
        self.watch(generation);
        Ok(pid)
    }

    /// Watches a process started by an earlier run of the agent (or starts it if it died). A pid
    /// that now belongs to another process (after a reboot, or reused) is never signalled: it is
    /// forgotten and the service is started.
    pub fn adopt(self: &Arc<Self>, pid: i32, identity: Option<ProcessIdentity>) {
        let (now, identity) = match identity {
            Some(recorded) => (crate::process_identity::judge(pid, &recorded), Some(recorded)),
            // An older agent's record: trusted only if the process runs the service's script,
            // and from now on known by what it is.
            None => match crate::process_identity::read(pid) {
                None => (PidNow::Gone, None),
                Some(found) if runs_script(&found, &self.spec.script) => (PidNow::Ours, Some(found)),
                Some(found) => {
                    (PidNow::Stranger(format!("it runs {:?}, not {}", found.cmdline, self.spec.script)), None)
                }
            },
        };
        let why = match now {
            PidNow::Ours => None,
            PidNow::Gone => Some("service died while the agent was away".to_owned()),
            PidNow::Stranger(why) => Some(format!("its pid {pid} now belongs to another process ({why}), left alone")),
        };
        if let Some(why) = why {
            tracing::warn!(service = %self.spec.name, pid, "{why}; starting it");
            if let Err(e) = self.start() {
                tracing::error!(service = %self.spec.name, "failed to start: {e}");
            }
            return;
        }
        let generation = {
            let mut inner = self.lock();
            inner.pid = Some(pid);
            inner.identity = identity;
            inner.generation += 1;
            inner.generation
        };
        tracing::info!(service = %self.spec.name, pid, "re-adopted service");
        reap_if_child(pid);
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
                let (pid, stopping, current, identity) = {
                    let inner = service.lock();
                    (inner.pid, inner.stopping, inner.generation, inner.identity.clone())
                };
                if current != generation || stopping {
                    return;
                }
                if pid.is_some_and(|pid| ours(pid, identity.as_ref())) {
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
                        Ok(Spawned { pid: new_pid, fingerprint, started_at_ms, identity }) => {
                            inner.pid = Some(new_pid);
                            inner.fingerprint = fingerprint;
                            inner.started_at_ms = Some(started_at_ms);
                            inner.identity = identity;
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
        let (pid, identity) = {
            let mut inner = self.lock();
            inner.stopping = true;
            (inner.pid.take(), inner.identity.take())
        };
        let _ = std::fs::remove_file(state_file(&self.paths, &self.spec.name));
        let Some(pid) = pid else { return };
        // The group of a leader that is gone may still hold its children (and its id cannot be
        // reused while it does); a live process with the pid that is not ours is left alone.
        if let Some(PidNow::Stranger(why)) = identity.as_ref().map(|id| crate::process_identity::judge(pid, id)) {
            tracing::warn!(service = %self.spec.name, pid, "not stopping pid {pid}: it belongs to another process ({why})");
            return;
        }
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

/// After an upgrade the agent is the same process, so the services it re-adopts are still its
/// children: a thread waits for such a one, so it never lingers as a zombie once it exits. For a
/// process that is not our child (adopted after a restart) `waitpid` returns at once.
fn reap_if_child(pid: i32) {
    std::thread::spawn(move || {
        let _ = nix::sys::wait::waitpid(Pid::from_raw(pid), None);
    });
}
