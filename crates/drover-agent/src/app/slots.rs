//! Restart slots of the deployment a command belongs to (see
//! `drover_core::deploy::restart_plan`): taken from the server before a serving client goes
//! down, given back once it is healthy again.

use std::time::{Duration, Instant};

use drover_client::AgentClient;
use drover_proto::agent::RestartSlotRequest;

use crate::backoff::{Backoff, is_transient, retry_until_accepted};
use crate::output::OutputStream;

/// How long one slot request waits on the server.
const WAIT: Duration = Duration::from_secs(20);

/// The slots of one command.
#[derive(Clone)]
pub struct RestartSlots {
    /// None: no coordination (every slot granted at once).
    client: Option<AgentClient>,
    command_id: i64,
}

impl RestartSlots {
    /// Slots asked of the server for `command_id`.
    pub fn new(client: AgentClient, command_id: i64) -> Self {
        Self { client: Some(client), command_id }
    }

    /// The server and the command the slots belong to (what the frontend relay needs too).
    pub fn command(&self) -> Option<(AgentClient, i64)> {
        self.client.clone().map(|client| (client, self.command_id))
    }

    fn request(service: &str, wait: Duration) -> RestartSlotRequest {
        RestartSlotRequest { service: service.to_owned(), wait: wait.as_secs() }
    }

    /// Waits until the deployment grants a slot for `service`. The command's own timeout bounds
    /// the wait; a server that is away is retried.
    pub async fn take(&self, service: &str, out: &OutputStream) -> Result<(), String> {
        let Some(client) = &self.client else { return Ok(()) };
        let began = Instant::now();
        let mut said = false;
        let mut backoff = Backoff::new();
        loop {
            match client.take_restart_slot(self.command_id, &Self::request(service, WAIT)).await {
                Ok(slot) if slot.granted => {
                    if said {
                        out.push(&format!(
                            "restart slot for {service} granted after {:.1} s\n",
                            began.elapsed().as_secs_f64()
                        ));
                    }
                    return Ok(());
                }
                Ok(slot) => {
                    if !said {
                        out.push(&format!(
                            "waiting for a restart slot for {service} (max_unavailable reached; held by {})\n",
                            slot.holders.join(", ")
                        ));
                        said = true;
                    }
                    backoff.reset();
                }
                Err(e) if !is_transient(&e) => {
                    return Err(format!("the server refused a restart slot for {service}: {e}"));
                }
                Err(e) => {
                    tracing::debug!("failed to ask for a restart slot, retrying: {e}");
                    backoff.wait_after(&e).await;
                }
            }
        }
    }

    /// Gives the slot back (the command's end gives it back too, should this fail).
    pub async fn give_back(&self, service: &str) {
        let Some(client) = &self.client else { return };
        let req = Self::request(service, Duration::ZERO);
        let given = retry_until_accepted("give a restart slot back", Some(3), || {
            client.give_back_restart_slot(self.command_id, &req)
        });
        if let Err(e) = given.await {
            tracing::debug!("failed to give a restart slot back (the command's end frees it): {e}");
        }
    }
}
