//! What every handler and loop shares.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{Notify, watch};

use crate::cluster::bus::{Message, Outbox};
use crate::config::ServerConfig;
use crate::provider::{Ec2Provider, LocalProvider};
use crate::store::Store;

/// Shared server state.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<ServerConfig>,
    pub auth: Arc<AuthKeys>,
    pub wakeups: Arc<Wakeups>,
    pub local: LocalProvider,
    /// EC2 machines of `ec2` layers.
    pub ec2: Ec2Provider,
    /// Serialises the creation of app deployments (lock check and take).
    pub deploy_gate: Arc<tokio::sync::Mutex<()>>,
    /// Held Configure commands waiting for their stack to settle.
    pub configure_events: Arc<crate::orchestrator::ConfigureEvents>,
    /// Requests for frontends' HAProxy, relayed from app agents.
    pub frontend_relay: Arc<crate::relay::FrontendRelay>,
    /// Which agents hold a command long-poll open.
    pub presence: Arc<crate::presence::AgentPresence>,
    /// Recent heartbeat metrics per instance, for load-based scaling.
    pub metrics: Arc<crate::metrics_history::MetricsHistory>,
    /// The binary upgrading agents download, with its checksum from the start.
    pub agent_binary: Arc<crate::served_binary::AgentBinary>,
    /// Wrong console passwords per user name, to slow down guessing.
    pub wrong_passwords: Arc<crate::passwords::WrongGuesses>,
    /// Cancelled `logs` commands whose agents are still to be told.
    pub cancelled: Arc<crate::cancels::Cancelled>,
    /// This server among the control plane's: its id, whether it leads, the others' outbox.
    pub cluster: Arc<crate::cluster::Cluster>,
}

/// The hash of the admin token's secret, and what every token the server makes carries: the
/// CA fingerprint and the server URL.
pub struct AuthKeys {
    pub admin_hash: String,
    pub ca_fingerprint: String,
    pub server_url: String,
}

/// Wakes long-polls: agents waiting for commands, clients waiting for log output, here and (through
/// the outbox) on the other servers of the control plane.
pub struct Wakeups {
    agents: Mutex<HashMap<i64, Arc<Notify>>>,
    changes: watch::Sender<u64>,
    others: Outbox,
}

impl Wakeups {
    /// No one waiting yet; `others` reaches the other servers.
    pub fn new(others: Outbox) -> Self {
        Self { agents: Mutex::new(HashMap::new()), changes: watch::channel(0).0, others }
    }

    /// The notifier an instance's agent waits on.
    pub fn agent(&self, instance_id: i64) -> Arc<Notify> {
        let mut map = self.agents.lock().unwrap_or_else(|e| e.into_inner());
        map.entry(instance_id).or_default().clone()
    }

    /// A command was queued for these instances.
    pub fn wake_agents(&self, instance_ids: &[i64]) {
        self.others.wake(instance_ids);
        self.wake_here(instance_ids);
        self.changed();
    }

    /// Something about a command changed (output, status).
    pub fn changed(&self) {
        self.others.send(Message::Changed);
        self.changed_here();
    }

    /// Wakes these instances' long-polls held by this server.
    pub fn wake_here(&self, instance_ids: &[i64]) {
        for id in instance_ids {
            self.agent(*id).notify_waiters();
        }
        self.changed_here();
    }

    /// Wakes every long-poll held by this server (a message from another may have been missed).
    pub fn wake_everyone_here(&self) {
        let ids: Vec<i64> = self.agents.lock().unwrap_or_else(|e| e.into_inner()).keys().copied().collect();
        self.wake_here(&ids);
    }

    /// Wakes this server's clients waiting for command output or status.
    pub fn changed_here(&self) {
        self.changes.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// A receiver that sees every later change.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }
}
