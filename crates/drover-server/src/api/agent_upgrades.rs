//! Agent upgrades: `POST /stacks/{stack}/agent-upgrades` queues one `AgentUpgrade` command per
//! online agent (rolling: one per batch), and `GET /agent/binary` serves the binary they fetch.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::Response;
use drover_core::DeploymentKind;
use drover_core::agent_upgrade::{knows_upgrades, predates_upgrades};
use drover_core::targeting::Plan;
use drover_proto::agent::CommandSpec;
use drover_proto::api::Deployment;
use drover_proto::upgrade::{CreateAgentUpgrade, SHA256_HEADER};

use super::auth::{Can, MANAGE};
use super::deployments::load;
use super::extract::{Agent, Body as JsonBody, Path};
use super::failure::{ApiResult, Failure};
use super::parse;
use super::resources::load_stack;
use crate::orchestrator::targets::{queue_commands, targets};
use crate::state::AppState;
use crate::store::{NewDeployment, PlannedCommand};

/// The served binary as measured at start, or a 409 saying why there is none.
async fn measured(state: &AppState) -> ApiResult<drover_proto::upgrade::ServedBinary> {
    state.agent_binary.measured().await.map_err(|e| Failure::conflict(None, e))
}

#[utoipa::path(
    post,
    path = "/stacks/{stack}/agent-upgrades",
    operation_id = "upgrade_agents",
    tag = "instances",
    summary = "Upgrade the stack's agents to the server's binary, without restarting their services",
    params(("stack" = String, Path, description = "The stack's name")),
    request_body = drover_proto::upgrade::CreateAgentUpgrade,
    responses(
        (status = 201, description = "The deployment of kind agent_upgrade: one command per agent", body = drover_proto::api::Deployment),
        (status = 403, description = "The token's level on the stack is too low (manage is needed)", body = drover_proto::ErrorBody),
        (status = 409, description = "The server's agent binary cannot be read", body = drover_proto::ErrorBody),
        (status = 422, description = "No online instance matches, or a field is wrong", body = drover_proto::ErrorBody)
    )
)]
pub async fn create(
    _: Can<MANAGE>,
    State(state): State<AppState>,
    Path(stack): Path<String>,
    JsonBody(req): JsonBody<CreateAgentUpgrade>,
) -> ApiResult<(StatusCode, Json<Deployment>)> {
    let new = parse::agent_upgrade(req)?;
    let stack = load_stack(&state, &stack).await?;
    let (instances, targets) = targets(&state, &stack, &[], &new.instances).await?;
    let binary = measured(&state).await?;
    let spec = CommandSpec::AgentUpgrade { binary, timeout_secs: Some(new.timeout_secs) };
    let spec_json = serde_json::to_string(&spec).map_err(Failure::internal)?;
    let runs: Vec<bool> = targets
        .iter()
        .map(|t| {
            let version = instances.iter().find(|i| i.hostname == t.hostname).and_then(|i| i.agent_version.as_deref());
            t.plan == Plan::Run && knows_upgrades(version)
        })
        .collect();
    let batches = drover_core::agent_upgrade::batches(&runs, new.rolling);
    let planned: Vec<PlannedCommand> = targets
        .into_iter()
        .zip(batches)
        .filter_map(|(t, batch)| {
            let instance = instances.iter().find(|i| i.hostname == t.hostname)?;
            let version = instance.agent_version.as_deref();
            let skip = match t.plan {
                Plan::Run if knows_upgrades(version) => None,
                Plan::Run => Some(predates_upgrades(version)),
                Plan::Skip(why) => Some(why),
            };
            Some(PlannedCommand { instance_id: instance.id, spec_json: spec_json.clone(), skip, batch, held: false })
        })
        .collect();
    let id = queue_commands(
        &state,
        &NewDeployment {
            stack_id: stack.id,
            kind: DeploymentKind::AgentUpgrade,
            comment: new.comment.as_deref(),
            command_json: "[]",
            app: None,
            targets: &planned,
            revision: None,
            commit: None,
            max_unavailable: 1,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(load(&state, id).await?)))
}

/// `GET /agent/binary`: the binary, read from disk now, with the SHA-256 measured at start in
/// [`SHA256_HEADER`] (the command carries it too; the agent checks the bytes against it).
pub async fn binary(_: Agent, State(state): State<AppState>) -> ApiResult<Response> {
    let served = measured(&state).await?;
    let path = state.agent_binary.path();
    let file = tokio::fs::File::open(path)
        .await
        .map_err(|e| Failure::conflict(None, format!("the agent binary {} cannot be read now: {e}", path.display())))?;
    let len = file.metadata().await.map_err(Failure::internal)?.len();
    let stream = tokio_util::io::ReaderStream::with_capacity(file, 256 * 1024);
    Response::builder()
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .header(header::CONTENT_LENGTH, len)
        .header(SHA256_HEADER, served.sha256)
        .body(Body::from_stream(stream))
        .map_err(Failure::internal)
}
