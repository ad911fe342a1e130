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
use service::Service;
pub use service::{ServiceState, Snapshot};

use crate::app::paths::AppPaths;
use crate::frontend::gate::Gate;
use crate::output::OutputStream;

/// How long a service has between SIGTERM and SIGKILL.
pub const STOP_GRACE: Duration = Duration::from_secs(15);

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
                        service.adopt(saved.pid);
                        self.lock().insert(key(&app_name, &saved.spec.name), service);
                    }
                    Err(e) => tracing::warn!("failed to read {}: {e}", state.path().display()),
                }
            }
        }
    }

    /// Makes an app's services match `specs` after `current` changed: services no longer wanted
    /// stop; the others restart one at a time (with `restart_delay` between clients that were
    /// already running); new ones start at once. Behind a frontend, each running client is
    /// drained first and made ready again only once healthy (`gate`). A server (the ZEO server)
    /// whose script and configuration are the same in the new release keeps running, unless
    /// `restart_servers`.
    #[allow(clippy::too_many_arguments)]
    pub async fn restart_app(
        &self,
        paths: &AppPaths,
        app: &str,
        specs: &[ServiceSpec],
        env: &BTreeMap<String, String>,
        restart_delay: Duration,
        gate: Option<&Gate>,
        restart_servers: bool,
        out: &OutputStream,
    ) -> Result<(), String> {
        self.stop_unwanted(app, specs, out).await;
        let mut restarted_a_client = false;
        for spec in specs {
            let existing = self.lock().get(&key(app, &spec.name)).cloned();
            let was_running = existing.as_ref().is_some_and(|s| s.pid().is_some());
            if let Some(old) = existing.as_ref().filter(|_| was_running && !spec.client && !restart_servers)
                && old.spec == *spec
                && old.fingerprint().is_some()
                && old.fingerprint() == fingerprint::of(paths, spec)
            {
                out.push(&format!(
                    "{} runs the same script and configuration in the new release: not restarted\n",
                    spec.name
                ));
                continue;
            }
            if was_running && spec.client && restarted_a_client && !restart_delay.is_zero() {
                out.push(&format!(
                    "waiting {:.1} s (restart_delay) before restarting {}\n",
                    restart_delay.as_secs_f64(),
                    spec.name
                ));
                tokio::time::sleep(restart_delay).await;
            }
            // Only a client that was serving is drained and gated; a new one starts at once.
            let gated = gate.filter(|_| spec.client && was_running);
            if let Some(gate) = gated {
                gate.drain(&spec.name, out).await;
            }
            if let Some(old) = existing {
                old.stop(STOP_GRACE).await;
            }
            let service = Service::new(paths.clone(), spec.clone(), env.clone());
            let pid = service.start()?;
            let verb = if was_running { "restarted" } else { "started" };
            out.push(&format!("{} {verb} {} (pid {pid})\n", clock(), spec.name));
            self.lock().insert(key(app, &spec.name), service);
            if let Some(gate) = gated {
                gate.ready(&spec.name, out).await?;
            }
            restarted_a_client |= was_running && spec.client;
        }
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
    pub fn start_app(
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
            if self.lock().contains_key(&key(app, &spec.name)) {
                out.push(&format!("{} already runs\n", spec.name));
                continue;
            }
            let service = Service::new(paths.clone(), spec.clone(), env.clone());
            let pid = service.start()?;
            out.push(&format!("started {} (pid {pid})\n", spec.name));
            self.lock().insert(key(app, &spec.name), service);
        }
        Ok(())
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

/// The time of day (UTC) with milliseconds, for restart lines in the deploy log.
fn clock() -> String {
    let t = time::OffsetDateTime::now_utc();
    format!("{:02}:{:02}:{:02}.{:03}", t.hour(), t.minute(), t.second(), t.millisecond())
}

/// Where a service's state file lives.
pub fn state_file(paths: &AppPaths, name: &str) -> PathBuf {
    paths.run().join(format!("{name}.json"))
}
