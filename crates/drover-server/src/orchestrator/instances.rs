//! Creating instances, the one way: from the API (`drover instance create`) and for a host that
//! registers itself when its agent joins. Names, addresses and layers are checked and allocated
//! here; a local instance's agent is started at once, an ec2 instance's machine is launched.

use std::net::Ipv4Addr;

use drover_core::address::next_local_address;
use drover_core::lifecycle::Event;
use drover_core::scaling::ScalingType;
use drover_core::{InstanceStatus, Provider, Shortname};

use super::{OrchestratorError, apply_event};
use crate::state::AppState;
use crate::store::{InstanceRow, JoinUse, NewEvent, NewHostname, NewInstance, StackRow, StoreError};

/// What a new instance is.
pub struct InstanceRequest<'a> {
    /// Its layers' shortnames, at least one.
    pub layers: &'a [Shortname],
    /// Local (the server starts its agent), ec2 (the server launches a machine) or registered
    /// (a host that joins); none: the first layer's provider (`drover layer provider`), or local.
    pub provider: Option<Provider>,
    /// Its hostname; by default the next free one of its first layer.
    pub hostname: Option<Shortname>,
    /// A CPU count to use instead of the one its agent reports.
    pub cpu_count: Option<u32>,
    /// A registering host's address, as its agent reported it.
    pub address: Option<&'a str>,
    /// The request field that names the hostname (for the error on a duplicate).
    pub hostname_field: &'static str,
    /// How it is started: a `24/7` local or ec2 instance at once; a `time` or `load` one is left
    /// stopped for its schedule or its layer's rule to start.
    pub scaling: ScalingType,
}

/// Creates an instance; a local one's agent is started, an ec2 one's machine launched (a failure
/// to start it leaves the instance `start_failed`, not missing).
pub async fn create_instance(
    state: &AppState,
    stack: &StackRow,
    req: InstanceRequest<'_>,
) -> Result<InstanceRow, OrchestratorError> {
    create(state, stack, req, None).await
}

/// Creates the instance of a host that registers itself, taking one use of its join token and
/// storing its agent's credential in the same transaction: a refused registration leaves nothing.
pub async fn register_instance(
    state: &AppState,
    stack: &StackRow,
    req: InstanceRequest<'_>,
    join: JoinUse<'_>,
) -> Result<InstanceRow, OrchestratorError> {
    create(state, stack, req, Some(join)).await
}

async fn create(
    state: &AppState,
    stack: &StackRow,
    req: InstanceRequest<'_>,
    join: Option<JoinUse<'_>>,
) -> Result<InstanceRow, OrchestratorError> {
    let first = req.layers.first().ok_or_else(|| {
        OrchestratorError::invalid("layers", "an instance needs at least one layer; pass --layer NAME")
    })?;
    let layers = state.store.layers(stack.id).await?;
    let mut layer_ids = Vec::new();
    for (i, name) in req.layers.iter().enumerate() {
        let layer = layers.iter().find(|l| l.shortname == name.as_str()).ok_or_else(|| {
            OrchestratorError::not_found(
                format!("layers[{i}]"),
                format!("layer {name} does not exist in stack {}; create it with `drover layer create`", stack.name),
            )
        })?;
        layer_ids.push(layer.id);
    }

    let provider = match req.provider {
        Some(p) => p,
        None => layer_provider(state, stack.id, first.as_str()).await?,
    };
    if provider == Provider::Ec2 {
        // Refused before anything is created: the machine could not be launched.
        crate::provider::ec2::settings_of(&state.store, stack.id, first.as_str())
            .await
            .map_err(|e| OrchestratorError::invalid("provider", e.to_string()))?;
    }
    let guard = state.local.allocation_guard().await;
    let hostname = match &req.hostname {
        Some(h) => NewHostname::Given(h.as_str()),
        None => NewHostname::NextOf(first),
    };
    let (address, status) = match (provider, req.address) {
        (Provider::Local, _) => {
            let taken: Vec<Ipv4Addr> =
                state.store.local_addresses().await?.iter().filter_map(|a| a.parse().ok()).collect();
            let address = next_local_address(state.config.local_first_address, &taken)
                .map_err(|e| OrchestratorError::conflict(Some("provider"), e.to_string()))?;
            let status =
                if req.scaling == ScalingType::AlwaysOn { InstanceStatus::Booting } else { InstanceStatus::Stopped };
            (Some(address.to_string()), status)
        }
        (Provider::Ec2, _) => {
            let status =
                if req.scaling == ScalingType::AlwaysOn { InstanceStatus::Booting } else { InstanceStatus::Stopped };
            (None, status)
        }
        (Provider::Registered, Some(address)) => (Some(address.to_owned()), InstanceStatus::Registered),
        (Provider::Registered, None) => (None, InstanceStatus::Registering),
    };
    let id = state
        .store
        .create_instance(&NewInstance {
            stack_id: stack.id,
            hostname,
            provider: provider.as_str(),
            status,
            address: address.as_deref(),
            cpu_count_override: req.cpu_count,
            scaling: req.scaling.as_str(),
            layer_ids: &layer_ids,
            join,
        })
        .await
        .map_err(|e| match e {
            StoreError::Duplicate => OrchestratorError::conflict(
                Some(req.hostname_field),
                format!(
                    "instance {} already exists in stack {}; pick another hostname",
                    req.hostname.as_ref().map_or(first.as_str(), Shortname::as_str),
                    stack.name
                ),
            ),
            e => e.into(),
        })?;
    drop(guard);
    let row = state
        .store
        .instance_by_id(id)
        .await?
        .ok_or_else(|| OrchestratorError::Internal(format!("instance {id} vanished after its creation")))?;
    if provider != Provider::Registered
        && row.status() == InstanceStatus::Booting
        && let Err(e) = crate::provider::start_host(state, &row).await
    {
        tracing::error!(instance = %row.hostname, "failed to start its host: {e}");
        let message = format!("{} failed to start: {e}", row.hostname);
        let event = NewEvent {
            stack_id: row.stack_id,
            kind: "start_failed",
            instance: Some(&row.hostname),
            layer: None,
            message: &message,
        };
        super::events::record(state, &event).await?;
        apply_event(state, &row, Event::StartFailed).await?;
    }
    Ok(state.store.instance_by_id(id).await?.unwrap_or(row))
}

/// The provider new instances of the layer get: the one set with `drover layer provider`, or
/// local.
async fn layer_provider(state: &AppState, stack_id: i64, layer: &str) -> Result<Provider, OrchestratorError> {
    let row = state.store.layer_provider_by_name(stack_id, layer).await?;
    Ok(row.and_then(|r| r.provider).and_then(|p| p.parse().ok()).unwrap_or(Provider::Local))
}
