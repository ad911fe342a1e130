//! Instances: create (a local one starts at once), list, show, start, stop, delete.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use drover_core::InstanceStatus;
use drover_proto::api::{CreateInstance, Instance};

use super::auth::{Can, DEPLOY, MANAGE, SHOW};
use super::extract::{Body, Path};
use super::failure::{ApiResult, Failure};
use super::resources::load_stack;
use super::{parse, views};
use crate::orchestrator;
use crate::orchestrator::instances::{InstanceRequest, create_instance};
use crate::state::AppState;
use crate::store::{InstanceRow, StackRow};

/// The instance named in the path, or 404.
pub async fn load_instance(state: &AppState, stack: &StackRow, host: &str) -> ApiResult<InstanceRow> {
    state.store.instance(stack.id, host).await?.ok_or_else(|| {
        Failure::not_found(
            "instance",
            format!(
                "instance {host:?} does not exist in stack {}; `drover instance list --stack {}` shows its instances",
                stack.name, stack.name
            ),
        )
    })
}

#[utoipa::path(
    get,
    path = "/stacks/{stack}/instances",
    operation_id = "list_instances",
    tag = "instances",
    summary = "List a stack's instances",
    params(("stack" = String, Path, description = "The stack's name")),
    responses((status = 200, description = "The instances", body = Vec<drover_proto::api::Instance>))
)]
pub async fn list(
    _: Can<SHOW>,
    State(state): State<AppState>,
    Path(stack): Path<String>,
) -> ApiResult<Json<Vec<Instance>>> {
    let stack = load_stack(&state, &stack).await?;
    Ok(Json(state.store.instances(stack.id).await?.iter().map(views::instance).collect()))
}

#[utoipa::path(
    get,
    path = "/stacks/{stack}/instances/{host}",
    operation_id = "show_instance",
    tag = "instances",
    summary = "Show an instance",
    params(("stack" = String, Path, description = "The stack's name"), ("host" = String, Path, description = "The instance's hostname")),
    responses((status = 200, description = "The instance", body = drover_proto::api::Instance))
)]
pub async fn show(
    _: Can<SHOW>,
    State(state): State<AppState>,
    Path((stack, host)): Path<(String, String)>,
) -> ApiResult<Json<Instance>> {
    let stack = load_stack(&state, &stack).await?;
    Ok(Json(views::instance(&load_instance(&state, &stack, &host).await?)))
}

#[utoipa::path(
    post,
    path = "/stacks/{stack}/instances",
    operation_id = "create_instance",
    tag = "instances",
    summary = "Create an instance (stopped)",
    params(("stack" = String, Path, description = "The stack's name")),
    request_body = drover_proto::api::CreateInstance,
    responses((status = 201, description = "The new instance", body = drover_proto::api::Instance), (status = 403, description = "The token's level on the stack is too low", body = drover_proto::ErrorBody), (status = 409, description = "An instance of that hostname exists, or no address is free", body = drover_proto::ErrorBody))
)]
pub async fn create(
    _: Can<MANAGE>,
    State(state): State<AppState>,
    Path(stack): Path<String>,
    Body(req): Body<CreateInstance>,
) -> ApiResult<(StatusCode, Json<Instance>)> {
    let new = parse::instance(req)?;
    let stack = load_stack(&state, &stack).await?;
    let request = InstanceRequest {
        layers: &new.layers,
        provider: new.provider,
        hostname: new.hostname,
        cpu_count: new.cpu_count,
        address: None,
        hostname_field: "hostname",
        scaling: new.scaling,
    };
    let row = create_instance(&state, &stack, request).await?;
    Ok((StatusCode::CREATED, Json(views::instance(&row))))
}

#[utoipa::path(
    post,
    path = "/stacks/{stack}/instances/{host}/start",
    operation_id = "start_instance",
    tag = "instances",
    summary = "Start an instance",
    params(("stack" = String, Path, description = "The stack's name"), ("host" = String, Path, description = "The instance's hostname")),
    responses((status = 200, description = "The instance, starting", body = drover_proto::api::Instance), (status = 403, description = "The token's level on the stack is too low", body = drover_proto::ErrorBody), (status = 409, description = "The instance cannot start from its status", body = drover_proto::ErrorBody))
)]
pub async fn start(
    admin: Can<DEPLOY>,
    state: State<AppState>,
    path: Path<(String, String)>,
) -> ApiResult<Json<Instance>> {
    power(admin, state, path, Power::Start).await
}

#[utoipa::path(
    post,
    path = "/stacks/{stack}/instances/{host}/stop",
    operation_id = "stop_instance",
    tag = "instances",
    summary = "Stop an instance (Shutdown, then stop)",
    params(("stack" = String, Path, description = "The stack's name"), ("host" = String, Path, description = "The instance's hostname")),
    responses((status = 200, description = "The instance, stopping", body = drover_proto::api::Instance), (status = 403, description = "The token's level on the stack is too low", body = drover_proto::ErrorBody), (status = 409, description = "The instance cannot stop from its status", body = drover_proto::ErrorBody))
)]
pub async fn stop(
    admin: Can<DEPLOY>,
    state: State<AppState>,
    path: Path<(String, String)>,
) -> ApiResult<Json<Instance>> {
    power(admin, state, path, Power::Stop).await
}

enum Power {
    Start,
    Stop,
}

async fn power(
    _: Can<DEPLOY>,
    State(state): State<AppState>,
    Path((stack, host)): Path<(String, String)>,
    power: Power,
) -> ApiResult<Json<Instance>> {
    let stack = load_stack(&state, &stack).await?;
    let instance = load_instance(&state, &stack, &host).await?;
    match power {
        Power::Start => orchestrator::start_instance(&state, &instance).await?,
        Power::Stop => orchestrator::stop_instance(&state, &instance).await?,
    }
    Ok(Json(views::instance(&load_instance(&state, &stack, &host).await?)))
}

#[utoipa::path(
    delete,
    path = "/stacks/{stack}/instances/{host}",
    operation_id = "delete_instance",
    tag = "instances",
    summary = "Delete a stopped instance",
    params(("stack" = String, Path, description = "The stack's name"), ("host" = String, Path, description = "The instance's hostname")),
    responses((status = 204, description = "Deleted"), (status = 403, description = "The token's level on the stack is too low", body = drover_proto::ErrorBody), (status = 409, description = "The instance is not stopped", body = drover_proto::ErrorBody))
)]
pub async fn delete(
    _: Can<MANAGE>,
    State(state): State<AppState>,
    Path((stack, host)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    use InstanceStatus::*;
    let stack = load_stack(&state, &stack).await?;
    let instance = load_instance(&state, &stack, &host).await?;
    if !matches!(instance.status(), Stopped | StartFailed | SetupFailed | Registering | ConnectionLost | StopFailed) {
        return Err(Failure::conflict(
            Some("instance"),
            format!("instance {host} is {}; stop it first with `drover instance stop {host}`", instance.status),
        ));
    }
    // The host goes first (an EC2 machine is terminated): a refusal keeps the instance, to retry.
    crate::provider::remove_host(&state, &instance).await.map_err(|e| {
        Failure::conflict(
            Some("instance"),
            format!("instance {host}'s host could not be removed, so the instance is kept: {e}; try again"),
        )
    })?;
    orchestrator::abandon_commands(&state, instance.id, "the instance was deleted").await?;
    state.store.delete_instance(instance.id).await?;
    Ok(StatusCode::NO_CONTENT)
}
