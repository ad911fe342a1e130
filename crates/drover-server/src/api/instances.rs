//! Instances: create (a local one starts at once), list, show, start, stop, delete.

use std::net::Ipv4Addr;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use drover_core::address::next_local_address;
use drover_core::lifecycle::Event;
use drover_core::{InstanceStatus, Provider, next_hostname};
use drover_proto::api::{CreateInstance, Instance};

use super::extract::{Admin, Body};
use super::failure::{ApiResult, Failure};
use super::resources::load_stack;
use super::{parse, views};
use crate::orchestrator::{self, apply_event};
use crate::state::AppState;
use crate::store::{InstanceRow, NewInstance, StackRow, StoreError};

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

pub async fn list(
    _: Admin,
    State(state): State<AppState>,
    Path(stack): Path<String>,
) -> ApiResult<Json<Vec<Instance>>> {
    let stack = load_stack(&state, &stack).await?;
    Ok(Json(state.store.instances(stack.id).await?.iter().map(views::instance).collect()))
}

pub async fn show(
    _: Admin,
    State(state): State<AppState>,
    Path((stack, host)): Path<(String, String)>,
) -> ApiResult<Json<Instance>> {
    let stack = load_stack(&state, &stack).await?;
    Ok(Json(views::instance(&load_instance(&state, &stack, &host).await?)))
}

pub async fn create(
    _: Admin,
    State(state): State<AppState>,
    Path(stack): Path<String>,
    Body(req): Body<CreateInstance>,
) -> ApiResult<(StatusCode, Json<Instance>)> {
    let new = parse::instance(req)?;
    let stack = load_stack(&state, &stack).await?;
    let layers = state.store.layers(stack.id).await?;
    let mut layer_ids = Vec::new();
    for (i, name) in new.layers.iter().enumerate() {
        let layer = layers.iter().find(|l| l.shortname == name.as_str()).ok_or_else(|| {
            Failure::not_found(
                format!("layers[{i}]"),
                format!("layer {name} does not exist in stack {}; create it with `drover layer create`", stack.name),
            )
        })?;
        layer_ids.push(layer.id);
    }

    let _guard = state.local.allocation_guard().await;
    let existing = state.store.instances(stack.id).await?;
    let hostname = match new.hostname {
        Some(h) => h,
        None => {
            let taken: Vec<&str> = existing.iter().map(|i| i.hostname.as_str()).collect();
            next_hostname(&new.layers[0], &taken)
        }
    };
    let (address, status) = match new.provider {
        Provider::Local => {
            let taken: Vec<Ipv4Addr> =
                state.store.local_addresses().await?.iter().filter_map(|a| a.parse().ok()).collect();
            let address = next_local_address(state.config.local_first_address, &taken)
                .map_err(|e| Failure::conflict(Some("provider"), e.to_string()))?;
            (Some(address.to_string()), InstanceStatus::Booting)
        }
        Provider::Registered => (None, InstanceStatus::Registering),
    };
    let id = state
        .store
        .create_instance(&NewInstance {
            stack_id: stack.id,
            hostname: hostname.as_str(),
            provider: new.provider.as_str(),
            status,
            address: address.as_deref(),
            cpu_count_override: new.cpu_count,
            layer_ids: &layer_ids,
        })
        .await
        .map_err(|e| match e {
            StoreError::Duplicate => Failure::conflict(
                Some("hostname"),
                format!("instance {hostname} already exists in stack {}; pick another --hostname", stack.name),
            ),
            e => e.into(),
        })?;
    drop(_guard);
    let row = state.store.instance_by_id(id).await?.ok_or_else(|| Failure::internal("instance vanished"))?;
    if new.provider == Provider::Local
        && let Err(e) = state.local.spawn(&row).await
    {
        tracing::error!(instance = %row.hostname, "failed to start the agent: {e}");
        apply_event(&state, &row, Event::StartFailed).await?;
    }
    let row = state.store.instance_by_id(id).await?.unwrap_or(row);
    Ok((StatusCode::CREATED, Json(views::instance(&row))))
}

pub async fn start(admin: Admin, state: State<AppState>, path: Path<(String, String)>) -> ApiResult<Json<Instance>> {
    power(admin, state, path, Power::Start).await
}

pub async fn stop(admin: Admin, state: State<AppState>, path: Path<(String, String)>) -> ApiResult<Json<Instance>> {
    power(admin, state, path, Power::Stop).await
}

enum Power {
    Start,
    Stop,
}

async fn power(
    _: Admin,
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

pub async fn delete(
    _: Admin,
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
    if instance.provider == Provider::Local.as_str() {
        state.local.stop(&instance).await;
    }
    orchestrator::abandon_commands(&state, instance.id, "the instance was deleted").await?;
    state.store.delete_instance(instance.id).await?;
    if instance.provider == Provider::Local.as_str()
        && let Err(e) = state.local.remove_root(&instance)
    {
        tracing::warn!(instance = %host, "failed to remove the instance's root: {e}");
    }
    Ok(StatusCode::NO_CONTENT)
}
