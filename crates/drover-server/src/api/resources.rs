//! Stacks and layers.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use drover_core::access::Level;
use drover_core::scaling::ScalingType;
use drover_proto::api::{CreateLayer, CreateStack, Layer, RunningRelease, Stack, StackStatus};

use super::auth::{Admin, Caller, Can, MANAGE, SHOW, no_such_stack};
use super::extract::{Body, Path};
use super::failure::{ApiResult, Failure};
use super::{parse, views};
use crate::state::AppState;
use crate::store::{LayerRow, StackRow, StoreError};

/// The stack named in the path, or 404.
pub async fn load_stack(state: &AppState, name: &str) -> ApiResult<StackRow> {
    state.store.stack(name).await?.ok_or_else(|| no_such_stack(name))
}

/// The layer named in the path, or 404.
pub async fn load_layer(state: &AppState, stack: &StackRow, name: &str) -> ApiResult<LayerRow> {
    let layers = state.store.layers(stack.id).await?;
    layers.into_iter().find(|l| l.shortname == name).ok_or_else(|| {
        Failure::not_found(
            "layer",
            format!(
                "layer {name:?} does not exist in stack {}; `drover layer list --stack {}` shows its layers",
                stack.name, stack.name
            ),
        )
    })
}

/// The stacks the caller may see: a denied stack leaves no trace.
#[utoipa::path(
    get,
    path = "/stacks",
    operation_id = "list_stacks",
    tag = "stacks",
    summary = "List the stacks the caller may see",
    responses((status = 200, description = "The visible stacks", body = Vec<drover_proto::api::Stack>))
)]
pub async fn list_stacks(caller: Caller, State(state): State<AppState>) -> ApiResult<Json<Vec<Stack>>> {
    let mut visible = Vec::new();
    for stack in state.store.stacks().await? {
        if caller.level_on(&state, stack.id).await? > Level::Deny {
            visible.push(views::stack(&stack));
        }
    }
    Ok(Json(visible))
}

#[utoipa::path(
    post,
    path = "/stacks",
    operation_id = "create_stack",
    tag = "stacks",
    summary = "Create a stack",
    request_body = drover_proto::api::CreateStack,
    responses((status = 201, description = "The new stack", body = drover_proto::api::Stack), (status = 403, description = "Only an admin may do this", body = drover_proto::ErrorBody), (status = 409, description = "A stack of that name exists", body = drover_proto::ErrorBody))
)]
pub async fn create_stack(
    _: Admin,
    State(state): State<AppState>,
    Body(req): Body<CreateStack>,
) -> ApiResult<(StatusCode, Json<Stack>)> {
    let new = parse::stack(req)?;
    let row = state.store.create_stack(new.name.as_str(), &new.custom_json).await.map_err(|e| match e {
        StoreError::Duplicate => {
            Failure::conflict(Some("name"), format!("stack {} already exists; pick another name", new.name))
        }
        e => e.into(),
    })?;
    Ok((StatusCode::CREATED, Json(views::stack(&row))))
}

#[utoipa::path(
    get,
    path = "/stacks/{stack}",
    operation_id = "show_stack",
    tag = "stacks",
    summary = "Show a stack",
    params(("stack" = String, Path, description = "The stack's name")),
    responses((status = 200, description = "The stack", body = drover_proto::api::Stack))
)]
pub async fn show_stack(
    _: Can<SHOW>,
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<Json<Stack>> {
    Ok(Json(views::stack(&load_stack(&state, &name).await?)))
}

#[utoipa::path(
    delete,
    path = "/stacks/{stack}",
    operation_id = "delete_stack",
    tag = "stacks",
    summary = "Delete a stack that has no instances",
    params(("stack" = String, Path, description = "The stack's name")),
    responses((status = 204, description = "Deleted"), (status = 403, description = "The token's level on the stack is too low", body = drover_proto::ErrorBody), (status = 409, description = "The stack still has instances", body = drover_proto::ErrorBody))
)]
pub async fn delete_stack(
    _: Can<MANAGE>,
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    let stack = load_stack(&state, &name).await?;
    let instances = state.store.instances(stack.id).await?;
    if let Some(first) = instances.first() {
        return Err(Failure::conflict(
            Some("stack"),
            format!(
                "stack {name} still has {} instance(s), e.g. {}; stop and delete them first",
                instances.len(),
                first.hostname
            ),
        ));
    }
    state.store.delete_stack(stack.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    get,
    path = "/stacks/{stack}/status",
    operation_id = "stack_status",
    tag = "stacks",
    summary = "A stack's layers, instances, latest deployments and scaling state",
    params(("stack" = String, Path, description = "The stack's name")),
    responses((status = 200, description = "The status", body = drover_proto::api::StackStatus))
)]
pub async fn stack_status(
    _: Can<SHOW>,
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<Json<StackStatus>> {
    let stack = load_stack(&state, &name).await?;
    let layers = state.store.layers(stack.id).await?;
    let instances = state.store.instances(stack.id).await?;
    let deployments = state.store.deployments(stack.id, 5).await?;
    let mut load_scaling = Vec::new();
    for layer in &layers {
        let row = state.store.layer_load_scaling(layer.id).await?;
        if let Some(row) = row.filter(|r| r.scaling().is_some()) {
            load_scaling.push(super::layer_scaling::view(&state, &row).await?);
        }
    }
    let timed = instances.iter().filter(|i| i.scaling == ScalingType::Time.as_str());
    let running = state.store.current_releases(stack.id).await?;
    let certificates = frontend_certificates(&state, &stack.name).await?;
    Ok(Json(StackStatus {
        stack: views::stack(&stack),
        layers: layers.iter().map(|l| views::layer(&stack.name, l)).collect(),
        instances: instances.iter().map(views::instance).collect(),
        recent_deployments: deployments.iter().map(|d| views::deployment(d, &[])).collect(),
        load_scaling,
        time_scaling: timed.map(|i| super::scaling::view(&state, i)).collect(),
        running: running
            .into_iter()
            .map(|r| RunningRelease { instance: r.hostname, app: r.app, release: r.name, commit: r.sha })
            .collect(),
        certificates,
    }))
}

/// The certificate each online frontend serves on HTTPS.
async fn frontend_certificates(
    state: &AppState,
    stack: &str,
) -> ApiResult<Vec<drover_proto::api::FrontendCertificate>> {
    let Some(model) = crate::orchestrator::StackModel::load(state, stack).await? else { return Ok(Vec::new()) };
    let none = serde_json::json!({});
    let now = crate::time::now_ms() / 1000;
    Ok(model
        .instances
        .iter()
        .filter(|i| i.status() == drover_core::InstanceStatus::Online)
        .filter(|i| model.types_of(i).contains(&drover_core::LayerType::Frontend))
        .filter_map(|i| crate::frontend_tls::certificate_of(&i.hostname, &model.effective(Some(i), &none), now))
        .collect())
}

#[utoipa::path(
    get,
    path = "/stacks/{stack}/layers",
    operation_id = "list_layers",
    tag = "layers",
    summary = "List a stack's layers",
    params(("stack" = String, Path, description = "The stack's name")),
    responses((status = 200, description = "The layers", body = Vec<drover_proto::api::Layer>))
)]
pub async fn list_layers(
    _: Can<SHOW>,
    State(state): State<AppState>,
    Path(stack): Path<String>,
) -> ApiResult<Json<Vec<Layer>>> {
    let stack = load_stack(&state, &stack).await?;
    let layers = state.store.layers(stack.id).await?;
    Ok(Json(layers.iter().map(|l| views::layer(&stack.name, l)).collect()))
}

#[utoipa::path(
    post,
    path = "/stacks/{stack}/layers",
    operation_id = "create_layer",
    tag = "layers",
    summary = "Create a layer",
    params(("stack" = String, Path, description = "The stack's name")),
    request_body = drover_proto::api::CreateLayer,
    responses((status = 201, description = "The new layer", body = drover_proto::api::Layer), (status = 403, description = "The token's level on the stack is too low", body = drover_proto::ErrorBody), (status = 409, description = "A layer of that name exists", body = drover_proto::ErrorBody))
)]
pub async fn create_layer(
    _: Can<MANAGE>,
    State(state): State<AppState>,
    Path(stack): Path<String>,
    Body(req): Body<CreateLayer>,
) -> ApiResult<(StatusCode, Json<Layer>)> {
    let new = parse::layer(req)?;
    let stack = load_stack(&state, &stack).await?;
    let row = state
        .store
        .create_layer(
            stack.id,
            new.shortname.as_str(),
            new.layer_type.as_str(),
            &new.custom_json,
            new.auto_healing,
            &new.hooks,
        )
        .await
        .map_err(|e| match e {
            StoreError::Duplicate => Failure::conflict(
                Some("shortname"),
                format!("layer {} already exists in stack {}; pick another shortname", new.shortname, stack.name),
            ),
            e => e.into(),
        })?;
    if new.layer_type == drover_core::LayerType::Frontend {
        // The HAProxy stats password, made now rather than by the first read of the stack (a
        // background loop's read would otherwise change the store at some later moment).
        let make = || crate::secrets::generate()[..24].to_owned();
        state.store.stack_secret(stack.id, crate::orchestrator::model::STATS_PASSWORD, make).await?;
    }
    Ok((StatusCode::CREATED, Json(views::layer(&stack.name, &row))))
}

#[utoipa::path(
    get,
    path = "/stacks/{stack}/layers/{layer}",
    operation_id = "show_layer",
    tag = "layers",
    summary = "Show a layer",
    params(("stack" = String, Path, description = "The stack's name"), ("layer" = String, Path, description = "The layer's shortname")),
    responses((status = 200, description = "The layer", body = drover_proto::api::Layer))
)]
pub async fn show_layer(
    _: Can<SHOW>,
    State(state): State<AppState>,
    Path((stack, layer)): Path<(String, String)>,
) -> ApiResult<Json<Layer>> {
    let stack = load_stack(&state, &stack).await?;
    Ok(Json(views::layer(&stack.name, &load_layer(&state, &stack, &layer).await?)))
}

#[utoipa::path(
    delete,
    path = "/stacks/{stack}/layers/{layer}",
    operation_id = "delete_layer",
    tag = "layers",
    summary = "Delete a layer that has no instances",
    params(("stack" = String, Path, description = "The stack's name"), ("layer" = String, Path, description = "The layer's shortname")),
    responses((status = 204, description = "Deleted"), (status = 403, description = "The token's level on the stack is too low", body = drover_proto::ErrorBody), (status = 409, description = "The layer still has instances or apps", body = drover_proto::ErrorBody))
)]
pub async fn delete_layer(
    _: Can<MANAGE>,
    State(state): State<AppState>,
    Path((stack, layer)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let stack = load_stack(&state, &stack).await?;
    let layer = load_layer(&state, &stack, &layer).await?;
    let (instances, apps) = state.store.layer_usage(layer.id).await?;
    if instances > 0 || apps > 0 {
        return Err(Failure::conflict(
            Some("layer"),
            format!(
                "layer {} is still used by {instances} instance(s) and {apps} app(s); delete them or move the apps first",
                layer.shortname
            ),
        ));
    }
    state.store.delete_layer(layer.id).await?;
    Ok(StatusCode::NO_CONTENT)
}
