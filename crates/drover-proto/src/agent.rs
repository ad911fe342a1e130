//! The agent protocol: enrollment, hello, heartbeats, the command long-poll and reports.
//!
//! Agents only make outbound calls. Every call after enrollment carries the agent's own
//! credential, which only reaches its own instance's commands.

use std::collections::BTreeMap;

use drover_core::broker::BrokerPlan;
use drover_core::deploy::plan::BuildPlan;
use drover_core::frontend::FrontendPlan;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What an agent knows about its host.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostFacts {
    /// The address the instance's services bind.
    pub address: String,
    /// CPUs.
    pub cpu_count: u32,
    /// Memory in bytes.
    pub memory_bytes: u64,
    /// The agent's version.
    pub agent_version: String,
    /// The agent's process id (local instances are re-adopted by it).
    pub pid: u32,
}

/// `POST /agent/enroll`, authorised by the join token.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrollRequest {
    /// The instance the server created for this agent (local instances, or ones pre-created with
    /// `--provider registered`).
    #[serde(default)]
    pub instance: Option<String>,
    /// The stack to join (required with `instance` or to register a new host).
    pub stack: String,
    /// Layers for a newly registered host.
    #[serde(default)]
    pub layers: Vec<String>,
    /// The host's facts.
    pub facts: HostFacts,
}

/// The answer to enrollment: the agent's own credential, shown once.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EnrollResponse {
    /// The stack.
    pub stack: String,
    /// The instance's hostname.
    pub hostname: String,
    /// `drv1:agent:<id>:<secret>`: the agent's credential for every later call.
    pub credential: String,
}

/// `POST /agent/hello`: the agent has started.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hello {
    /// The host's facts.
    pub facts: HostFacts,
}

/// `POST /agent/heartbeat`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Heartbeat {
    /// CPU use, percent of all CPUs.
    pub cpu_percent: f64,
    /// Memory use, percent.
    pub memory_percent: f64,
    /// One-minute load average.
    pub load_1m: f64,
    /// CPUs.
    pub cpu_count: u32,
    /// Memory in bytes.
    pub memory_bytes: u64,
    /// The services the agent supervises (at most [`MAX_SERVICES`]); older agents send none.
    #[serde(default, deserialize_with = "bounded_services")]
    pub services: Vec<ServiceReport>,
}

/// The most services one heartbeat may report.
pub const MAX_SERVICES: usize = 64;

/// The longest app or service name a heartbeat may carry.
pub const MAX_SERVICE_NAME: usize = 64;

/// One supervised service, as its agent sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceReport {
    /// The app it belongs to (`.frontend` for the frontend's nginx and HAProxy).
    pub app: ServiceName,
    /// The service (`zeoserver`, `client1`, `nginx`, ...).
    pub name: ServiceName,
    /// Whether it runs.
    pub state: ServiceRunState,
    /// Its process (the leader of its group), while it runs.
    #[serde(default)]
    pub pid: Option<u32>,
    /// When its current process started, Unix milliseconds on the agent's clock.
    #[serde(default)]
    pub started_at_ms: Option<i64>,
    /// How often the supervisor restarted it after it exited on its own (since the agent started).
    #[serde(default)]
    pub restarts: u32,
}

/// A supervised service's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceRunState {
    /// Its process is alive.
    Running,
    /// It exited on its own; the supervisor starts it again after a backoff.
    Restarting,
    /// It is being stopped (or was).
    Stopped,
}

impl ServiceRunState {
    /// The name shown to users.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Restarting => "restarting",
            Self::Stopped => "stopped",
        }
    }
}

/// An app or service name in a heartbeat: 1 to [`MAX_SERVICE_NAME`] characters of `a-z 0-9 _ . -`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ServiceName(String);

impl ServiceName {
    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ServiceName {
    type Error = String;

    fn try_from(name: String) -> Result<Self, String> {
        if name.is_empty() || name.len() > MAX_SERVICE_NAME {
            return Err(format!("{name:?} must have 1 to {MAX_SERVICE_NAME} characters"));
        }
        if let Some(c) = name.chars().find(|c| !matches!(c, 'a'..='z' | '0'..='9' | '_' | '.' | '-')) {
            return Err(format!("{name:?} has {c:?}; use only a-z, 0-9, '_', '.' and '-'"));
        }
        Ok(Self(name))
    }
}

impl From<ServiceName> for String {
    fn from(name: ServiceName) -> Self {
        name.0
    }
}

impl std::fmt::Display for ServiceName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Reads a heartbeat's services, refusing more than [`MAX_SERVICES`] (so one report cannot grow
/// the instance's row without bound).
fn bounded_services<'de, D: serde::Deserializer<'de>>(de: D) -> Result<Vec<ServiceReport>, D::Error> {
    let services = Vec::<ServiceReport>::deserialize(de)?;
    if services.len() > MAX_SERVICES {
        return Err(serde::de::Error::custom(format!(
            "{} services reported; at most {MAX_SERVICES} are accepted",
            services.len()
        )));
    }
    Ok(services)
}

/// What a command asks the agent to do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum CommandSpec {
    /// Run a program (no shell) with its arguments.
    Exec {
        /// Program and arguments.
        argv: Vec<String>,
        /// Kill it after this many seconds.
        timeout_secs: Option<u64>,
    },
    /// Act on an app: deploy, roll back, start, stop, restart, undeploy.
    App {
        /// What to do.
        action: AppAction,
        /// The app.
        app: Box<AppSpec>,
        /// What this instance builds and runs.
        plan: Box<BuildPlan>,
        /// Kill the work after this many seconds.
        timeout_secs: Option<u64>,
        /// The stack configuration (written for hooks; templates read it as `config`).
        #[serde(default)]
        stack_config: Value,
        /// Hooks of the instance's layers to run after a successful deploy or undeploy.
        #[serde(default)]
        hooks: Vec<Hook>,
    },
    /// Download the server's binary (`GET /agent/binary`), check it, install it and exec it
    /// (`drover agent upgrade`). The result is journaled before the exec and reported by the new
    /// process, so a successful result means the agent is back on the new binary.
    AgentUpgrade {
        /// What the server serves: its SHA-256, size and the version it reports.
        binary: crate::upgrade::ServedBinary,
        /// Fail after this many seconds (the download, the checks, waiting for other commands).
        timeout_secs: Option<u64>,
    },
    /// Stream service logs (`shared/var/log/<service>.log` of every app) and the agent's own log,
    /// one wire line each (`drover_core::service_logs::WireLine`).
    Logs {
        /// Only these services (`client1`, or `<app>/client1`; `agent` for the agent's log); empty:
        /// all.
        #[serde(default)]
        services: Vec<String>,
        /// Only lines of the last this many seconds (by the agent's clock).
        #[serde(default)]
        since_secs: Option<u64>,
        /// At most this many of the newest lines of each source, before following.
        #[serde(default)]
        lines: Option<u32>,
        /// Then follow new lines for at most this many seconds (none: do not follow).
        #[serde(default)]
        follow_secs: Option<u64>,
    },
    /// Run a lifecycle event's recipes with the stack configuration.
    Lifecycle {
        /// The event.
        event: LifecycleEvent,
        /// The stack configuration the event delivers.
        stack_config: Value,
        /// Kill the event's work after this many seconds.
        timeout_secs: Option<u64>,
        /// Configure: the apps this instance runs, re-rendered and rebuilt where their
        /// `deploy.cfg` changed.
        #[serde(default)]
        apps: Vec<AppWork>,
        /// The hooks of the instance's layers for this event.
        #[serde(default)]
        hooks: Vec<Hook>,
        /// Setup and Configure on a frontend instance: the nginx and HAProxy it runs.
        #[serde(default)]
        frontend: Option<Box<FrontendPlan>>,
        /// Setup and Configure on a `celery_broker` instance: the Redis server it runs.
        #[serde(default)]
        broker: Option<BrokerPlan>,
    },
}

/// A lifecycle event an agent runs (reference.md section 2; Deploy and Undeploy are app actions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LifecycleEvent {
    /// The instance has booted.
    Setup,
    /// An instance entered or left `online`, or the user asked.
    Configure,
    /// The instance is about to stop.
    Shutdown,
}

impl LifecycleEvent {
    /// The event of a lifecycle deployment kind; none for other kinds.
    pub fn of(kind: drover_core::DeploymentKind) -> Option<Self> {
        use drover_core::DeploymentKind as K;
        match kind {
            K::Setup => Some(Self::Setup),
            K::Configure => Some(Self::Configure),
            K::Shutdown => Some(Self::Shutdown),
            _ => None,
        }
    }

    /// The deployment kind that runs it.
    pub fn kind(self) -> drover_core::DeploymentKind {
        use drover_core::DeploymentKind as K;
        match self {
            Self::Setup => K::Setup,
            Self::Configure => K::Configure,
            Self::Shutdown => K::Shutdown,
        }
    }

    /// Its name, as hooks and logs show it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Setup => "setup",
            Self::Configure => "configure",
            Self::Shutdown => "shutdown",
        }
    }
}

impl std::fmt::Display for LifecycleEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What to do with an app on one instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum AppAction {
    /// Build what changed and switch `current` (reference.md section 3).
    Deploy,
    /// Point `current` at an older release and restart.
    Rollback {
        /// The release; by default the newest good one before `current`.
        to: Option<String>,
    },
    /// Start the app's services.
    Start,
    /// Stop the app's services.
    Stop,
    /// Restart the app's services, one at a time.
    Restart,
    /// Stop the services and remove the app's tree.
    Undeploy,
    /// Re-render `deploy.cfg` for the current release's commit; rebuild and restart only when it
    /// changed (the Configure event).
    Configure,
}

/// An app and its plan, as a Configure event carries them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppWork {
    /// The app.
    pub app: AppSpec,
    /// What this instance builds and runs for it.
    pub plan: BuildPlan,
}

/// A layer's hook for one event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hook {
    /// The layer it belongs to.
    pub layer: String,
    /// The event.
    pub event: String,
    /// The shell command.
    pub command: String,
    /// The app whose current release it runs in, when the layer has one deployed here.
    pub app: Option<String>,
}

/// The app as an agent needs it (secret values come from `GET /agent/commands/{id}/secrets`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppSpec {
    /// Its name (its directory under `srv/www`).
    pub name: String,
    /// Its git repository.
    pub repository: String,
    /// Branch, tag or SHA as the user named it; none: the repository's default branch.
    pub revision: Option<String>,
    /// The commit to build, resolved once by the server for the whole deployment (or the commit
    /// the app is pinned to). None only for actions that build nothing new.
    #[serde(default)]
    pub commit: Option<String>,
    /// Releases are full git checkouts (submodules, history for `git describe` and
    /// setuptools-scm) instead of an export of the commit's files.
    #[serde(default)]
    pub full_checkout: bool,
    /// Plain environment variables.
    pub environment: BTreeMap<String, String>,
    /// Releases kept.
    pub keep_releases: u32,
    /// Build even when nothing changed.
    pub always_build: bool,
    /// Extra `bin/buildout` arguments.
    pub buildout_flags: String,
    /// The zc.buildout version to bootstrap ("": unpinned).
    pub buildout_version: String,
    /// How restarts are paced: `restart_delay`, `max_unavailable`, the drain and the health check.
    #[serde(default)]
    pub restart: drover_core::deploy::restart_plan::RestartPolicy,
    /// Whether the app has a deploy key.
    pub has_deploy_key: bool,
    /// Roll this instance back when its restarted clients do not become healthy.
    #[serde(default)]
    pub auto_revert: bool,
}

/// `GET /agent/commands/{id}/secrets`: the secrets of the command's app.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AppSecrets {
    /// The SSH deploy key.
    pub deploy_key: Option<String>,
    /// Secret environment variables.
    pub environment: BTreeMap<String, String>,
}

/// A release as the agent reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReleaseRecord {
    /// Its directory name.
    pub name: String,
    /// The commit it was built from.
    pub sha: String,
    /// building, built, failed or bad.
    pub outcome: drover_core::deploy::history::Outcome,
    /// Why it was built: new_revision, config_changed or forced_rebuild.
    pub case: String,
    /// SHA-256 of its deploy.cfg.
    pub config_hash: String,
    /// Its deploy.cfg.
    pub deploy_cfg: String,
    /// When its build started (Unix ms).
    pub created_at_ms: i64,
    /// When its build ended (Unix ms).
    pub finished_at_ms: Option<i64>,
}

/// What a Configure event reports: each app's releases.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LifecycleReport {
    /// The apps it configured.
    pub apps: Vec<AppReport>,
}

/// What an app command reports besides success: the instance's releases and services.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppReport {
    /// The app.
    pub app: String,
    /// The current release.
    pub current: Option<String>,
    /// Every kept release, oldest first.
    pub releases: Vec<ReleaseRecord>,
    /// What this deploy did: new_revision, config_changed, forced_rebuild, unchanged, rollback, ...
    pub outcome: String,
}

/// A command for the agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentCommand {
    /// The command's id; the agent never runs one id twice.
    pub id: i64,
    /// What to do.
    pub spec: CommandSpec,
    /// A random value given to this command alone: ids come back after the server's database is
    /// restored from an older copy, so the agent tells commands apart by id and nonce.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// The most output the server keeps for a command, in bytes; the agent buffers no more
    /// (none: the agent's default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_max_bytes: Option<u64>,
}

/// `GET /agent/commands/next?wait=S`: the next pending command, or none after `wait` seconds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NextCommand {
    /// The command, if one arrived.
    pub command: Option<AgentCommand>,
    /// Requests for this instance's HAProxy (frontend instances only), to act on at once.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub frontend_requests: Vec<crate::relay::FrontendRequest>,
}

/// `GET /agent/commands/unfinished`: commands the agent took but the server has no result for.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Unfinished {
    /// The commands.
    pub commands: Vec<AgentCommand>,
}

/// `POST /agent/commands/{id}/restart-slot`: take one of the deployment's restart slots before a
/// serving client goes down (`wait` seconds at most); `DELETE` gives it back.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RestartSlotRequest {
    /// The service that restarts (`client1`, …).
    pub service: String,
    /// Seconds to wait for a free slot (at most 25).
    #[serde(default)]
    pub wait: u64,
}

/// The answer to a restart-slot request.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RestartSlot {
    /// Whether the slot is now held by this command.
    pub granted: bool,
    /// Who holds the deployment's slots (`instance/service`), when not granted.
    #[serde(default)]
    pub holders: Vec<String>,
}

/// `POST /agent/commands/{id}/start`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartReport {
    /// When the process started, in Unix milliseconds on the agent's clock.
    pub started_at_ms: i64,
}

/// `POST /agent/commands/{id}/output`: log text to append at `offset`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputAppend {
    /// Byte offset in the command's log where `data` starts.
    pub offset: u64,
    /// Log text.
    pub data: String,
    /// When `offset` is past the server's length: why the bytes in between are gone. The server
    /// records them as one marker line instead of refusing the gap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gap: Option<OutputGap>,
    /// The command's nonce ([`AgentCommand::nonce`]); a command with the same id but another
    /// nonce is refused (409).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
}

/// Why part of a command's output never reached the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutputGap {
    /// Cut to keep the output under its cap (the tail is kept).
    Cut,
    /// The server no longer had text it had acknowledged (its database was restored, or lost
    /// commits in a crash) and the agent had already let it go.
    Lost,
}

/// The answer to an output append: how much of the log the server holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OutputAck {
    /// The log's length on the server; the agent sends from here next.
    pub length: u64,
    /// The command was cancelled: stop it (streams such as `drover logs --follow` end).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stop: bool,
}

/// `POST /agent/commands/{id}/result`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResultReport {
    /// Whether the command succeeded.
    pub success: bool,
    /// The exit code, when the process exited.
    pub exit_code: Option<i32>,
    /// Why it failed without an exit code (killed, could not start, interrupted).
    pub reason: Option<String>,
    /// When it finished, in Unix milliseconds on the agent's clock.
    pub finished_at_ms: i64,
    /// What the command reports besides success (an [`AppReport`] for app commands).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
    /// The command's nonce ([`AgentCommand::nonce`]); a result for the same id but another
    /// nonce is refused (409), so an old result never ends a new command.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn heartbeat(services: &str) -> Result<Heartbeat, String> {
        let raw = format!(
            r#"{{"cpu_percent": 1.0, "memory_percent": 2.0, "load_1m": 0.5, "cpu_count": 1, "memory_bytes": 1,
                "services": {services}}}"#
        );
        let de = &mut serde_json::Deserializer::from_str(&raw);
        serde_path_to_error::deserialize(de).map_err(|e| format!("{}: {}", e.path(), e.inner()))
    }

    fn one(app: &str, name: &str) -> String {
        format!(
            r#"{{"app": "{app}", "name": "{name}", "state": "running", "pid": 7, "started_at_ms": 1, "restarts": 0}}"#
        )
    }

    #[test]
    fn heartbeat_services_are_checked() {
        let ok = heartbeat(&format!("[{}]", one(".frontend", "haproxy"))).unwrap();
        assert_eq!(ok.services[0].name.as_str(), "haproxy");
        assert_eq!(ok.services[0].state, ServiceRunState::Running);
        let cases = [
            (format!("[{}]", one("site", "Client1")), "services[0].name", "'C'"),
            (format!("[{}]", one("", "client1")), "services[0].app", "1 to 64"),
            (format!("[{}]", one("site", &"a".repeat(65))), "services[0].name", "1 to 64"),
            (r#"[{"app": "site", "name": "c", "state": "dead"}]"#.to_owned(), "services[0].state", "unknown variant"),
        ];
        for (services, path, message) in cases {
            let err = heartbeat(&services).unwrap_err();
            assert!(err.starts_with(path) && err.contains(message), "{services}: {err}");
        }
        let many = vec![one("site", "c"); MAX_SERVICES + 1].join(",");
        assert!(heartbeat(&format!("[{many}]")).unwrap_err().contains("at most 64"));
        let older: Heartbeat = serde_json::from_str(
            r#"{"cpu_percent": 1.0, "memory_percent": 2.0, "load_1m": 0.5, "cpu_count": 1, "memory_bytes": 1}"#,
        )
        .unwrap();
        assert!(older.services.is_empty(), "an older agent sends no services");
    }
}
