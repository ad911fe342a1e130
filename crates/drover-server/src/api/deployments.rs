//! Deployments (this issue: `execute`), their commands, and command logs.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use drover_core::targeting::Plan;
use drover_core::{CommandStatus, DeploymentKind};
use drover_proto::agent::CommandSpec;
use drover_proto::api::{Command, CreateDeployment, Deployment, DeploymentPlan, LogChunk};
use serde::Deserialize;

use super::auth::{Can, DEPLOY, SHOW};
use super::extract::{Body, Id, Path, Query};
use super::failure::{ApiResult, Failure};
use super::resources::load_stack;
use super::{parse, views};
use crate::orchestrator::app_deploy;
use crate::orchestrator::targets::{queue_commands, targets};
use crate::state::AppState;
use crate::store::{LogPage, NewDeployment, PlannedCommand};

/// The most log text one request answers with: logs are read in pages, never whole.
const LOG_PAGE_BYTES: usize = 1024 * 1024;

/// The longest a log request may wait for output.
const MAX_LOG_WAIT: Duration = Duration::from_secs(30);

#[utoipa::path(
    post,
    path = "/stacks/{stack}/deployments",
    operation_id = "create_deployment",
    tag = "deployments",
    summary = "Run a command or an app action on a set of instances",
    params(("stack" = String, Path, description = "The stack's name")),
    request_body = drover_proto::api::CreateDeployment,
    responses((status = 201, description = "The deployment", body = drover_proto::api::Deployment), (status = 403, description = "The token's level on the stack is too low", body = drover_proto::ErrorBody), (status = 409, description = "Another deployment holds the app's lock", body = drover_proto::ErrorBody))
)]
pub async fn create(
    _: Can<DEPLOY>,
    State(state): State<AppState>,
    Path(stack): Path<String>,
    Body(req): Body<CreateDeployment>,
) -> ApiResult<(StatusCode, Json<Deployment>)> {
    let id = if req.kind == DeploymentKind::Execute.as_str() {
        create_exec(&state, &stack, req).await?
    } else if req.kind == DeploymentKind::Logs.as_str() {
        create_logs(&state, &stack, req).await?
    } else {
        let new = parse::app_deployment(req)?;
        let stack = load_stack(&state, &stack).await?;
        app_deploy::create(&state, &stack, new).await?
    };
    Ok((StatusCode::CREATED, Json(load(&state, id).await?)))
}

/// `POST /stacks/{stack}/deployments/plan`: what an app deployment would do (the commit it
/// would build, and which instances in which order), without doing it.
#[utoipa::path(
    post,
    path = "/stacks/{stack}/deployments/plan",
    operation_id = "plan_deployment",
    tag = "deployments",
    summary = "What an app deployment would do, without doing it",
    params(("stack" = String, Path, description = "The stack's name")),
    request_body = drover_proto::api::CreateDeployment,
    responses((status = 200, description = "The plan", body = drover_proto::api::DeploymentPlan), (status = 403, description = "The token's level on the stack is too low", body = drover_proto::ErrorBody), (status = 422, description = "The request or its revision is wrong", body = drover_proto::ErrorBody))
)]
pub async fn plan(
    _: Can<DEPLOY>,
    State(state): State<AppState>,
    Path(stack): Path<String>,
    Body(req): Body<CreateDeployment>,
) -> ApiResult<Json<DeploymentPlan>> {
    let new = parse::app_deployment(req)?;
    let stack = load_stack(&state, &stack).await?;
    let plan = app_deploy::plan(&state, &stack, &new).await?;
    Ok(Json(views::deployment_plan(&plan)))
}

async fn create_exec(state: &AppState, stack: &str, req: CreateDeployment) -> ApiResult<i64> {
    let new = parse::exec(req)?;
    let spec = CommandSpec::Exec { argv: new.argv.clone(), timeout_secs: new.timeout_secs };
    let command_json = serde_json::to_string(&new.argv).map_err(Failure::internal)?;
    queue_on_targets(state, stack, &new, &spec, DeploymentKind::Execute, &command_json).await
}

/// A `logs` deployment: each targeted instance's agent streams its logs as the command's output.
/// It takes `deploy` like `execute` (logs may hold what services print of their secrets).
async fn create_logs(state: &AppState, stack: &str, req: CreateDeployment) -> ApiResult<i64> {
    let new = parse::logs(req)?;
    let l = &new.logs;
    let spec = CommandSpec::Logs {
        services: l.services.clone(),
        since_secs: l.since_secs,
        lines: l.lines,
        follow_secs: l.follow_secs,
    };
    // Shown as the deployment's command: what was asked, as `drover logs` flags.
    let mut shown = vec!["logs".to_owned()];
    shown.extend(l.services.iter().map(|s| format!("--service={s}")));
    shown.extend(l.since_secs.map(|s| format!("--since={s}s")));
    shown.extend(l.lines.map(|n| format!("--lines={n}")));
    shown.extend(l.follow_secs.map(|s| format!("--follow-for={s}s")));
    let command_json = serde_json::to_string(&shown).map_err(Failure::internal)?;
    queue_on_targets(state, stack, &new.on, &spec, DeploymentKind::Logs, &command_json).await
}

/// Queues one command of `spec` on each of the instances `on` targets (skipped where not online).
async fn queue_on_targets(
    state: &AppState,
    stack: &str,
    new: &parse::NewExec,
    spec: &CommandSpec,
    kind: DeploymentKind,
    command_json: &str,
) -> ApiResult<i64> {
    let stack = load_stack(state, stack).await?;
    let (instances, targets) = targets(state, &stack, &new.layers, &new.instances).await?;
    let spec_json = serde_json::to_string(spec).map_err(Failure::internal)?;
    let planned: Vec<PlannedCommand> = targets
        .into_iter()
        .filter_map(|t| {
            let instance_id = instances.iter().find(|i| i.hostname == t.hostname)?.id;
            let skip = match t.plan {
                Plan::Run => None,
                Plan::Skip(why) => Some(why),
            };
            Some(PlannedCommand { instance_id, spec_json: spec_json.clone(), skip, batch: 0, held: false })
        })
        .collect();
    let id = queue_commands(
        state,
        &NewDeployment {
            stack_id: stack.id,
            kind,
            comment: new.comment.as_deref(),
            command_json,
            app: None,
            targets: &planned,
            revision: None,
            commit: None,
            max_unavailable: 1,
        },
    )
    .await?;
    Ok(id)
}

pub(super) async fn load(state: &AppState, id: i64) -> ApiResult<Deployment> {
    let row = state.store.deployment(id).await?.ok_or_else(|| {
        Failure::not_found(
            "deployment",
            format!("deployment {id} does not exist; `drover deployment list --stack S` shows them"),
        )
    })?;
    let commands = state.store.deployment_commands(id).await?;
    Ok(views::deployment(&row, &commands))
}

#[utoipa::path(
    get,
    path = "/stacks/{stack}/deployments",
    operation_id = "list_deployments",
    tag = "deployments",
    summary = "A stack's latest deployments (without commands)",
    params(("stack" = String, Path, description = "The stack's name")),
    responses((status = 200, description = "The deployments, newest first", body = Vec<drover_proto::api::Deployment>))
)]
pub async fn list(
    _: Can<SHOW>,
    State(state): State<AppState>,
    Path(stack): Path<String>,
) -> ApiResult<Json<Vec<Deployment>>> {
    let stack = load_stack(&state, &stack).await?;
    let rows = state.store.deployments(stack.id, 50).await?;
    Ok(Json(rows.iter().map(|d| views::deployment(d, &[])).collect()))
}

#[utoipa::path(
    get,
    path = "/deployments/{id}",
    operation_id = "show_deployment",
    tag = "deployments",
    summary = "Show a deployment and its commands",
    params(("id" = i64, Path, description = "The deployment's id")),
    responses((status = 200, description = "The deployment", body = drover_proto::api::Deployment))
)]
pub async fn show(_: Can<SHOW>, State(state): State<AppState>, Id(id): Id) -> ApiResult<Json<Deployment>> {
    Ok(Json(load(&state, id).await?))
}

#[utoipa::path(
    post,
    path = "/deployments/{id}/cancel",
    operation_id = "cancel_deployment",
    tag = "deployments",
    summary = "Stop a logs deployment's streams (`drover logs --follow` ended)",
    params(("id" = i64, Path, description = "The deployment's id")),
    responses((status = 204, description = "Its agents stop streaming within a few seconds"), (status = 403, description = "The token's level on the stack is too low", body = drover_proto::ErrorBody), (status = 409, description = "Only logs deployments can be cancelled", body = drover_proto::ErrorBody))
)]
pub async fn cancel(_: Can<DEPLOY>, State(state): State<AppState>, Id(id): Id) -> ApiResult<StatusCode> {
    let deployment = load(&state, id).await?;
    if deployment.kind != DeploymentKind::Logs.as_str() {
        return Err(Failure::conflict(
            Some("kind"),
            format!(
                "deployment {id} is of kind {:?}; only logs deployments can be cancelled (others end on their own \
                 or at their timeout)",
                deployment.kind
            ),
        ));
    }
    let unfinished = deployment
        .commands
        .iter()
        .filter(|c| !c.status.parse::<CommandStatus>().is_ok_and(CommandStatus::is_finished))
        .map(|c| c.id)
        .collect::<Vec<i64>>();
    // The stream's agent may append its output to another server.
    state.cluster.outbox.cancelled(&unfinished);
    state.cancelled.add(unfinished);
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    get,
    path = "/commands/{id}",
    operation_id = "show_command",
    tag = "deployments",
    summary = "Show one command of a deployment",
    params(("id" = i64, Path, description = "The command's id")),
    responses((status = 200, description = "The command", body = drover_proto::api::Command))
)]
pub async fn show_command(_: Can<SHOW>, State(state): State<AppState>, Id(id): Id) -> ApiResult<Json<Command>> {
    let row = state.store.command(id).await?.ok_or_else(|| not_found_command(id))?;
    Ok(Json(views::command(&row)))
}

fn not_found_command(id: i64) -> Failure {
    Failure::not_found("command", format!("command {id} does not exist; `drover deployment show ID` lists commands"))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogQuery {
    #[serde(default)]
    offset: u64,
    #[serde(default)]
    wait: u64,
}

/// Log text from `offset`; waits (up to `wait` seconds) for more while the command runs.
#[utoipa::path(
    get,
    path = "/commands/{id}/log",
    operation_id = "command_log",
    tag = "deployments",
    summary = "A page of a command's log",
    params(("id" = i64, Path, description = "The command's id"), ("offset" = Option<u64>, Query, description = "Where to start reading (default 0)"), ("wait" = Option<u64>, Query, description = "Seconds to wait for more output while the command runs (at most 30; default 0)")),
    responses((status = 200, description = "Log text from offset", body = drover_proto::api::LogChunk))
)]
pub async fn log(
    _: Can<SHOW>,
    State(state): State<AppState>,
    Id(id): Id,
    Query(q): Query<LogQuery>,
) -> ApiResult<Json<LogChunk>> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(q.wait).min(MAX_LOG_WAIT);
    let mut changes = state.wakeups.subscribe();
    loop {
        changes.borrow_and_update();
        let row = state.store.command(id).await?.ok_or_else(|| not_found_command(id))?;
        let held = row.log_bytes as u64;
        if q.offset > held {
            return Err(Failure::invalid(
                "offset",
                format!("offset {} is past the end of the log ({held} bytes)", q.offset),
            ));
        }
        let finished = row.status.parse::<CommandStatus>().is_ok_and(CommandStatus::is_finished);
        let page = if q.offset < held {
            state.store.read_log(id, q.offset, LOG_PAGE_BYTES).await?
        } else {
            LogPage { data: String::new(), next_offset: q.offset }
        };
        let timed_out = tokio::time::Instant::now() >= deadline;
        if !page.data.is_empty() || finished || timed_out {
            return Ok(Json(LogChunk {
                command_id: id,
                offset: q.offset,
                complete: finished && page.next_offset >= held,
                data: page.data,
                next_offset: page.next_offset,
                status: row.status,
                exit_code: row.exit_code.map(|c| c as i32),
                length: held,
            }));
        }
        let _ = tokio::time::timeout_at(deadline, changes.changed()).await;
    }
}
