//! Providers: who starts and stops an instance's host, behind one trait, [`HostProvider`].
//! `local` runs the agent on this machine; `registered` hosts run their own agent (nothing to
//! start or stop here); `ec2` runs, stops, starts and terminates EC2 machines whose user data
//! installs the agent.

pub mod ec2;
mod error;
mod local;
mod registered;

use std::future::Future;

pub use ec2::Ec2Provider;
pub use error::ProviderError;
pub use local::LocalProvider;
pub use registered::RegisteredHosts;

use drover_core::{InstanceStatus, Provider};

use crate::state::AppState;
use crate::store::InstanceRow;

/// Starts, stops and removes instances' hosts.
pub trait HostProvider {
    /// Starts the instance's host (launches it when it has none); its agent then says hello.
    fn start(&self, instance: &InstanceRow) -> impl Future<Output = Result<(), ProviderError>> + Send;
    /// Stops the host; the instance keeps it for a later start.
    fn stop(&self, instance: &InstanceRow) -> impl Future<Output = Result<(), ProviderError>> + Send;
    /// Removes the host for good (the instance is being deleted).
    fn remove(&self, instance: &InstanceRow) -> impl Future<Output = Result<(), ProviderError>> + Send;
}

/// The instance's provider (an unknown name reads as `registered`: nothing is started or stopped).
pub fn provider_of(instance: &InstanceRow) -> Provider {
    instance.provider.parse().unwrap_or(Provider::Registered)
}

/// Starts the instance's host through its provider.
pub async fn start_host(state: &AppState, instance: &InstanceRow) -> Result<(), ProviderError> {
    match provider_of(instance) {
        Provider::Local => HostProvider::start(&state.local, instance).await,
        Provider::Registered => HostProvider::start(&RegisteredHosts, instance).await,
        Provider::Ec2 => HostProvider::start(&state.ec2, instance).await,
    }
}

/// Stops the instance's host through its provider.
pub async fn stop_host(state: &AppState, instance: &InstanceRow) -> Result<(), ProviderError> {
    match provider_of(instance) {
        Provider::Local => HostProvider::stop(&state.local, instance).await,
        Provider::Registered => HostProvider::stop(&RegisteredHosts, instance).await,
        Provider::Ec2 => HostProvider::stop(&state.ec2, instance).await,
    }
}

/// Removes the instance's host through its provider.
pub async fn remove_host(state: &AppState, instance: &InstanceRow) -> Result<(), ProviderError> {
    match provider_of(instance) {
        Provider::Local => HostProvider::remove(&state.local, instance).await,
        Provider::Registered => HostProvider::remove(&RegisteredHosts, instance).await,
        Provider::Ec2 => HostProvider::remove(&state.ec2, instance).await,
    }
}

/// Whether a local instance belongs to another server: with several servers on one store, each
/// runs (and watches, and re-adopts) the local agents whose roots are in its own data dir.
pub fn local_elsewhere(state: &AppState, instance: &InstanceRow) -> bool {
    state.cluster.database_url.is_some() && !state.local.root(instance).is_dir()
}

/// At start-up: re-adopts local agents that still run, and starts the missing ones of instances
/// that should be running.
pub async fn adopt_local_agents(state: &AppState) -> Result<(), sqlx::Error> {
    for instance in state.store.instances_by_provider(Provider::Local.as_str()).await? {
        if !should_run(instance.status()) || local_elsewhere(state, &instance) {
            continue;
        }
        match state.local.running_pid(&instance) {
            Some(pid) => tracing::info!(instance = %instance.hostname, pid, "re-adopted local agent"),
            None => {
                if let Err(e) = state.local.spawn(&instance).await {
                    tracing::error!(instance = %instance.hostname, "failed to restart local agent: {e}");
                }
            }
        }
    }
    Ok(())
}

/// At start-up, in the background: finds the machine of every `ec2` instance whose stored
/// machine id is missing or stale, by its tags.
pub fn adopt_ec2_machines(state: &AppState) {
    let state = state.clone();
    tokio::spawn(async move {
        let instances = match state.store.instances_by_provider(Provider::Ec2.as_str()).await {
            Ok(instances) => instances,
            Err(e) => return tracing::error!("failed to list the ec2 instances: {e}"),
        };
        for instance in instances {
            if let Err(e) = state.ec2.adopt(&instance).await {
                tracing::warn!(instance = %instance.hostname, "failed to find its EC2 machine: {e}");
            }
        }
    });
}

/// Whether an instance in this status should have its host running.
fn should_run(status: InstanceStatus) -> bool {
    use InstanceStatus::*;
    !matches!(status, Stopped | Stopping | ShuttingDown | StartFailed | Terminated | Terminating)
}
