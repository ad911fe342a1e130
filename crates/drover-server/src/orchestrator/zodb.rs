//! ZODB jobs (core `zodb::jobs`): packs and backups queued on their schedules or on demand, the
//! backups listed, and a backup restored. Each is a deployment whose command runs the buildout's
//! script on the instance that holds the ZEO server (with RelStorage, a pack runs on the client
//! instance that holds the `plone_instances` role). At most one pack, backup or restore runs per
//! stack.
//!
//! A restore is three batches: the app's services stop on every instance that runs the app
//! (clients drained first behind the frontends), `bin/restore` runs on the ZEO server's
//! instance, and the services start again.

use std::time::Duration;

use drover_core::deploy::plan::holder;
use drover_core::zodb::downtime::downtime_of;
use drover_core::zodb::jobs::{Due, Job, Op, Settings, argv, due, is_backup_name};
use drover_core::{DeploymentKind, LayerType};
use drover_proto::agent::{AppAction, CommandSpec};
use serde_json::json;

use super::{OrchestratorError, StackModel, targets};
use crate::state::AppState;
use crate::store::{AppRow, InstanceRow, NewDeployment, NewEvent, PlannedCommand, ZODB_GATE};
use crate::time::schedule_now_secs;

/// How often the schedules are read.
const PERIOD: Duration = Duration::from_secs(5);

/// The longest a pack, backup or restore script may run, by default.
const SCRIPT_TIMEOUT_SECS: u64 = 6 * 3600;

/// Serialises the check for a running job with the queueing of a new one (within this server).
static QUEUEING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// What to run.
#[derive(Debug, Clone)]
pub struct ZodbRequest {
    /// `zodb_pack`, `zodb_backup`, `zodb_backups` or `zodb_restore`.
    pub kind: DeploymentKind,
    /// For a restore: the backup (its time stamp); the newest without one.
    pub backup: Option<String>,
    /// A note for the history.
    pub comment: Option<String>,
    /// Kill the script after this many seconds.
    pub timeout_secs: Option<u64>,
}

/// Where a stack's ZODB jobs run: the instance, the app, and its settings.
struct Place<'m> {
    instance: &'m InstanceRow,
    app: &'m AppRow,
    settings: Settings,
}

fn place<'m>(model: &'m StackModel) -> Result<Place<'m>, OrchestratorError> {
    let relstorage = Settings::of(&model.effective(None, &json!({})))
        .map_err(|e| OrchestratorError::invalid("custom_json", e))?
        .relstorage;
    let role = if relstorage { LayerType::PloneInstances } else { LayerType::Zeoserver };
    let members: Vec<_> = model
        .layers
        .iter()
        .filter(|l| l.layer_type == role.as_str())
        .flat_map(|l| model.online(&l.shortname))
        .collect();
    let Some(member) = holder(&members) else {
        return Err(OrchestratorError::conflict(
            Some("stack"),
            format!(
                "stack {} has no online instance in a {} layer to run ZODB jobs on; start one (`drover instance start`)",
                model.stack.name,
                role.as_str()
            ),
        ));
    };
    let instance =
        model.instance(member.hostname).ok_or_else(|| OrchestratorError::Internal("holder vanished".into()))?;
    let mut apps = model.apps_of(instance);
    apps.sort_by(|a, b| a.name.cmp(&b.name));
    let Some(app) = apps.first().copied() else {
        return Err(OrchestratorError::conflict(
            Some("stack"),
            format!(
                "no app is deployed to {}, which holds the ZODB: create and deploy one (`drover app create --layer …`)",
                instance.hostname
            ),
        ));
    };
    let settings = Settings::of(&model.effective(Some(instance), &json!({})))
        .map_err(|e| OrchestratorError::invalid("custom_json", e))?;
    Ok(Place { instance, app, settings })
}

fn op(request: &ZodbRequest, settings: &Settings) -> Result<Op, OrchestratorError> {
    Ok(match request.kind {
        DeploymentKind::ZodbPack if settings.relstorage => Op::RelstoragePack { days: settings.pack_days },
        DeploymentKind::ZodbPack => Op::Pack,
        DeploymentKind::ZodbBackup | DeploymentKind::ZodbBackups | DeploymentKind::ZodbRestore
            if settings.relstorage =>
        {
            return Err(OrchestratorError::invalid(
                "kind",
                "a RelStorage stack keeps its data in the database: back it up with the database's own tools",
            ));
        }
        DeploymentKind::ZodbBackup => Op::Backup,
        DeploymentKind::ZodbBackups => Op::List,
        DeploymentKind::ZodbRestore => {
            if let Some(b) = request.backup.as_deref().filter(|b| !is_backup_name(b)) {
                return Err(OrchestratorError::invalid(
                    "backup",
                    format!(
                        "{b:?} is not a backup's name (YYYY-MM-DD-HH-MM-SS); `drover zodb backups --stack S` lists them"
                    ),
                ));
            }
            Op::Restore { backup: request.backup.clone() }
        }
        other => return Err(OrchestratorError::invalid("kind", format!("{other} is not a ZODB job"))),
    })
}

fn encode(spec: &CommandSpec) -> Result<String, OrchestratorError> {
    serde_json::to_string(spec).map_err(|e| OrchestratorError::Internal(e.to_string()))
}

/// The commands of a restore: stop the app everywhere, restore, start it everywhere.
fn restore_commands(
    model: &StackModel,
    place: &Place<'_>,
    script: CommandSpec,
) -> Result<Vec<PlannedCommand>, OrchestratorError> {
    let running: Vec<&InstanceRow> = model
        .instances
        .iter()
        .filter(|i| i.status() == drover_core::InstanceStatus::Online)
        .filter(|i| model.apps_of(i).iter().any(|a| a.id == place.app.id))
        .collect();
    let mut planned = Vec::new();
    for (batch, action) in [(0, AppAction::Stop), (2, AppAction::Start)] {
        for i in &running {
            let work =
                model.app_work(i, place.app, &json!({})).map_err(|e| OrchestratorError::invalid("custom_json", e))?;
            let spec = CommandSpec::App {
                action: action.clone(),
                app: Box::new(work.app),
                plan: Box::new(work.plan),
                timeout_secs: Some(600),
                stack_config: model.stack_config(i, &json!({})),
                hooks: Vec::new(),
            };
            planned.push(PlannedCommand {
                instance_id: i.id,
                spec_json: encode(&spec)?,
                skip: None,
                batch,
                held: false,
            });
        }
    }
    planned.push(PlannedCommand {
        instance_id: place.instance.id,
        spec_json: encode(&script)?,
        skip: None,
        batch: 1,
        held: false,
    });
    Ok(planned)
}

/// Queues a ZODB job on a stack; returns the deployment's id. Refused while another pack, backup
/// or restore of the stack runs (listing backups is always allowed).
pub async fn queue(state: &AppState, stack: &str, request: &ZodbRequest) -> Result<i64, OrchestratorError> {
    let Some(model) = StackModel::load(state, stack).await? else {
        return Err(OrchestratorError::not_found("stack", format!("stack {stack} does not exist")));
    };
    let place = place(&model)?;
    let op = op(request, &place.settings)?;
    let command = argv(&op, &place.app.name);
    let script = CommandSpec::Exec {
        argv: command.clone(),
        timeout_secs: Some(request.timeout_secs.unwrap_or(SCRIPT_TIMEOUT_SECS)),
    };
    let planned = if request.kind == DeploymentKind::ZodbRestore {
        restore_commands(&model, &place, script)?
    } else {
        vec![PlannedCommand {
            instance_id: place.instance.id,
            spec_json: encode(&script)?,
            skip: None,
            batch: 0,
            held: false,
        }]
    };
    let command_json = serde_json::to_string(&command).map_err(|e| OrchestratorError::Internal(e.to_string()))?;
    let _one_at_a_time = QUEUEING.lock().await;
    // And one at a time across the servers of the control plane.
    let gate = state.store.gate(ZODB_GATE).await?;
    if request.kind != DeploymentKind::ZodbBackups
        && let Some(running) = state.store.running_zodb_job(model.stack.id).await?
    {
        gate.open(ZODB_GATE).await;
        return Err(OrchestratorError::conflict(
            Some("kind"),
            format!(
                "deployment {running} runs a ZODB job on stack {stack}; one runs at a time: wait for it \
                 (`drover deployment show {running} --follow`)"
            ),
        ));
    }
    let id = targets::queue_commands(
        state,
        &NewDeployment {
            stack_id: model.stack.id,
            kind: request.kind,
            comment: request.comment.as_deref(),
            command_json: &command_json,
            app: Some((place.app.id, &place.app.name)),
            targets: &planned,
            revision: None,
            commit: None,
            max_unavailable: 1,
        },
    )
    .await?;
    gate.open(ZODB_GATE).await;
    Ok(id)
}

/// Once a restore has ended: records how long the site was down, as an event of the stack
/// (`drover events`), from its commands' times.
pub(super) async fn restore_ended(state: &AppState, deployment_id: i64) -> Result<(), sqlx::Error> {
    let Some(row) = state.store.deployment(deployment_id).await? else { return Ok(()) };
    let Some(stack) = state.store.stack(&row.stack_name).await? else { return Ok(()) };
    let commands = state.store.deployment_commands(deployment_id).await?;
    let times: Vec<(u32, Option<i64>, Option<i64>)> = commands
        .iter()
        .filter(|c| c.status == "successful")
        .map(|c| (u32::try_from(c.batch).unwrap_or(0), c.started_at, c.finished_at))
        .collect();
    let message = match downtime_of(&times) {
        Some(ms) => format!(
            "restore (deployment {deployment_id}, {}): the site was down for {:.1} s",
            row.status,
            ms as f64 / 1000.0
        ),
        None => format!(
            "restore (deployment {deployment_id}) {}: the clients were not all started again; start them with \
             `drover start --stack S APP`",
            row.status
        ),
    };
    let event = NewEvent { stack_id: stack.id, kind: "zodb_restore", instance: None, layer: None, message: &message };
    super::events::record(state, &event).await.map(|_| ())
}

/// Follows the stacks' pack and backup schedules forever.
pub async fn follow_zodb_schedules(state: AppState) {
    super::ticker::every(state, PERIOD, "follow the ZODB schedules", check_once).await;
}

async fn check_once(state: &AppState) -> Result<(), sqlx::Error> {
    let now = schedule_now_secs(state.config.schedule_clock_file.as_deref());
    for stack in state.store.stacks().await? {
        let Some(model) = StackModel::load(state, &stack.name).await? else { continue };
        let Ok(place) = place(&model) else { continue };
        let busy = state.store.running_zodb_job(stack.id).await?.is_some();
        for job in Job::ALL {
            let Some(cron) = place.settings.schedule(job) else { continue };
            let last = state.store.zodb_last_slot(stack.id, job.as_str()).await?;
            match due(cron, last, busy, now) {
                Due::Hold => {}
                Due::Remember { slot } => state.store.set_zodb_last_slot(stack.id, job.as_str(), slot).await?,
                Due::Run { slot } => {
                    let request = ZodbRequest {
                        kind: job.kind(),
                        backup: None,
                        comment: Some(format!("scheduled {} ({cron}, UTC)", job.as_str())),
                        timeout_secs: None,
                    };
                    match queue(state, &stack.name, &request).await {
                        Ok(id) => {
                            tracing::info!(stack = %stack.name, deployment = id, "scheduled ZODB {}", job.as_str());
                            state.store.set_zodb_last_slot(stack.id, job.as_str(), slot).await?;
                        }
                        Err(OrchestratorError::Db(e)) => return Err(e),
                        Err(e) => tracing::warn!(stack = %stack.name, "the scheduled ZODB {} waits: {e}", job.as_str()),
                    }
                    // One job at a time: the other waits for the next round.
                    break;
                }
            }
        }
    }
    Ok(())
}
