//! The agent protocol: enrollment, hello, heartbeats, the command long-poll, and reports.
//! Every call after enrollment is scoped to the caller's own instance.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use drover_core::join::{self, Admission, Attempt, Existing, Refusal, RefusalKind};
use drover_core::lifecycle::Event;
use drover_core::{CommandStatus, Provider, Shortname};
use drover_proto::agent::{
    AgentCommand, AppSecrets, EnrollRequest, EnrollResponse, Heartbeat, Hello, NextCommand, OutputAck, OutputAppend,
    ResultReport, StartReport, Unfinished,
};
use drover_proto::{ApiError, ErrorCode};
use serde::Deserialize;

use super::extract::{Agent, Body, Id, Join, Query, parse_json, read_limited};
use super::failure::{ApiResult, Failure};
use super::parse_agent::{checked_facts, checked_heartbeat};
use super::resources::load_stack;
use crate::cluster::bus::Message;
use crate::orchestrator::instances::{InstanceRequest, register_instance};
use crate::orchestrator::{apply_event, on_command_finished, record_app_report};
use crate::secrets;
use crate::state::AppState;
use crate::store::{AppendOutcome, CommandRow, InstanceRow, JoinUse};
use crate::time::now_ms;

/// The longest a command long-poll is held open.
const MAX_POLL: Duration = Duration::from_secs(60);

/// A command as its agent gets it, with its nonce (given at its first delivery) and the cap on
/// its output.
async fn to_agent_command(state: &AppState, row: &CommandRow) -> ApiResult<AgentCommand> {
    let spec = serde_json::from_str(&row.spec).map_err(Failure::internal)?;
    let nonce = state.store.command_nonce(row.id).await?;
    Ok(AgentCommand { id: row.id, spec, nonce, log_max_bytes: Some(state.config.command_log_max_bytes) })
}

/// Refuses a report meant for another command with the same id: the server's database was
/// restored from a copy older than the command the agent ran.
async fn same_command(state: &AppState, id: i64, nonce: Option<&String>) -> ApiResult<()> {
    let Some(nonce) = nonce else { return Ok(()) };
    if state.store.stored_nonce(id).await?.as_ref() == Some(nonce) { Ok(()) } else { Err(other_command(id)) }
}

fn other_command(id: i64) -> Failure {
    Failure::conflict(
        Some("nonce"),
        format!(
            "command {id} on this server is another command than the one the agent ran (was the server's \
             database restored from an older copy?); the agent drops its report"
        ),
    )
}

/// Enrolls an agent within its join token's scope (core `join::admit`): it claims the instance
/// made for it, or registers a new host. The token's use and the credential are stored in one
/// transaction; a refused enrollment changes nothing.
pub async fn enroll(
    Join(token): Join,
    State(state): State<AppState>,
    Body(req): Body<EnrollRequest>,
) -> ApiResult<Json<EnrollResponse>> {
    checked_facts(&req.facts)?;
    let stack = load_stack(&state, &token.stack_name).await?;
    let host = req.instance.as_deref().or(token.instance.as_deref());
    let existing = match host {
        Some(host) if req.stack == stack.name => state.store.instance(stack.id, host).await?,
        _ => None,
    };
    let allowed = token.layers();
    let attempt = Attempt {
        stack: &req.stack,
        instance: host,
        layers: &req.layers,
        existing: existing.as_ref().map(|i| Existing { enrolled: i.credential_hash.is_some() }),
    };
    let admission = join::admit(&token.grant(&allowed), &attempt, now_ms()).map_err(refused)?;
    let agent_secret = secrets::generate();
    let join = JoinUse { token_id: token.id, agent_secret: &agent_secret };
    let instance = match (admission, existing) {
        (Admission::Claim, Some(instance)) => {
            if !state.store.claim_instance(instance.id, join).await? {
                return Err(refused(Refusal::AlreadyEnrolled { host: instance.hostname }));
            }
            instance
        }
        _ => register(&state, &stack, &req, host, join).await?,
    };
    state.store.record_facts(instance.id, &req.facts).await?;
    tracing::info!(instance = %instance.hostname, join_token = token.id, "agent enrolled");
    let credential = secrets::agent_credential(instance.id, &agent_secret);
    Ok(Json(EnrollResponse { stack: stack.name, hostname: instance.hostname, credential }))
}

/// A join token's refusal in the API's error shape.
fn refused(refusal: Refusal) -> Failure {
    let code = match refusal.kind() {
        RefusalKind::Unusable => ErrorCode::Unauthorized,
        RefusalKind::OutOfScope => ErrorCode::Forbidden,
        RefusalKind::Taken => ErrorCode::Conflict,
        RefusalKind::Incomplete => ErrorCode::Invalid,
    };
    let message = refusal.to_string();
    Failure(match refusal.field() {
        Some(field) => ApiError::field(code, field, message),
        None => ApiError::new(code, message),
    })
}

/// Creates the instance for a host that joins without one made beforehand.
async fn register(
    state: &AppState,
    stack: &crate::store::StackRow,
    req: &EnrollRequest,
    host: Option<&str>,
    join: JoinUse<'_>,
) -> ApiResult<InstanceRow> {
    let layers = req
        .layers
        .iter()
        .enumerate()
        .map(|(i, l)| Shortname::parse(l).map_err(|e| Failure::invalid(format!("layers[{i}]"), format!("{l:?} {e}"))))
        .collect::<Result<Vec<_>, _>>()?;
    let hostname = match host {
        Some(h) => Some(Shortname::parse(h).map_err(|e| Failure::invalid("instance", format!("{h:?} {e}")))?),
        None => None,
    };
    let request = InstanceRequest {
        layers: &layers,
        provider: Some(Provider::Registered),
        hostname,
        cpu_count: None,
        address: Some(&req.facts.address),
        hostname_field: "instance",
        scaling: drover_core::scaling::ScalingType::AlwaysOn,
    };
    Ok(register_instance(state, stack, request, join).await?)
}

pub(super) async fn own_instance(state: &AppState, agent: &Agent) -> ApiResult<InstanceRow> {
    state
        .store
        .instance_by_id(agent.instance_id)
        .await?
        .ok_or_else(|| Failure::unauthorized("the instance was deleted"))
}

pub async fn hello(agent: Agent, State(state): State<AppState>, Body(req): Body<Hello>) -> ApiResult<StatusCode> {
    checked_facts(&req.facts)?;
    state.store.record_facts(agent.instance_id, &req.facts).await?;
    let instance = own_instance(&state, &agent).await?;
    apply_event(&state, &instance, Event::AgentHello).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn heartbeat(
    agent: Agent,
    State(state): State<AppState>,
    Body(hb): Body<Heartbeat>,
) -> ApiResult<StatusCode> {
    checked_heartbeat(&hb)?;
    state.store.record_heartbeat(agent.instance_id, &hb).await?;
    let instance = own_instance(&state, &agent).await?;
    let at_ms = now_ms();
    state.metrics.record_heartbeat(instance.id, instance.created_at, &hb, at_ms);
    state.cluster.outbox.send(Message::Heartbeat {
        instance: instance.id,
        created_at: instance.created_at,
        at_ms,
        cpu: hb.cpu_percent,
        memory: hb.memory_percent,
        load: hb.load_1m,
    });
    apply_event(&state, &instance, Event::Heartbeat).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PollQuery {
    #[serde(default)]
    wait: u64,
}

/// Holds the request open until a command or a relayed frontend request is queued for this
/// instance, or `wait` passes.
pub async fn next(
    agent: Agent,
    State(state): State<AppState>,
    Query(q): Query<PollQuery>,
) -> ApiResult<Json<NextCommand>> {
    // Dropped unanswered when the connection goes away: an agent that does not poll again is gone.
    let (poll, new_here) = state.presence.arrived(agent.instance_id);
    if new_here {
        // Another server may still count it as its own, and take its dropped poll for a lost agent.
        state.cluster.outbox.send(Message::Polling { instance: agent.instance_id });
    }
    let answer = wait_for_work(&state, &agent, &q).await;
    poll.answered();
    answer
}

async fn wait_for_work(state: &AppState, agent: &Agent, q: &PollQuery) -> ApiResult<Json<NextCommand>> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(q.wait).min(MAX_POLL);
    let notify = state.wakeups.agent(agent.instance_id);
    loop {
        let notified = notify.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let command = match state.store.next_pending(agent.instance_id).await? {
            Some(row) => Some(to_agent_command(state, &row).await?),
            None => None,
        };
        let frontend_requests = state.frontend_relay.take(agent.instance_id);
        if command.is_some() || !frontend_requests.is_empty() {
            return Ok(Json(NextCommand { command, frontend_requests }));
        }
        if tokio::time::timeout_at(deadline, notified).await.is_err() {
            return Ok(Json(NextCommand { command: None, frontend_requests: Vec::new() }));
        }
    }
}

pub async fn unfinished(agent: Agent, State(state): State<AppState>) -> ApiResult<Json<Unfinished>> {
    let taken = [CommandStatus::Acknowledged, CommandStatus::Running];
    let rows = state.store.commands_in(agent.instance_id, &taken).await?;
    let mut commands = Vec::with_capacity(rows.len());
    for row in &rows {
        commands.push(to_agent_command(&state, row).await?);
    }
    Ok(Json(Unfinished { commands }))
}

pub(super) async fn own_command(state: &AppState, agent: &Agent, id: i64) -> ApiResult<CommandRow> {
    state
        .store
        .command_of(id, agent.instance_id)
        .await?
        .ok_or_else(|| Failure::forbidden(format!("command {id} does not belong to this agent's instance")))
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretsQuery {
    /// For a Configure event: which of the instance's apps.
    app: Option<String>,
}

/// The secrets of the app a command acts on (or, for a Configure event, of one of the
/// instance's apps); only for the agent running it.
pub async fn secrets(
    agent: Agent,
    State(state): State<AppState>,
    Id(id): Id,
    Query(q): Query<SecretsQuery>,
) -> ApiResult<Json<AppSecrets>> {
    own_command(&state, &agent, id).await?;
    let app_id = match (state.store.command_app(id).await?, &q.app) {
        (Some(app_id), _) => Some(app_id),
        (None, Some(name)) => {
            let instance = state
                .store
                .instance_by_id(agent.instance_id)
                .await?
                .ok_or_else(|| Failure::forbidden("this agent's instance no longer exists"))?;
            let app = state.store.app(instance.stack_id, name).await?.ok_or_else(|| {
                Failure::not_found("app", format!("app {name:?} does not exist in this instance's stack"))
            })?;
            let layers = instance.layers();
            if !app.layers().iter().any(|l| layers.contains(l)) {
                return Err(Failure::forbidden(format!("app {name} is not deployed to this agent's instance")));
            }
            Some(app.id)
        }
        (None, None) => None,
    };
    let mut secrets = AppSecrets::default();
    if let Some(app_id) = app_id {
        for (kind, name, value) in state.store.app_secrets(app_id).await? {
            if kind == "deploy_key" {
                secrets.deploy_key = Some(value);
            } else {
                secrets.environment.insert(name, value);
            }
        }
    }
    Ok(Json(secrets))
}

pub async fn ack(agent: Agent, State(state): State<AppState>, Id(id): Id) -> ApiResult<StatusCode> {
    own_command(&state, &agent, id).await?;
    state.store.ack_command(id, agent.instance_id).await?;
    state.wakeups.changed();
    Ok(StatusCode::NO_CONTENT)
}

pub async fn start(
    agent: Agent,
    State(state): State<AppState>,
    Id(id): Id,
    Body(req): Body<StartReport>,
) -> ApiResult<StatusCode> {
    own_command(&state, &agent, id).await?;
    state.store.start_command(id, agent.instance_id, req.started_at_ms).await?;
    state.wakeups.changed();
    Ok(StatusCode::NO_CONTENT)
}

pub async fn output(
    agent: Agent,
    State(state): State<AppState>,
    Id(id): Id,
    Body(req): Body<OutputAppend>,
) -> ApiResult<Json<OutputAck>> {
    match state.store.append_output(id, agent.instance_id, &req, state.config.command_log_max_bytes).await? {
        AppendOutcome::Length(length) => {
            state.wakeups.changed();
            Ok(Json(OutputAck { length, stop: state.cancelled.contains(id) }))
        }
        AppendOutcome::NotFound => {
            Err(Failure::forbidden(format!("command {id} does not belong to this agent's instance")))
        }
        AppendOutcome::OtherCommand => Err(other_command(id)),
    }
}

/// A command's result. Its body may be larger than other requests' (an app's result carries
/// every kept release's `deploy.cfg`), up to the server's result limit.
pub async fn result(
    agent: Agent,
    State(state): State<AppState>,
    Id(id): Id,
    body: axum::body::Body,
) -> ApiResult<StatusCode> {
    let limit = state.config.result_body_limit.max(state.config.body_limit);
    let req: ResultReport = parse_json(&read_limited(body, limit).await?)?;
    let command = own_command(&state, &agent, id).await?;
    same_command(&state, id, req.nonce.as_ref()).await?;
    // Releases are recorded before the result, so whoever sees the deployment finished also
    // sees the releases it made.
    if let (Some(data), false) =
        (&req.data, command.status.parse::<CommandStatus>().is_ok_and(CommandStatus::is_finished))
    {
        record_app_report(&state, id, agent.instance_id, data).await?;
    }
    state.cancelled.forget(id);
    if let Some(finished) = state.store.finish_command(id, agent.instance_id, &req).await? {
        on_command_finished(&state, &finished).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}
