//! The frontend relay's endpoints. HAProxy's runtime API listens only on a 0600 Unix socket on
//! each frontend, so an app agent asks here to drain, ready or read one of its own clients'
//! servers while one of its commands runs; every online frontend's agent acts on its own socket
//! and answers.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use drover_core::frontend::parse_server_name;
use drover_core::{CommandStatus, InstanceStatus, LayerType};
use drover_proto::relay::{BackendState, FrontendAction, FrontendAnswer, FrontendAnswers, FrontendCall};

use super::agent::{own_command, own_instance};
use super::extract::{Agent, Body, Id};
use super::failure::{ApiResult, Failure};
use crate::orchestrator::model::StackModel;
use crate::relay::Delivery;
use crate::state::AppState;
use crate::store::InstanceRow;

/// How long the frontends have to answer.
const ANSWER_WAIT: Duration = Duration::from_secs(10);

/// `POST /agent/commands/{id}/frontends`: relays the call to every online frontend of the
/// caller's stack and brings back their answers (an error for one that did not answer in time).
pub async fn call(
    agent: Agent,
    State(state): State<AppState>,
    Id(id): Id,
    Body(req): Body<FrontendCall>,
) -> ApiResult<Json<FrontendAnswers>> {
    let command = own_command(&state, &agent, id).await?;
    let instance = own_instance(&state, &agent).await?;
    if parse_server_name(&req.server).is_none_or(|(host, _)| host != instance.hostname) {
        return Err(Failure::invalid(
            "server",
            format!("{:?} is not one of this instance's clients; use {}-client<N>", req.server, instance.hostname),
        ));
    }
    if command.status.parse::<CommandStatus>().is_ok_and(CommandStatus::is_finished) {
        return Err(Failure::conflict(Some("command"), format!("command {id} has finished; it drains nothing")));
    }
    let model = StackModel::load(&state, &instance.stack_name)
        .await?
        .ok_or_else(|| Failure::not_found("stack", format!("stack {} was deleted", instance.stack_name)))?;
    let frontends: Vec<_> = model
        .instances
        .iter()
        .filter(|i| i.status() == InstanceStatus::Online && model.types_of(i).contains(&LayerType::Frontend))
        .collect();
    let asks: Vec<Ask> = frontends.iter().map(|f| Ask { frontend: f, server: req.server.clone() }).collect();
    let answers = ask_all(&state, &asks, req.action, ANSWER_WAIT)
        .await
        .into_iter()
        .map(|(ask, state)| FrontendAnswer { frontend: ask.frontend.hostname.clone(), state })
        .collect();
    Ok(Json(FrontendAnswers { frontends: answers }))
}

/// One question for one frontend's HAProxy: the state of one server.
pub(super) struct Ask<'a> {
    pub frontend: &'a InstanceRow,
    pub server: String,
}

/// Hands every question to its frontend's agent, wakes them, and waits up to `wait` for all the
/// answers; a frontend that did not answer in time gets an error in its place.
pub(super) async fn ask_all<'a>(
    state: &AppState,
    asks: &'a [Ask<'a>],
    action: FrontendAction,
    wait: Duration,
) -> Vec<(&'a Ask<'a>, BackendState)> {
    let pending: Vec<_> =
        asks.iter().map(|ask| (ask, state.frontend_relay.ask(ask.frontend.id, &ask.server, action))).collect();
    // Here and on the other servers (after the requests, which reach them first).
    let frontends: Vec<i64> = asks.iter().map(|ask| ask.frontend.id).collect();
    state.wakeups.wake_agents(&frontends);
    let deadline = tokio::time::Instant::now() + wait;
    let mut answers = Vec::with_capacity(pending.len());
    for (ask, pending) in pending {
        let state = match tokio::time::timeout_at(deadline, pending.answer()).await {
            Ok(Some(state)) => state,
            Ok(None) | Err(_) => BackendState {
                error: Some(format!("its agent did not answer within {} s", wait.as_secs())),
                ..Default::default()
            },
        };
        answers.push((ask, state));
    }
    answers
}

/// `POST /agent/frontend-requests/{id}`: a frontend's agent answers a relayed request.
pub async fn answer(
    agent: Agent,
    State(state): State<AppState>,
    Id(id): Id,
    Body(report): Body<BackendState>,
) -> ApiResult<StatusCode> {
    if let Some(error) = &report.error
        && error.len() > 4096
    {
        return Err(Failure::invalid("error", "is longer than 4096 bytes"));
    }
    if report.status.as_ref().is_some_and(|s| s.len() > 64 || s.chars().any(char::is_control)) {
        return Err(Failure::invalid("status", "is not a HAProxy server status"));
    }
    let delivered = u64::try_from(id)
        .is_ok_and(|id| state.frontend_relay.answer(agent.instance_id, id, report) != Delivery::Unknown);
    if delivered {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Failure::not_found("id", format!("no request {id} waits for this instance's answer; it was withdrawn")))
    }
}
