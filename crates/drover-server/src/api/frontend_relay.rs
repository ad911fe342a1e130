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
use drover_proto::relay::{BackendState, FrontendAnswer, FrontendAnswers, FrontendCall};

use super::agent::{own_command, own_instance};
use super::extract::{Agent, Body, Id};
use super::failure::{ApiResult, Failure};
use crate::orchestrator::model::StackModel;
use crate::state::AppState;

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
    let asked: Vec<_> =
        frontends.iter().map(|f| (f, state.frontend_relay.ask(f.id, &req.server, req.action))).collect();
    for frontend in &frontends {
        state.wakeups.agent(frontend.id).notify_waiters();
    }
    let deadline = tokio::time::Instant::now() + ANSWER_WAIT;
    let mut answers = Vec::with_capacity(asked.len());
    for (frontend, pending) in asked {
        let state = match tokio::time::timeout_at(deadline, pending.answer()).await {
            Ok(Some(state)) => state,
            Ok(None) | Err(_) => BackendState {
                error: Some(format!("its agent did not answer within {} s", ANSWER_WAIT.as_secs())),
                ..Default::default()
            },
        };
        answers.push(FrontendAnswer { frontend: frontend.hostname.clone(), state });
    }
    Ok(Json(FrontendAnswers { frontends: answers }))
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
    let delivered = u64::try_from(id).is_ok_and(|id| state.frontend_relay.answer(agent.instance_id, id, report));
    if delivered {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Failure::not_found("id", format!("no request {id} waits for this instance's answer; it was withdrawn")))
    }
}
