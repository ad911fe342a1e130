//! App deployments: one command per targeted instance. Instances with the app's layers run the
//! app action with their own build plan; other targeted instances run a generic Configure (for
//! deploys). Rolling deployments release one batch at a time; deploys and rollbacks hold the
//! app's lock while they run.

use std::time::Duration;

use drover_core::DeploymentKind;
use drover_core::deploy::batches::batches;
use drover_core::targeting::Plan;
use drover_proto::agent::{AppAction, CommandSpec, LifecycleEvent};
use serde_json::Value;

use drover_core::deploy::pin::{CommitSource, commit_source};
use drover_core::deploy::restart_plan::RestartPolicy;

use super::revision::{self, ResolveError};
use super::{OrchestratorError, StackModel};
use crate::state::AppState;
use crate::store::{AppRow, DEPLOY_GATE, InstanceRow, NewDeployment, PlannedCommand, StackRow};
use crate::time::rfc3339;

/// A checked request for an app deployment (see `api::parse::app_deployment`).
#[derive(Debug)]
pub struct NewAppDeployment {
    pub kind: DeploymentKind,
    pub app: drover_core::Shortname,
    pub layers: Vec<String>,
    pub instances: Vec<String>,
    pub comment: Option<String>,
    pub custom_json: Value,
    pub batch_size: Option<u32>,
    pub rollback_to: Option<String>,
    pub lock_wait_secs: u64,
    pub timeout_secs: Option<u64>,
    /// Deploys that follow an instance's Setup touch only that instance and take no lock.
    pub takes_lock: bool,
    /// The deploy an instance gets after its Setup: it builds the app's pinned commit.
    pub follows_setup: bool,
    /// The commit a reviewed plan showed: refused when the revision resolves elsewhere now.
    pub expect_commit: Option<String>,
}

fn action(new: &NewAppDeployment) -> AppAction {
    match new.kind {
        DeploymentKind::Rollback => AppAction::Rollback { to: new.rollback_to.clone() },
        DeploymentKind::Start => AppAction::Start,
        DeploymentKind::Stop => AppAction::Stop,
        DeploymentKind::Restart => AppAction::Restart,
        DeploymentKind::Undeploy => AppAction::Undeploy,
        _ => AppAction::Deploy,
    }
}

/// The app command for one instance: its merged attributes, its build plan, and the one commit
/// the deployment builds.
fn app_command(
    new: &NewAppDeployment,
    model: &StackModel,
    app: &AppRow,
    instance: &InstanceRow,
    commit: Option<&str>,
) -> Result<CommandSpec, OrchestratorError> {
    let mut work =
        model.app_work(instance, app, &new.custom_json).map_err(|e| OrchestratorError::invalid("custom_json", e))?;
    work.app.commit = commit.map(str::to_owned);
    let hooks = match new.kind {
        DeploymentKind::Deploy | DeploymentKind::Undeploy => model.hooks(instance, new.kind.as_str()),
        _ => Vec::new(),
    };
    Ok(CommandSpec::App {
        action: action(new),
        app: Box::new(work.app),
        plan: Box::new(work.plan),
        timeout_secs: new.timeout_secs,
        stack_config: model.stack_config(instance, &new.custom_json),
        hooks: hooks.into_iter().filter(|h| h.app.as_deref() == Some(app.name.as_str())).collect(),
    })
}

/// Waits until `deadline` for the app's lock to be free; refuses naming the holder.
async fn wait_for_lock(
    state: &AppState,
    app: &AppRow,
    deadline: tokio::time::Instant,
) -> Result<(), OrchestratorError> {
    let mut changes = state.wakeups.subscribe();
    loop {
        changes.borrow_and_update();
        let holder = state.store.lock_holder(app.id).await?;
        let Some(holder) = holder.filter(|h| h.status == "running") else { return Ok(()) };
        if tokio::time::Instant::now() >= deadline {
            return Err(OrchestratorError::conflict(
                Some("app"),
                format!(
                    "app {} is locked by deployment {} (running since {}); wait for it (`drover deployment show {} --follow`) \
                     or pass --lock-wait SECONDS",
                    app.name,
                    holder.deployment_id,
                    rfc3339(holder.acquired_at),
                    holder.deployment_id
                ),
            ));
        }
        let _ = tokio::time::timeout_at(deadline, changes.changed()).await;
    }
}

/// The revision a deploy asked for and the one commit it builds (reference.md section 3, step 1,
/// done once on the server): the deployment's own revision, else the pinned commit for the
/// deploy that follows an instance's Setup, else the app's revision, resolved now.
async fn resolve_commit(
    state: &AppState,
    new: &NewAppDeployment,
    app: &AppRow,
    stack_level: &Value,
) -> Result<(Option<String>, Option<String>), OrchestratorError> {
    let path = format!("/deploy/{}/scm/revision", app.name);
    let asked = new.custom_json.pointer(&path).and_then(Value::as_str);
    let app_revision = stack_level.pointer(&path).and_then(Value::as_str);
    let source = commit_source(new.kind, asked, app_revision, app.pinned_sha.as_deref(), new.follows_setup);
    match source {
        CommitSource::None => Ok((None, None)),
        CommitSource::Commit(sha) => Ok((Some(sha.clone()), Some(sha))),
        CommitSource::Resolve(rev) => {
            let sha = revision::resolve(state, app, rev.as_deref()).await.map_err(|e| match e {
                ResolveError::Db(e) => OrchestratorError::Db(e),
                e => {
                    OrchestratorError::invalid(if asked.is_some() { "custom_json" } else { "revision" }, e.to_string())
                }
            })?;
            Ok((rev, Some(sha)))
        }
    }
}

/// What an app deployment would do: the commit it builds, and its commands in order (each with
/// its batch), before anything is stored.
pub struct AppDeploymentPlan {
    pub app: AppRow,
    pub revision: Option<String>,
    pub commit: Option<String>,
    pub planned: Vec<PlannedCommand>,
    /// The instances that run the app action (the others run Configure, or are skipped).
    pub app_instances: Vec<i64>,
    /// The targeted instances' hostnames, by id.
    pub hostnames: std::collections::HashMap<i64, String>,
    pub max_unavailable: u32,
}

/// Plans an app deployment: resolves its commit and its targets, and changes nothing.
pub async fn plan(
    state: &AppState,
    stack: &StackRow,
    new: &NewAppDeployment,
) -> Result<AppDeploymentPlan, OrchestratorError> {
    let app = state.store.app(stack.id, new.app.as_str()).await?.ok_or_else(|| {
        OrchestratorError::not_found(
            "app",
            format!(
                "app {} does not exist in stack {}; `drover app list --stack {}` shows its apps",
                new.app, stack.name, stack.name
            ),
        )
    })?;
    let (instances, targets) = super::targets::targets(state, stack, &new.layers, &new.instances).await?;
    let model = StackModel::load(state, &stack.name)
        .await?
        .ok_or_else(|| OrchestratorError::Internal("the stack vanished".into()))?;
    let app_layers = app.layers();
    let stack_level = model.effective(None, &new.custom_json);
    let max_unavailable = RestartPolicy::from_attributes(&stack_level).max_unavailable;
    let (revision, commit) = resolve_commit(state, new, &app, &stack_level).await?;

    let mut app_commands = Vec::new();
    let mut others = Vec::new();
    for target in &targets {
        let Some(instance) = instances.iter().find(|i| i.hostname == target.hostname) else { continue };
        let has_app = instance.layers().iter().any(|l| app_layers.contains(l));
        if let Plan::Skip(why) = &target.plan {
            others.push(PlannedCommand {
                instance_id: instance.id,
                spec_json: "{}".into(),
                skip: Some(why.clone()),
                batch: 0,
                held: false,
            });
        } else if has_app {
            let spec = app_command(new, &model, &app, instance, commit.as_deref())?;
            app_commands.push(PlannedCommand {
                instance_id: instance.id,
                spec_json: serde_json::to_string(&spec)
                    .map_err(|e| OrchestratorError::Internal(format!("failed to serialise a command: {e}")))?,
                skip: None,
                batch: 0,
                held: false,
            });
        } else if new.kind == DeploymentKind::Deploy {
            let spec = model.lifecycle_spec(instance, LifecycleEvent::Configure, None);
            let spec_json = serde_json::to_string(&spec)
                .map_err(|e| OrchestratorError::Internal(format!("failed to serialise a command: {e}")))?;
            others.push(PlannedCommand { instance_id: instance.id, spec_json, skip: None, batch: 0, held: false });
        }
    }
    if app_commands.is_empty() {
        return Err(OrchestratorError::invalid(
            "instances",
            format!(
                "no online instance of the app's layers ({}) is targeted; start one or change --layer/--instance",
                app_layers.join(", ")
            ),
        ));
    }
    let size = new.batch_size.map(|n| n as usize);
    let mut planned = others;
    for (i, batch) in
        batches(&app_commands.iter().map(|c| c.instance_id).collect::<Vec<_>>(), size).into_iter().enumerate()
    {
        for instance_id in batch {
            if let Some(c) = app_commands.iter().find(|c| c.instance_id == instance_id) {
                planned.push(PlannedCommand { batch: i as u32, ..c.clone() });
            }
        }
    }

    let hostnames = instances.iter().map(|i| (i.id, i.hostname.clone())).collect();
    let app_instances = app_commands.iter().map(|c| c.instance_id).collect();
    Ok(AppDeploymentPlan { app, revision, commit, planned, app_instances, hostnames, max_unavailable })
}

/// Creates an app deployment; returns its id.
pub async fn create(state: &AppState, stack: &StackRow, new: NewAppDeployment) -> Result<i64, OrchestratorError> {
    let AppDeploymentPlan { app, revision, commit, planned, max_unavailable, .. } = plan(state, stack, &new).await?;
    if let (Some(expected), Some(commit)) = (&new.expect_commit, &commit)
        && expected != commit
    {
        return Err(OrchestratorError::conflict(
            Some("expect_commit"),
            format!(
                "{} now resolves to {commit}, not to the {expected} that was reviewed (the branch moved); review \
                 the deploy again",
                revision.as_deref().unwrap_or("the app's revision")
            ),
        ));
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(new.lock_wait_secs);
    // Checking the lock and taking it happen under the gate, so they cannot interleave with
    // another creation; the waiting happens outside it.
    let (id, woken) = loop {
        if new.takes_lock {
            wait_for_lock(state, &app, deadline).await?;
        }
        let _gate = state.deploy_gate.lock().await;
        // Another server of the control plane may be creating one too.
        let gate = state.store.gate(DEPLOY_GATE).await?;
        let free = state.store.lock_holder(app.id).await?.is_none_or(|h| h.status != "running");
        if new.takes_lock && !free {
            gate.open(DEPLOY_GATE).await;
            continue;
        }
        let created = state
            .store
            .create_deployment(&NewDeployment {
                stack_id: stack.id,
                kind: new.kind,
                comment: new.comment.as_deref(),
                command_json: "[]",
                app: Some((app.id, &app.name)),
                targets: &planned,
                revision: revision.as_deref(),
                commit: commit.as_deref(),
                max_unavailable,
            })
            .await?;
        if new.takes_lock {
            state.store.take_lock(app.id, created.0).await?;
        }
        gate.open(DEPLOY_GATE).await;
        break created;
    };
    state.wakeups.wake_agents(&woken);
    Ok(id)
}

/// After an instance's Setup: deploys every app of its layers to it (reference.md section 2:
/// "Deploy of its layers' apps follows right after").
pub async fn deploy_after_setup(state: &AppState, instance: &InstanceRow) -> Result<(), OrchestratorError> {
    let Some(stack) = state.store.stack(&instance.stack_name).await? else {
        return Ok(());
    };
    let layers = instance.layers();
    for app in state.store.apps(stack.id).await? {
        if !app.layers().iter().any(|l| layers.contains(l)) {
            continue;
        }
        let Ok(name) = drover_core::Shortname::parse(&app.name) else { continue };
        let new = NewAppDeployment {
            kind: DeploymentKind::Deploy,
            app: name,
            layers: Vec::new(),
            instances: vec![instance.hostname.clone()],
            comment: Some(format!("deploy after the Setup of {}", instance.hostname)),
            custom_json: Value::Object(Default::default()),
            batch_size: None,
            rollback_to: None,
            lock_wait_secs: 0,
            timeout_secs: None,
            takes_lock: false,
            follows_setup: true,
            expect_commit: None,
        };
        if let Err(e) = create(state, &stack, new).await {
            tracing::warn!(instance = %instance.hostname, app = %app.name, "failed to deploy after Setup: {}", e);
        }
    }
    Ok(())
}
