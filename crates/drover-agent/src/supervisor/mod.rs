//! The supervisor: runs an app's services (ZEO server, clients) from `current/bin`, each in its
//! own process group, with output appended to `shared/var/log/<service>.log`.
//!
//! - A service that exits on its own is restarted with backoff (1 s doubling to 30 s; back to
//!   1 s after it has run for a minute).
//! - Stop: SIGTERM to the group, SIGKILL after a grace period.
//! - Each service's pid and spec are kept in `shared/run/<service>.json`; when the agent starts
//!   again (restart or upgrade) it re-adopts running services instead of restarting them.

mod fingerprint;
mod service;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use drover_core::deploy::plan::ServiceSpec;
use drover_core::deploy::restart_plan::{RestartPolicy, RestartStep, ServiceAction, ServiceNow, restart_plan};
use service::Service;
pub use service::{ServiceState, Snapshot};

use crate::app::paths::AppPaths;
use crate::app::slots::RestartSlots;
use crate::frontend::drain::Gate;
use crate::health;
use crate::output::OutputStream;

/// How long a service has between SIGTERM and SIGKILL.
pub const STOP_GRACE: Duration = Duration::from_secs(15);

/// How long every service started by a deploy must stay up for the deploy to succeed.
const SETTLE: Duration = Duration::from_secs(5);

/// How many log lines an error about a service shows.
const LOG_TAIL_LINES: usize = 20;

/// What a restart is paced and gated by.
pub struct Restart<'a> {
    /// The policy the server sent.
    pub policy: &'a RestartPolicy,
    /// The frontends' drain gate, when the stack has online frontends.
    pub gate: Option<&'a Gate>,
    /// The deployment's restart slots.
    pub slots: &'a RestartSlots,
    /// Client name → its `address:port`, for the health check without a frontend.
    pub clients: &'a [(String, String)],
    /// Restart servers whose script and configuration did not change (an explicit restart).
    pub restart_servers: bool,
}

impl Restart<'_> {
    /// Waits until a client answers the health check (no frontend to make it ready on).
    async fn wait_healthy(&self, client: &str, out: &OutputStream) -> Result<(), String> {
        let Some((_, address)) = self.clients.iter().find(|(name, _)| name == client) else { return Ok(()) };
        let p = self.policy;
        let deadline = Duration::from_secs_f64(p.healthy_deadline_secs);
        match health::wait_healthy(address, &p.health_check_method, &p.health_check_url, deadline).await {
            Ok(took) => {
                out.push(&format!("{client} is healthy after {:.1} s\n", took.as_secs_f64()));
                Ok(())
            }
            Err(last) => Err(format!(
                "{client} did not pass its health check ({} {}) within healthy_deadline ({} s): {last}",
                p.health_check_method,
                p.health_check_url,
                deadline.as_secs()
            )),
        }
    }
}

/// All supervised services of this agent, by `<app>/<service>`.
#[derive(Clone, Default)]
pub struct Supervisor {
    services: Arc<Mutex<HashMap<String, Arc<Service>>>>,
}

fn key(app: &str, name: &str) -> String {
    format!("{app}/{name}")
}

impl Supervisor {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Service>>> {
        self.services.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Re-adopts the services recorded under `root`: running ones are watched again, dead ones
    /// are started.
    pub fn adopt_all(&self, root: &Path) {
        let Ok(apps) = std::fs::read_dir(root.join("srv/www")) else { return };
        for app in apps.flatten() {
            let app_name = app.file_name().to_string_lossy().into_owned();
            let paths = AppPaths::new(root, &app_name);
            let Ok(states) = std::fs::read_dir(paths.run()) else { continue };
            for state in states.flatten().filter(|s| s.path().extension().is_some_and(|e| e == "json")) {
                match ServiceState::load(&state.path()) {
                    Ok(saved) => {
                        let service = Service::new(paths.clone(), saved.spec.clone(), saved.env.clone());
                        service.set_fingerprint(saved.fingerprint.clone());
                        service.set_started_at(saved.started_at_ms);
                        service.adopt(saved.pid, saved.identity.clone());
                        self.lock().insert(key(&app_name, &saved.spec.name), service);
                    }
                    Err(e) => tracing::warn!("failed to read {}: {e}", state.path().display()),
                }
            }
        }
    }

    /// Makes an app's services match `specs` after `current` changed, carrying out the core's
    /// restart plan (`drover_core::deploy::restart_plan`): services no longer wanted stop; a
    /// server whose script and configuration did not change keeps running (unless
    /// `restart_servers`); each serving client takes one of the deployment's restart slots, is
    /// drained on the frontends, restarted and health-checked before the slot goes back; new
    /// services start at once. Finally every started service must stay up for a moment.
    pub async fn restart_app(
        &self,
        paths: &AppPaths,
        app: &str,
        specs: &[ServiceSpec],
        env: &BTreeMap<String, String>,
        restart: &Restart<'_>,
        out: &OutputStream,
    ) -> Result<(), String> {
        self.stop_unwanted(app, specs, out).await;
        let now: Vec<ServiceNow> = specs
            .iter()
            .map(|spec| {
                let existing = self.lock().get(&key(app, &spec.name)).cloned();
                let running = existing.as_ref().is_some_and(|s| s.pid().is_some());
                let unchanged = existing.as_ref().is_some_and(|old| {
                    old.spec == *spec
                        && old.fingerprint().is_some()
                        && old.fingerprint() == fingerprint::of(paths, spec)
                });
                ServiceNow { name: spec.name.clone(), client: spec.client, running, unchanged }
            })
            .collect();
        let mut started = Vec::new();
        for (step, spec) in restart_plan(&now, restart.policy, restart.restart_servers).iter().zip(specs) {
            if step.action == ServiceAction::Keep {
                out.push(&format!(
                    "{} runs the same script and configuration in the new release: not restarted\n",
                    spec.name
                ));
                continue;
            }
            if step.delay_secs > 0.0 {
                out.push(&format!(
                    "waiting {:.1} s (restart_delay) before restarting {}\n",
                    step.delay_secs, spec.name
                ));
                tokio::time::sleep(Duration::from_secs_f64(step.delay_secs)).await;
            }
            if step.slot {
                restart.slots.take(&spec.name, out).await?;
            }
            let done = self.restart_one(paths, app, spec, env, step, restart, out).await;
            if step.slot {
                restart.slots.give_back(&spec.name).await;
            }
            started.push((spec.name.clone(), done?));
        }
        self.check_staying_up(paths, app, &started, out).await
    }

    /// One step of the plan: drain, stop, start, and (for a client that was serving) wait until it
    /// is healthy again. Returns the new pid.
    #[allow(clippy::too_many_arguments)]
    async fn restart_one(
        &self,
        paths: &AppPaths,
        app: &str,
        spec: &ServiceSpec,
        env: &BTreeMap<String, String>,
        step: &RestartStep,
        restart: &Restart<'_>,
        out: &OutputStream,
    ) -> Result<i32, String> {
        let gate = restart.gate.filter(|_| step.drain);
        if let Some(gate) = gate {
            gate.drain(&spec.name, out).await;
        }
        let existing = self.lock().get(&key(app, &spec.name)).cloned();
        if let Some(old) = existing {
            old.stop(STOP_GRACE).await;
        }
        let service = Service::new(paths.clone(), spec.clone(), env.clone());
        let pid = service.start()?;
        let verb = if step.action == ServiceAction::Restart { "restarted" } else { "started" };
        out.push(&format!("{} {verb} {} (pid {pid})\n", clock(), spec.name));
        self.lock().insert(key(app, &spec.name), service);
        let deadline = Duration::from_secs_f64(restart.policy.healthy_deadline_secs);
        wait_ready(spec, deadline, out).await.map_err(|e| format!("{e}{}", log_tail(paths, &spec.name)))?;
        if !(step.health_check && step.slot) {
            return Ok(pid);
        }
        match gate {
            Some(gate) => gate.ready(&spec.name, out).await,
            None => restart.wait_healthy(&spec.name, out).await,
        }
        .map_err(|e| format!("{e}{}", log_tail(paths, &spec.name)))?;
        Ok(pid)
    }

    /// Fails, naming the service and its last log lines, when a service just started does not
    /// stay up through [`SETTLE`]: it is down at the end, or its watcher had to restart it more
    /// than once (a crash loop). One exit that its restart cured is only reported.
    async fn check_staying_up(
        &self,
        paths: &AppPaths,
        app: &str,
        started: &[(String, i32)],
        out: &OutputStream,
    ) -> Result<(), String> {
        if started.is_empty() {
            return Ok(());
        }
        let mut seen: Vec<Vec<i32>> = started.iter().map(|(_, pid)| vec![*pid]).collect();
        let deadline = tokio::time::Instant::now() + SETTLE;
        while tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(200)).await;
            for ((name, _), pids) in started.iter().zip(&mut seen) {
                if let Some(pid) = self.lock().get(&key(app, name)).and_then(|s| s.pid())
                    && !pids.contains(&pid)
                {
                    pids.push(pid);
                }
            }
        }
        for ((name, _), pids) in started.iter().zip(&seen) {
            let running = self.lock().get(&key(app, name)).and_then(|s| s.pid());
            let restarts = pids.len() - 1;
            if running.is_none() || restarts > 1 {
                return Err(format!(
                    "service {name} did not stay up after its start ({}){}",
                    if running.is_none() {
                        "it is not running".to_owned()
                    } else {
                        format!("restarted {restarts} times in {} s", SETTLE.as_secs())
                    },
                    log_tail(paths, name)
                ));
            }
            if restarts == 1 {
                out.push(&format!("warning: {name} exited once after its start and was restarted\n"));
            }
        }
        out.push(&format!("{} service(s) stayed up\n", started.len()));
        Ok(())
    }

    /// Sends a signal to a service's process (reloads: SIGUSR2 to HAProxy's master, SIGHUP to
    /// nginx's). False when it does not run.
    pub fn signal(&self, app: &str, name: &str, signal: nix::sys::signal::Signal) -> bool {
        let Some(pid) = self.lock().get(&key(app, name)).and_then(|s| s.pid()) else { return false };
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), signal).is_ok()
    }

    /// Every supervised service with its state, pid, start time and restart count, by app and
    /// name (what heartbeats report).
    pub fn services(&self) -> Vec<ServiceSummary> {
        let mut all: Vec<ServiceSummary> = self
            .lock()
            .iter()
            .filter_map(|(k, s)| {
                let (app, _) = k.split_once('/')?;
                Some(ServiceSummary { app: app.to_owned(), name: s.spec.name.clone(), snapshot: s.snapshot() })
            })
            .collect();
        all.sort_by(|a, b| (&a.app, &a.name).cmp(&(&b.app, &b.name)));
        all
    }

    /// Whether a service is supervised and running.
    pub fn is_running(&self, app: &str, name: &str) -> bool {
        self.lock().get(&key(app, name)).is_some_and(|s| s.pid().is_some())
    }

    /// The releases an app's running services run from (a server left running across deploys
    /// runs from an older one), by their working directories: pruning keeps them.
    pub fn releases_in_use(&self, paths: &AppPaths, app: &str) -> Vec<String> {
        let releases = std::fs::canonicalize(paths.releases()).unwrap_or_else(|_| paths.releases());
        let pids: Vec<i32> = self
            .lock()
            .iter()
            .filter(|(k, _)| k.starts_with(&format!("{app}/")))
            .filter_map(|(_, s)| s.pid())
            .collect();
        pids.into_iter()
            .filter_map(|pid| std::fs::read_link(format!("/proc/{pid}/cwd")).ok())
            .filter(|cwd| cwd.parent() == Some(releases.as_path()))
            .filter_map(|cwd| cwd.file_name().map(|n| n.to_string_lossy().into_owned()))
            .collect()
    }

    /// Stops every service of every app, draining clients behind a frontend first.
    pub async fn stop_all_drained(&self, gate: Option<&Gate>, out: &OutputStream) {
        if let Some(gate) = gate {
            let clients: Vec<String> =
                self.lock().values().filter(|s| s.spec.client).map(|s| s.spec.name.clone()).collect();
            for client in clients {
                gate.drain_to_stop(&client, out).await;
            }
        }
        self.stop_all(out).await;
    }

    /// Starts an app's services that are not running.
    pub async fn start_app(
        &self,
        paths: &AppPaths,
        app: &str,
        specs: &[ServiceSpec],
        env: &BTreeMap<String, String>,
        out: &OutputStream,
    ) -> Result<(), String> {
        for spec in specs {
            // A service already supervised is left to its watcher, even while it is between a
            // crash and its restart: a second one would leave the first's process unsupervised.
            // Unless it is down and what it runs changed (a crash loop the new spec may cure, such
            // as an old socket path): then it is replaced.
            let existing = self.lock().get(&key(app, &spec.name)).cloned();
            if let Some(old) = existing {
                if old.pid().is_some() || old.spec == *spec {
                    out.push(&format!("{} already runs\n", spec.name));
                    continue;
                }
                out.push(&format!("{} is down and what it runs changed: starting it anew\n", spec.name));
                old.stop(STOP_GRACE).await;
                self.lock().remove(&key(app, &spec.name));
            }
            let service = Service::new(paths.clone(), spec.clone(), env.clone());
            let pid = service.start()?;
            out.push(&format!("started {} (pid {pid})\n", spec.name));
            self.lock().insert(key(app, &spec.name), service);
            wait_ready(spec, READY_DEADLINE, out).await.map_err(|e| format!("{e}{}", log_tail(paths, &spec.name)))?;
        }
        Ok(())
    }

    /// Fails, naming the service and its last log lines, when one of `names` does not stay up
    /// for a few seconds (it exits, or its watcher restarts it again and again): after a
    /// frontend's nginx or HAProxy was started or reloaded.
    pub async fn check_up(
        &self,
        paths: &AppPaths,
        app: &str,
        names: &[&str],
        out: &OutputStream,
    ) -> Result<(), String> {
        let watched: Vec<(String, i32)> = names
            .iter()
            .map(|name| ((*name).to_owned(), self.lock().get(&key(app, name)).and_then(|s| s.pid()).unwrap_or(-1)))
            .collect();
        self.check_staying_up(paths, app, &watched, out).await
    }

    /// Stops every service of every app (the instance is shutting down).
    pub async fn stop_all(&self, out: &OutputStream) {
        let apps: std::collections::BTreeSet<String> =
            self.lock().keys().filter_map(|k| k.split_once('/').map(|(app, _)| app.to_owned())).collect();
        for app in apps {
            self.stop_app(&app, out).await;
        }
    }

    /// Stops all of an app's services.
    pub async fn stop_app(&self, app: &str, out: &OutputStream) {
        self.stop_unwanted(app, &[], out).await;
    }

    /// Stops an app's services that are not among `specs` (celerybeat, moved to another
    /// instance), leaving the others running.
    pub async fn stop_unlisted(&self, app: &str, specs: &[ServiceSpec], out: &OutputStream) {
        self.stop_unwanted(app, specs, out).await;
    }

    async fn stop_unwanted(&self, app: &str, keep: &[ServiceSpec], out: &OutputStream) {
        let unwanted: Vec<(String, Arc<Service>)> = self
            .lock()
            .iter()
            .filter(|(k, s)| k.starts_with(&format!("{app}/")) && !keep.iter().any(|spec| spec.name == s.spec.name))
            .map(|(k, s)| (k.clone(), s.clone()))
            .collect();
        for (k, service) in unwanted {
            service.stop(STOP_GRACE).await;
            out.push(&format!("stopped {}\n", service.spec.name));
            self.lock().remove(&k);
        }
    }
}

/// One supervised service, read for a heartbeat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceSummary {
    /// Its app.
    pub app: String,
    /// Its name.
    pub name: String,
    /// Its pid, state and counters.
    pub snapshot: Snapshot,
}

/// How long a service started outside a deploy's restart (no restart policy) has to answer its
/// ready check.
const READY_DEADLINE: Duration = Duration::from_secs(120);

/// Waits until a started service with a ready check (Solr's ping) answers it, so what follows
/// (the deploy, the Configure) goes on only with it serving.
async fn wait_ready(spec: &ServiceSpec, deadline: Duration, out: &OutputStream) -> Result<(), String> {
    let Some(ready) = &spec.ready else { return Ok(()) };
    match health::wait_healthy(&ready.address, "GET", &ready.path, deadline).await {
        Ok(took) => {
            out.push(&format!("{} answers {} after {:.1} s\n", spec.name, ready.path, took.as_secs_f64()));
            Ok(())
        }
        Err(last) => Err(format!(
            "{} did not answer GET http://{}{} within {} s: {last}",
            spec.name,
            ready.address,
            ready.path,
            deadline.as_secs()
        )),
    }
}

/// The time of day (UTC) with milliseconds, for restart lines in the deploy log.
fn clock() -> String {
    let t = time::OffsetDateTime::now_utc();
    format!("{:02}:{:02}:{:02}.{:03}", t.hour(), t.minute(), t.second(), t.millisecond())
}

/// The last lines of a service's log, for an error message.
fn log_tail(paths: &AppPaths, name: &str) -> String {
    let path = paths.logs().join(format!("{name}.log"));
    let text = std::fs::read(&path).map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
    let lines: Vec<&str> = text.lines().rev().take(LOG_TAIL_LINES).collect();
    if lines.is_empty() {
        return String::new();
    }
    let tail: Vec<&str> = lines.into_iter().rev().collect();
    format!("; the last lines of {}:\n{}", path.display(), tail.join("\n"))
}

/// Where a service's state file lives.
pub fn state_file(paths: &AppPaths, name: &str) -> PathBuf {
    paths.run().join(format!("{name}.json"))
}
