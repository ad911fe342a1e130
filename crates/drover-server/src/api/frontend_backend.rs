//! `GET /stacks/{stack}/frontends/backend`: HAProxy's backend as each online frontend sees it
//! now (UP, DOWN, DRAIN per client). HAProxy's runtime API answers only on its frontend's 0600
//! socket, so the question goes through the frontend relay to each frontend's agent.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use drover_core::InstanceStatus;
use drover_proto::api::{BackendServerState, FrontendBackend};
use drover_proto::relay::FrontendAction;

use super::auth::{Can, SHOW};
use super::extract::Path;
use super::failure::{ApiResult, Failure};
use super::frontend_relay::{Ask, ask_all};
use super::resources::load_stack;
use crate::orchestrator::model::StackModel;
use crate::state::AppState;

/// How long the frontends have to answer a reader (less than an app agent waits: someone is
/// looking at a page).
const READ_WAIT: Duration = Duration::from_secs(5);

#[utoipa::path(
    get,
    path = "/stacks/{stack}/frontends/backend",
    operation_id = "frontend_backends",
    tag = "config",
    summary = "HAProxy's backend as each online frontend sees it now",
    params(("stack" = String, Path, description = "The stack's name")),
    responses((status = 200, description = "One entry per online frontend", body = Vec<drover_proto::api::FrontendBackend>), (status = 404, description = "No such stack", body = drover_proto::ErrorBody))
)]
pub async fn show(
    _: Can<SHOW>,
    State(state): State<AppState>,
    Path(stack): Path<String>,
) -> ApiResult<Json<Vec<FrontendBackend>>> {
    let stack = load_stack(&state, &stack).await?;
    let model = StackModel::load(&state, &stack.name).await?.ok_or_else(|| Failure::internal("the stack vanished"))?;
    let plans: Vec<_> = model
        .instances
        .iter()
        .filter(|i| i.status() == InstanceStatus::Online)
        .filter_map(|i| model.frontend_plan(i).map(|plan| (i, plan)))
        .collect();
    let asks: Vec<Ask> = plans
        .iter()
        .flat_map(|(frontend, plan)| plan.servers.iter().map(|s| Ask { frontend, server: s.name.clone() }))
        .collect();
    let answers = ask_all(&state, &asks, FrontendAction::State, READ_WAIT).await;
    let views = plans
        .iter()
        .map(|(frontend, plan)| FrontendBackend {
            frontend: frontend.hostname.clone(),
            servers: plan
                .servers
                .iter()
                .map(|server| {
                    let answer = answers
                        .iter()
                        .find(|(ask, _)| ask.frontend.id == frontend.id && ask.server == server.name)
                        .map(|(_, state)| state.clone())
                        .unwrap_or_default();
                    BackendServerState {
                        server: server.name.clone(),
                        address: server.address.clone(),
                        status: answer.status,
                        sessions: answer.sessions,
                        error: answer.error,
                    }
                })
                .collect(),
        })
        .collect();
    Ok(Json(views))
}
