//! The `ec2` provider: an instance's host is an EC2 machine launched with its first layer's
//! settings (core `Ec2Settings`) and tagged with its stack, layer and hostname. Its user data
//! joins it with a join token made for that instance alone, for one use; the token is in the
//! user data only (never in a log). Stop, start and delete become StopInstances, StartInstances
//! and TerminateInstances. The machine's id is stored with the instance; when it is missing or
//! stale (after a restart, or a store restored from a backup), the machine is found again by
//! its tags.
//!
//! Credentials come from the AWS SDK's usual chain (environment, shared credentials and config
//! files); Drover stores none.

#[cfg(feature = "ec2")]
mod api;
#[cfg(not(feature = "ec2"))]
#[path = "no_api.rs"]
mod api;

use std::sync::Arc;
use std::time::Duration;

use drover_core::ec2::{Ec2Settings, Machine, MachineState, machine_tags, pick_machine, render_user_data};
use drover_proto::token::{Token, TokenKind};

use self::api::Ec2Api;
use super::{HostProvider, ProviderError};
use crate::store::{InstanceRow, NewJoinToken, Store};
use crate::time::now_ms;

/// How long a machine's join token works: the machine boots and enrolls within it.
const JOIN_TOKEN_LIFETIME: Duration = Duration::from_secs(6 * 3600);
/// How long a stop waits for the machine to be `stopped`.
const STOP_WAIT: Duration = Duration::from_secs(600);
/// How often a waiting stop looks.
const STOP_POLL: Duration = Duration::from_secs(2);

/// Runs, stops, starts and terminates instances' EC2 machines.
#[derive(Clone)]
pub struct Ec2Provider {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    server_url: String,
    ca_fingerprint: String,
}

impl Ec2Provider {
    /// A provider whose machines join `server_url`, pinning the CA of `ca_fingerprint`, with
    /// join tokens made in `store`.
    pub fn new(store: Store, server_url: String, ca_fingerprint: String) -> Self {
        Self { inner: Arc::new(Inner { store, server_url, ca_fingerprint }) }
    }

    /// The EC2 settings of the instance's first layer.
    pub async fn settings(&self, instance: &InstanceRow) -> Result<Ec2Settings, ProviderError> {
        let layer = instance.layers().into_iter().next().unwrap_or_default();
        settings_of(&self.inner.store, instance.stack_id, &layer).await
    }

    async fn api(&self, instance: &InstanceRow) -> Result<Ec2Api, ProviderError> {
        Ec2Api::new(&self.settings(instance).await?).await
    }

    /// The instance's machine: the stored one while it exists, else the one its tags find
    /// (stored then, or the stored id cleared when there is none).
    async fn machine(&self, api: &Ec2Api, instance: &InstanceRow) -> Result<Option<Machine>, ProviderError> {
        if let Some(id) = &instance.machine_id
            && let Some(machine) = api.describe(id).await?
            && !machine.state.is_some_and(MachineState::is_terminated)
        {
            return Ok(Some(machine));
        }
        let tagged = api.describe_tagged(&instance.stack_name, &instance.hostname).await?;
        let found = pick_machine(&tagged).cloned();
        let found_id = found.as_ref().map(|m| m.id.as_str());
        if found_id != instance.machine_id.as_deref() {
            match (&instance.machine_id, found_id) {
                (Some(old), Some(new)) => {
                    tracing::info!(instance = %instance.hostname, "machine {old} is gone; found {new} by its tags")
                }
                (None, Some(new)) => tracing::info!(instance = %instance.hostname, "found machine {new} by its tags"),
                (Some(old), None) => tracing::warn!(instance = %instance.hostname, "machine {old} is gone"),
                (None, None) => {}
            }
            self.inner.store.set_machine_id(instance.id, found_id).await?;
        }
        Ok(found)
    }

    /// At start-up: checks the stored machine id, and finds the machine by its tags when it is
    /// missing or stale.
    pub async fn adopt(&self, instance: &InstanceRow) -> Result<(), ProviderError> {
        let api = self.api(instance).await?;
        self.machine(&api, instance).await.map(|_| ())
    }

    /// A join token made for this instance alone, for one use, as the agent reads it.
    async fn join_token(&self, instance: &InstanceRow) -> Result<String, ProviderError> {
        let secret = crate::secrets::generate();
        let comment = format!("EC2 machine of {}", instance.hostname);
        self.inner
            .store
            .create_join_token(&NewJoinToken {
                secret_hash: &crate::secrets::hash(&secret),
                stack_id: instance.stack_id,
                layers: &instance.layers(),
                instance: Some(&instance.hostname),
                comment: Some(&comment),
                expires_at: Some(now_ms() + JOIN_TOKEN_LIFETIME.as_millis() as i64),
                uses: Some(1),
            })
            .await?;
        let token = Token {
            kind: TokenKind::Join,
            ca_fingerprint: self.inner.ca_fingerprint.clone(),
            secret,
            server_url: self.inner.server_url.clone(),
        };
        Ok(token.to_string())
    }

    /// Launches a machine for the instance and stores its id. An instance whose earlier machine
    /// is gone loses that machine's agent credential: the new machine enrolls with its own token.
    async fn launch(&self, api: &Ec2Api, instance: &InstanceRow) -> Result<(), ProviderError> {
        if instance.credential_hash.is_some() {
            tracing::info!(instance = %instance.hostname, "its machine is gone: a new one enrolls in its place");
            self.inner.store.forget_credential(instance.id).await?;
        }
        let settings = api.settings();
        let layer = instance.layers().into_iter().next().unwrap_or_default();
        let tags = machine_tags(settings, &instance.stack_name, &layer, &instance.hostname);
        let user_data = render_user_data(&instance.stack_name, &instance.hostname, &self.join_token(instance).await?);
        let id = api.run(&tags, &user_data).await?;
        tracing::info!(instance = %instance.hostname, machine = %id, "launched an EC2 machine");
        self.inner.store.set_machine_id(instance.id, Some(&id)).await?;
        Ok(())
    }

    async fn wait_stopped(&self, api: &Ec2Api, id: &str) -> Result<(), ProviderError> {
        let deadline = tokio::time::Instant::now() + STOP_WAIT;
        loop {
            let state = api.describe(id).await?.and_then(|m| m.state);
            if state.is_none_or(|s| matches!(s, MachineState::Stopped) || s.is_terminated()) {
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(ProviderError::Ec2 {
                    call: "StopInstances",
                    message: format!("machine {id} is still {state:?} after {} s", STOP_WAIT.as_secs()),
                });
            }
            tokio::time::sleep(STOP_POLL).await;
        }
    }
}

/// The EC2 settings of a stack's layer, checked.
pub async fn settings_of(store: &Store, stack_id: i64, layer: &str) -> Result<Ec2Settings, ProviderError> {
    let row = store.layer_provider_by_name(stack_id, layer).await?;
    let missing = || {
        ProviderError::Settings(format!(
            "layer {layer} has no EC2 settings; set them with `drover layer provider {layer} ec2 --ami AMI --instance-type TYPE`"
        ))
    };
    let raw =
        row.and_then(|r| r.provider_settings.filter(|_| r.provider.as_deref() == Some("ec2"))).ok_or_else(missing)?;
    let settings: Ec2Settings = serde_json::from_str(&raw).map_err(|e| {
        ProviderError::Settings(format!("layer {layer}'s EC2 settings are unreadable ({e}); set them again"))
    })?;
    settings.validate().map_err(|problems| {
        let list: Vec<String> = problems.iter().map(|p| format!("{}: {}", p.field, p.message)).collect();
        ProviderError::Settings(format!("layer {layer}'s EC2 settings are wrong: {}", list.join("; ")))
    })?;
    Ok(settings)
}

impl HostProvider for Ec2Provider {
    async fn start(&self, instance: &InstanceRow) -> Result<(), ProviderError> {
        let api = self.api(instance).await?;
        let Some(machine) = self.machine(&api, instance).await? else { return self.launch(&api, instance).await };
        match machine.state {
            Some(MachineState::Running | MachineState::Pending) => Ok(()),
            Some(MachineState::Stopping) => {
                self.wait_stopped(&api, &machine.id).await?;
                api.start(&machine.id).await
            }
            _ => api.start(&machine.id).await,
        }
    }

    async fn stop(&self, instance: &InstanceRow) -> Result<(), ProviderError> {
        let api = self.api(instance).await?;
        let Some(machine) = self.machine(&api, instance).await? else { return Ok(()) };
        if !matches!(machine.state, Some(MachineState::Stopped)) {
            api.stop(&machine.id).await?;
        }
        self.wait_stopped(&api, &machine.id).await
    }

    async fn remove(&self, instance: &InstanceRow) -> Result<(), ProviderError> {
        let api = self.api(instance).await?;
        if let Some(machine) = self.machine(&api, instance).await? {
            api.terminate(&machine.id).await?;
            tracing::info!(instance = %instance.hostname, machine = %machine.id, "terminated its EC2 machine");
        }
        Ok(())
    }
}
