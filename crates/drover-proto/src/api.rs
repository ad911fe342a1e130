//! Request and response bodies of the user-facing API.
//!
//! Times are RFC 3339 UTC strings with milliseconds.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `POST /stacks`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateStack {
    /// The stack's name.
    #[schema(pattern = "^[a-z0-9][a-z0-9_-]{0,31}$")]
    pub name: String,
    /// The stack's Custom JSON (an object).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub custom_json: Option<Value>,
}

/// A stack.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Stack {
    /// The stack's name.
    pub name: String,
    /// Its Custom JSON.
    pub custom_json: Value,
    /// When it was created.
    pub created_at: String,
}

/// `POST /stacks/{stack}/layers`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateLayer {
    /// The layer's shortname.
    #[schema(pattern = "^[a-z0-9][a-z0-9_-]{0,31}$")]
    pub shortname: String,
    /// Its type: custom, zeoserver, plone_instances or frontend.
    #[serde(rename = "type")]
    #[schema(schema_with = crate::schema::layer_type)]
    pub layer_type: String,
    /// Its Custom JSON (an object).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub custom_json: Option<Value>,
    /// Whether lost instances are restarted (default true).
    #[serde(default)]
    pub auto_healing: Option<bool>,
    /// Hooks by lifecycle event (setup, configure, deploy, undeploy, shutdown): a shell command
    /// run in the current release of the layer's app, with `DROVER_STACK_CONFIG` set.
    #[serde(default)]
    pub hooks: BTreeMap<String, String>,
}

/// `PATCH /stacks/{stack}/layers/{layer}`: what to change.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateLayer {
    /// Replaces the hooks.
    #[serde(default)]
    pub hooks: Option<BTreeMap<String, String>>,
    /// Sets auto-healing.
    #[serde(default)]
    pub auto_healing: Option<bool>,
}

/// A layer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Layer {
    /// The stack it belongs to.
    pub stack: String,
    /// Its shortname.
    pub shortname: String,
    /// Its type.
    #[serde(rename = "type")]
    pub layer_type: String,
    /// Its Custom JSON.
    pub custom_json: Value,
    /// Whether lost instances are restarted.
    pub auto_healing: bool,
    /// Hooks by lifecycle event.
    #[serde(default)]
    pub hooks: BTreeMap<String, String>,
}

/// `PUT /stacks/{stack}/custom_json` and `PUT /stacks/{stack}/layers/{layer}/custom_json`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetCustomJson {
    /// The new document (an object). Secret values shown as `<redacted>` keep their stored value.
    #[schema(value_type = Object)]
    pub custom_json: Value,
    /// Why it changed (kept in the history).
    #[serde(default)]
    pub comment: Option<String>,
    /// Run Configure on every online instance afterwards.
    #[serde(default)]
    pub configure: bool,
}

/// `POST /stacks/{stack}/config/revert`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevertConfig {
    /// The layer whose Custom JSON to revert; none: the stack's.
    #[serde(default)]
    pub layer: Option<String>,
    /// The version to bring back.
    pub version: i64,
    /// Why.
    #[serde(default)]
    pub comment: Option<String>,
    /// Run Configure on every online instance afterwards.
    #[serde(default)]
    pub configure: bool,
}

/// The answer to a Custom JSON change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ConfigChange {
    /// `stack` or `layer:<shortname>`.
    pub scope: String,
    /// The version now in force.
    pub version: i64,
    /// Whether the document differs from the one it replaced.
    pub changed: bool,
    /// Likely typos of known keys (the document is kept).
    pub warnings: Vec<ConfigWarning>,
    /// The Configure deployment started, when asked for.
    pub configure_deployment: Option<i64>,
}

/// `POST /stacks/{stack}/custom_json/check`: a document checked as a change would be, without
/// storing it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckCustomJson {
    /// The document (an object). Secret values shown as `<redacted>` stand for the stored ones.
    #[schema(value_type = Object)]
    pub custom_json: Value,
    /// A layer's document instead of the stack's.
    #[serde(default)]
    pub layer: Option<String>,
}

/// The answer to a check: what saving the document would change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CustomJsonCheck {
    /// `stack` or `layer:<shortname>`.
    pub scope: String,
    /// Whether it differs from the document in force.
    pub changed: bool,
    /// Likely typos of known keys (a save would keep the document).
    pub warnings: Vec<ConfigWarning>,
    /// A unified diff from the document in force to this one, secrets redacted.
    pub diff: String,
}

/// A warning about a Custom JSON document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ConfigWarning {
    /// The JSON path.
    pub path: String,
    /// What it says.
    pub message: String,
}

/// One version of a stack's or a layer's Custom JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ConfigVersion {
    /// `stack` or `layer:<shortname>`.
    pub scope: String,
    /// Its number (1 is the first).
    pub version: i64,
    /// The document (secrets redacted).
    pub custom_json: Value,
    /// Why it changed.
    pub comment: Option<String>,
    /// When.
    pub created_at: String,
}

/// `GET /stacks/{stack}/frontends`: where the site and the HAProxy stats page answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FrontendView {
    /// The frontend instance.
    pub hostname: String,
    /// The site through nginx, e.g. `http://127.0.0.2/`.
    pub url: String,
    /// The stats page, when enabled.
    pub stats_url: Option<String>,
    /// Its user.
    pub stats_user: String,
    /// Its password (admin token only).
    pub stats_password: String,
    /// HAProxy's servers: `<hostname>-client<n>` at `address:port`.
    pub servers: Vec<String>,
    /// The certificate nginx serves on HTTPS (`nginx_plone.ssl`); none without HTTPS.
    #[serde(default)]
    pub certificate: Option<FrontendCertificate>,
}

/// The certificate a frontend serves, and how close it is to its end.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FrontendCertificate {
    /// The frontend instance.
    pub hostname: String,
    /// The certificate's end (RFC 3339, UTC).
    pub not_after: String,
    /// Whole days left (negative once expired).
    pub days_left: i64,
    /// Whether its end has passed (clients refuse it).
    pub expired: bool,
    /// `ok`, `expiring` (fewer than 14 days left) or `expired`.
    pub state: String,
    /// The names it is for (subject alternative names).
    pub names: Vec<String>,
}

/// `GET /stacks/{stack}/frontends/backend`: HAProxy's backend as one frontend sees it now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FrontendBackend {
    /// The frontend instance.
    pub frontend: String,
    /// Each server Drover configured in its `plone` backend.
    pub servers: Vec<BackendServerState>,
}

/// One server of a frontend's backend, as its HAProxy reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BackendServerState {
    /// `<hostname>-client<n>`.
    pub server: String,
    /// `address:port`.
    pub address: String,
    /// `UP`, `DOWN`, `DRAIN`, `MAINT`, `no check`, …; none when the frontend could not tell.
    pub status: Option<String>,
    /// Requests in flight.
    pub sessions: Option<u64>,
    /// Why the state is unknown (the frontend's agent did not answer, or HAProxy did not know it).
    pub error: Option<String>,
}

/// `GET /stacks/{stack}/config?instance=H`: the configuration in force.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EffectiveConfig {
    /// The instance it is for; none: the stack level (defaults, apps and stack Custom JSON).
    pub instance: Option<String>,
    /// The configuration (secrets redacted).
    pub config: Value,
    /// Likely typos in the documents merged.
    pub warnings: Vec<ConfigWarning>,
}

/// `POST /stacks/{stack}/instances`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateInstance {
    /// Layers the instance belongs to (at least one).
    pub layers: Vec<String>,
    /// `local` (the server starts it), `ec2` (the server launches an EC2 machine with the
    /// layer's settings) or `registered` (an agent joins from another host); by default the
    /// first layer's provider (`drover layer provider`), else `local`.
    #[serde(default)]
    pub provider: Option<String>,
    /// Its hostname; by default the first layer's name and the lowest free number.
    #[serde(default)]
    pub hostname: Option<String>,
    /// For local instances: the CPU count the instance reports (default: this machine's).
    #[serde(default)]
    pub cpu_count: Option<u32>,
    /// `24/7` (default: started at once), `time` or `load` (left stopped: its schedule or its
    /// layer's load-based rule starts it).
    #[serde(default)]
    #[schema(pattern = "^(24/7|time|load)$")]
    pub scaling: Option<String>,
}

/// Metrics from the latest heartbeat.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Metrics {
    /// CPU use, percent of all CPUs.
    pub cpu_percent: f64,
    /// Memory use, percent.
    pub memory_percent: f64,
    /// One-minute load average.
    pub load_1m: f64,
}

/// An instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Instance {
    /// Its hostname.
    pub hostname: String,
    /// Its stack.
    pub stack: String,
    /// Its layers.
    pub layers: Vec<String>,
    /// local, registered or ec2.
    pub provider: String,
    /// Its status (reference names: online, setup_failed, connection_lost, ...).
    pub status: String,
    /// Its private address.
    pub address: Option<String>,
    /// CPUs.
    pub cpu_count: Option<u32>,
    /// Memory in bytes.
    pub memory_bytes: Option<u64>,
    /// The agent's version.
    pub agent_version: Option<String>,
    /// When the last heartbeat arrived.
    pub last_heartbeat: Option<String>,
    /// The latest metrics.
    pub metrics: Option<Metrics>,
    /// When it was created.
    pub created_at: String,
    /// Its supervised services, from the latest heartbeat that reported them.
    #[serde(default)]
    pub services: Vec<Service>,
    /// `24/7`, `time` or `load` (`drover instance update --scaling`).
    #[serde(default = "always_on")]
    pub scaling: String,
    /// Its machine's id at its provider (an EC2 instance id), once it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub machine_id: Option<String>,
}

fn always_on() -> String {
    "24/7".to_owned()
}

/// A supervised service of an instance, as its agent last reported it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Service {
    /// Its app (`.frontend` for the frontend's nginx and HAProxy).
    pub app: String,
    /// The service (`zeoserver`, `client1`, ...).
    pub name: String,
    /// running, restarting or stopped.
    pub state: String,
    /// Its process, while it runs.
    pub pid: Option<u32>,
    /// When its current process started.
    pub started_at: Option<String>,
    /// Seconds since then.
    pub uptime_secs: Option<u64>,
    /// How often the supervisor restarted it after it exited on its own.
    pub restarts: u32,
}

/// `POST /stacks/{stack}/deployments`: run a command (`execute`) or act on an app (`deploy`,
/// `rollback`, `start`, `stop`, `restart`, `undeploy`) on a set of instances.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateDeployment {
    /// What to do.
    #[schema(schema_with = crate::schema::deployment_kind)]
    pub kind: String,
    /// The app, for app kinds.
    #[serde(default)]
    pub app: Option<String>,
    /// Custom JSON for this deployment only (highest precedence), e.g.
    /// `{"deploy": {"site": {"scm": {"revision": "v2"}}}}`.
    #[serde(default)]
    pub custom_json: Option<Value>,
    /// Instances per batch: none = all at once (parallel), 1 = rolling.
    #[serde(default)]
    pub batch_size: Option<u32>,
    /// For `rollback`: the release to go to (default: the previous good one).
    #[serde(default)]
    pub rollback_to: Option<String>,
    /// Seconds to wait for the app's lock when another deploy holds it (default 0: refuse).
    #[serde(default)]
    pub lock_wait_secs: Option<u64>,
    /// For `execute`: the program and its arguments.
    #[serde(default)]
    pub command: Vec<String>,
    /// Only instances in these layers.
    #[serde(default)]
    pub layers: Vec<String>,
    /// Only these instances.
    #[serde(default)]
    pub instances: Vec<String>,
    /// A note for the history.
    #[serde(default)]
    pub comment: Option<String>,
    /// For `execute`: kill the command after this many seconds.
    #[serde(default)]
    pub timeout_secs: Option<u64>,
    /// For deploys: the commit a review of the plan showed (`POST …/deployments/plan`); the deploy
    /// is refused (409) when the revision resolves to another one now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect_commit: Option<String>,
    /// For `logs`: what to stream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logs: Option<LogsRequest>,
}

/// What a `logs` deployment streams from each instance.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LogsRequest {
    /// Only these services (`client1`, or `<app>/client1`; `agent` for the agent's own log).
    #[serde(default)]
    pub services: Vec<String>,
    /// Only lines of the last this many seconds.
    #[serde(default)]
    pub since_secs: Option<u64>,
    /// At most this many of the newest lines of each source (default 10 without `since_secs`).
    #[serde(default)]
    pub lines: Option<u32>,
    /// Follow new lines for at most this many seconds (none: do not follow; at most one day).
    #[serde(default)]
    pub follow_secs: Option<u64>,
}

/// `POST /stacks/{stack}/deployments/plan`: what an app deployment would do, without doing it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DeploymentPlan {
    /// The app.
    pub app: String,
    /// The revision asked for (none: the app's revision or default branch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    /// The one commit every instance would build (deploys); pass it back as `expect_commit`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// The instances that would run the app action, batch by batch, in order.
    pub batches: Vec<Vec<String>>,
    /// Other targeted instances, which would run Configure.
    #[serde(default)]
    pub configure: Vec<String>,
    /// Targeted instances that would be skipped, with why.
    #[serde(default)]
    pub skipped: Vec<SkippedInstance>,
}

/// An instance a deployment would skip.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SkippedInstance {
    /// The instance.
    pub instance: String,
    /// Why it is skipped.
    pub reason: String,
}

/// A deployment: one user action over a set of instances.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Deployment {
    /// Its id.
    pub id: i64,
    /// Its stack.
    pub stack: String,
    /// What it does.
    pub kind: String,
    /// running, successful or failed.
    pub status: String,
    /// The user's note.
    pub comment: Option<String>,
    /// For `execute`, the command.
    pub command: Vec<String>,
    /// For app kinds, the app.
    #[serde(default)]
    pub app: Option<String>,
    /// For deploys, the revision asked for (none: the app's revision or default branch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    /// For deploys, the one commit every instance of the deployment builds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// When it was created.
    pub created_at: String,
    /// When its last command finished.
    pub finished_at: Option<String>,
    /// Its per-instance commands.
    pub commands: Vec<Command>,
}

/// The per-instance part of a deployment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Command {
    /// Its id.
    pub id: i64,
    /// The deployment it belongs to.
    pub deployment_id: i64,
    /// The instance it runs on.
    pub instance: String,
    /// pending, acknowledged, running, successful, failed, skipped or superseded.
    pub status: String,
    /// The exit code, once finished.
    pub exit_code: Option<i32>,
    /// Why it was skipped or failed without an exit code.
    pub reason: Option<String>,
    /// When it was created.
    pub created_at: String,
    /// When the agent took it.
    pub acknowledged_at: Option<String>,
    /// When the agent started it.
    pub started_at: Option<String>,
    /// When it finished.
    pub finished_at: Option<String>,
    /// Bytes of log kept (0 once pruned).
    pub log_bytes: u64,
    /// Its batch in a rolling deployment, from 0 (every command is in batch 0 otherwise).
    #[serde(default)]
    pub batch: u32,
}

/// `GET /commands/{id}/log?offset=N&wait=S`: log text from `offset`, waiting up to `wait` seconds
/// for more when there is none yet and the command is still going.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LogChunk {
    /// The command.
    pub command_id: i64,
    /// Where `data` starts.
    pub offset: u64,
    /// Log text.
    pub data: String,
    /// Where the next request should start.
    pub next_offset: u64,
    /// The command's status.
    pub status: String,
    /// Its exit code, once finished.
    pub exit_code: Option<i32>,
    /// True once the command is finished and `data` reaches the end of its log.
    pub complete: bool,
    /// The log's length when this was read; a reader that wants what is there now reads pages
    /// until `next_offset` reaches it.
    #[serde(default)]
    pub length: u64,
}

/// `GET /stacks/{stack}/status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StackStatus {
    /// The stack.
    pub stack: Stack,
    /// Its layers.
    pub layers: Vec<Layer>,
    /// Its instances.
    pub instances: Vec<Instance>,
    /// Its latest deployments (newest first, without commands).
    pub recent_deployments: Vec<Deployment>,
    /// The load-based scaling of each layer that has a rule (on or off): its averages and what
    /// the rule would do now.
    #[serde(default)]
    pub load_scaling: Vec<crate::layer_scaling::LayerScaling>,
    /// Each time-based instance's schedule: whether it wants the instance online now, and when
    /// it next changes its mind.
    #[serde(default)]
    pub time_scaling: Vec<crate::scaling::InstanceScaling>,
    /// What each instance runs: each app's current release and its commit.
    #[serde(default)]
    pub running: Vec<RunningRelease>,
    /// The certificate each online frontend serves on HTTPS.
    #[serde(default)]
    pub certificates: Vec<FrontendCertificate>,
}

/// The release `current` points at, for one app on one instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RunningRelease {
    /// The instance.
    pub instance: String,
    /// The app.
    pub app: String,
    /// The release's directory name.
    pub release: String,
    /// The commit it was built from.
    pub commit: String,
}

/// `POST /stacks/{stack}/apps`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApp {
    /// The app's shortname (also its directory, `/srv/www/<name>`).
    #[schema(pattern = "^[a-z0-9][a-z0-9_-]{0,31}$")]
    pub name: String,
    /// Its type (default `buildout`).
    #[serde(default, rename = "type")]
    pub app_type: Option<String>,
    /// The layers it deploys to (at least one).
    pub layers: Vec<String>,
    /// Its git repository.
    pub repository: String,
    /// Branch, tag or commit SHA (default: the repository's default branch).
    #[serde(default)]
    pub revision: Option<String>,
    /// An SSH private key for the repository.
    #[serde(default)]
    pub deploy_key: Option<String>,
    /// Environment variables for its builds and services.
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
    /// Environment variables whose values are never shown.
    #[serde(default)]
    pub secret_environment: BTreeMap<String, String>,
}

/// `PATCH /stacks/{stack}/apps/{app}`: only the fields given change.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateApp {
    /// New layers.
    #[serde(default)]
    pub layers: Option<Vec<String>>,
    /// New repository.
    #[serde(default)]
    pub repository: Option<String>,
    /// New revision; an empty string means the default branch.
    #[serde(default)]
    pub revision: Option<String>,
    /// New deploy key; an empty string removes it.
    #[serde(default)]
    pub deploy_key: Option<String>,
    /// Variables to set.
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
    /// Secret variables to set.
    #[serde(default)]
    pub secret_environment: BTreeMap<String, String>,
    /// Variables (plain or secret) to remove.
    #[serde(default)]
    pub unset_environment: Vec<String>,
}

/// An app, with secret values redacted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct App {
    /// Its stack.
    pub stack: String,
    /// Its name.
    pub name: String,
    /// Its type.
    #[serde(rename = "type")]
    pub app_type: String,
    /// The layers it deploys to.
    pub layers: Vec<String>,
    /// Its git repository.
    pub repository: String,
    /// Its revision (none: the default branch).
    pub revision: Option<String>,
    /// Whether a deploy key is set (its value is never shown).
    pub deploy_key: bool,
    /// Environment variables; secret ones show as `<redacted>`.
    pub environment: BTreeMap<String, String>,
    /// The names of the secret variables.
    pub secret_environment: Vec<String>,
    /// The commit the app runs, which Setup, Configure and new instances build.
    #[serde(default)]
    pub pinned: Option<AppPin>,
    /// When it was created.
    pub created_at: String,
    /// When it last changed.
    pub updated_at: String,
}

/// The commit an app is pinned to, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AppPin {
    /// The commit.
    pub commit: String,
    /// `deployed` (by a deploy) or `rolled_back` (a rollback went back to it).
    pub reason: String,
    /// The deployment that pinned it.
    pub deployment: i64,
    /// When.
    pub at: String,
}

/// The answer to `DELETE /stacks/{stack}/apps/{app}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AppDeleted {
    /// The Undeploy deployment queued on the online instances of the app's layers (none when
    /// nothing ran).
    pub undeploy_deployment: Option<i64>,
}

/// What a redacted value shows.
pub const REDACTED: &str = "<redacted>";

/// A release on one instance, as `GET /stacks/{stack}/apps/{app}/releases` lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReleaseView {
    /// The instance.
    pub instance: String,
    /// The release's directory name.
    pub name: String,
    /// The commit it was built from.
    pub sha: String,
    /// building, built, failed or bad (rolled back from).
    pub outcome: String,
    /// Why it was built: new_revision, config_changed or forced_rebuild.
    pub case: String,
    /// Whether `current` points at it.
    pub current: bool,
    /// SHA-256 of its deploy.cfg.
    pub config_hash: String,
    /// Its deploy.cfg, with the values of secret-looking options and passwords in DSNs and URLs
    /// redacted (`drover_core::attributes::redact_cfg_text`).
    pub deploy_cfg: String,
    /// When its build started.
    pub created_at: String,
    /// When its build ended.
    pub finished_at: Option<String>,
}

/// `POST /stacks/{stack}/join-tokens`: a join token that enrolls agents into this stack only.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateJoinToken {
    /// Layers a new host may register into (none: any layer of the stack).
    #[serde(default)]
    pub layers: Vec<String>,
    /// The instance it is made for: the only token that can claim a pre-created instance; a new
    /// host that joins with it takes this hostname.
    #[serde(default)]
    pub instance: Option<String>,
    /// Seconds it works for (none: it never expires).
    #[serde(default)]
    pub expires_in_secs: Option<u64>,
    /// How many enrollments it allows (none: any number).
    #[serde(default)]
    pub uses: Option<u32>,
    /// A note for people (what it is for).
    #[serde(default)]
    pub comment: Option<String>,
}

/// A join token as listed (its secret is never shown again).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct JoinToken {
    /// Its id (for `drover token revoke`).
    pub id: i64,
    /// The stack it enrolls into.
    pub stack: String,
    /// Layers a new host may register into (empty: any).
    pub layers: Vec<String>,
    /// The instance it is made for.
    pub instance: Option<String>,
    /// `active`, `revoked`, `expired` or `used_up`.
    pub state: String,
    /// When it stops working.
    pub expires_at: Option<String>,
    /// Enrollments it still allows (none: any number).
    pub uses_left: Option<i64>,
    /// When it was revoked.
    pub revoked_at: Option<String>,
    /// When it was created.
    pub created_at: String,
    /// When an agent last enrolled with it.
    pub last_used_at: Option<String>,
    /// Its note.
    pub comment: Option<String>,
}

/// The answer to `POST /stacks/{stack}/join-tokens`: the token itself, shown this once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CreatedJoinToken {
    /// `drv1:join:<ca-sha256>:<secret>:<url>`.
    pub token: String,
    /// What it allows.
    #[serde(flatten)]
    pub info: JoinToken,
}
