//! Restarts behind a frontend: once another server of the backend is up, each running client is
//! drained on every frontend (no new requests; in-flight ones finish, up to
//! `plone_instances.drain_timeout`), restarted, checked directly with the frontend's health
//! check, and made ready again only once healthy (within `plone_instances.healthy_deadline`, or
//! the restart fails). HAProxy's runtime API is a Unix socket on each frontend, so every request
//! goes through the server's frontend relay to the frontends' agents (see [`super::relay`]).

use std::time::Duration;

use drover_client::AgentClient;
use drover_core::deploy::restart_plan::RestartPolicy;
use drover_core::frontend::server_name;
use drover_proto::relay::{FrontendAction, FrontendAnswer, FrontendCall};
use serde_json::Value;
use tokio::time::Instant;

use crate::health::wait_healthy;
use crate::output::OutputStream;

/// How often a drain or a wait reads the backend's state.
const POLL: Duration = Duration::from_millis(200);

/// What a restart waits on.
pub struct Gate {
    /// The server, which relays to the frontends.
    client: AgentClient,
    /// The command the restarts belong to (the relay serves only running commands).
    command_id: i64,
    /// This instance.
    hostname: String,
    /// Client name → its `address:port`.
    clients: Vec<(String, String)>,
    drain_timeout: Duration,
    healthy_deadline: Duration,
    method: String,
    url: String,
}

/// Whether the stack configuration lists an online frontend.
fn has_frontend(opsworks: &Value) -> bool {
    opsworks["layers"]
        .as_object()
        .into_iter()
        .flat_map(|layers| layers.values())
        .filter(|l| l["type"] == "frontend")
        .filter_map(|l| l["instances"].as_object())
        .any(|members| !members.is_empty())
}

impl Gate {
    /// The gate for this instance's clients during command `command_id`, from the stack
    /// configuration and the restart policy the server sent; none without an online frontend.
    pub fn new(
        stack_config: &Value,
        clients: Vec<(String, String)>,
        policy: &RestartPolicy,
        (client, command_id): (AgentClient, i64),
    ) -> Option<Self> {
        let opsworks = stack_config.get("opsworks")?;
        if !has_frontend(opsworks) {
            return None;
        }
        Some(Self {
            client,
            command_id,
            hostname: opsworks["instance"]["hostname"].as_str()?.to_owned(),
            clients,
            drain_timeout: Duration::from_secs_f64(policy.drain_timeout_secs),
            healthy_deadline: Duration::from_secs_f64(policy.healthy_deadline_secs),
            method: policy.health_check_method.clone(),
            url: policy.health_check_url.clone(),
        })
    }

    fn server(&self, client: &str) -> String {
        server_name(&self.hostname, client)
    }

    /// Has every online frontend act on `server`; their answers (none when the server could not
    /// be reached: said in the output when `out` is given).
    async fn ask(&self, server: &str, action: FrontendAction, out: Option<&OutputStream>) -> Vec<FrontendAnswer> {
        let call = FrontendCall { server: server.to_owned(), action };
        let answers = match self.client.frontends(self.command_id, &call).await {
            Ok(answers) => answers.frontends,
            Err(e) => {
                if let Some(out) = out {
                    out.push(&format!("warning: failed to {} {server} on the frontends: {e}\n", action.as_str()));
                }
                return Vec::new();
            }
        };
        if let Some(out) = out {
            for answer in &answers {
                if let Some(error) = &answer.state.error {
                    out.push(&format!("warning: {}: {} {server}: {error}\n", answer.frontend, action.as_str()));
                }
            }
        }
        answers
    }

    /// Waits (up to `healthy_deadline`) until, on every frontend, another server of the backend
    /// takes requests, so that draining `server` leaves the site answering: right after a first
    /// deploy, or after a crash, the other clients may still be starting.
    async fn wait_for_another_server(&self, server: &str, out: &OutputStream) {
        let began = Instant::now();
        let mut said = false;
        loop {
            let answers = self.ask(server, FrontendAction::State, None).await;
            let alone: Vec<&str> = answers
                .iter()
                .filter(|a| a.state.error.is_none() && a.state.others > 0 && a.state.others_serving == 0)
                .map(|a| a.frontend.as_str())
                .collect();
            if alone.is_empty() {
                if said {
                    out.push(&format!("another server is up after {:.1} s\n", began.elapsed().as_secs_f64()));
                }
                return;
            }
            if began.elapsed() >= self.healthy_deadline {
                out.push(&format!(
                    "warning: no other server of the backend came up on {} within healthy_deadline ({} s); \
                     draining {server} anyway\n",
                    alone.join(", "),
                    self.healthy_deadline.as_secs()
                ));
                return;
            }
            if !said {
                out.push(&format!(
                    "waiting for another server of the backend to be up on {} before draining {server}\n",
                    alone.join(", ")
                ));
                said = true;
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Before a restart: waits for another server to take the requests (if any other is in the
    /// backend), then drains the client.
    pub async fn drain(&self, client: &str, out: &OutputStream) {
        self.wait_for_another_server(&self.server(client), out).await;
        self.drain_to_stop(client, out).await;
    }

    /// Stops new requests to the client on every frontend and waits for its in-flight ones. On
    /// its own when the instance stops: its clients go down whatever the others do.
    pub async fn drain_to_stop(&self, client: &str, out: &OutputStream) {
        let server = self.server(client);
        let began = Instant::now();
        let mut answers = self.ask(&server, FrontendAction::Drain, Some(out)).await;
        let frontends = answers.len();
        loop {
            let in_flight: u64 = answers.iter().filter_map(|a| a.state.sessions).sum();
            if in_flight == 0 {
                out.push(&format!(
                    "drained {client} on {frontends} frontend(s) in {:.1} s\n",
                    began.elapsed().as_secs_f64()
                ));
                return;
            }
            if began.elapsed() >= self.drain_timeout {
                out.push(&format!(
                    "{client} still had {in_flight} request(s) in flight after the drain timeout ({} s); restarting it\n",
                    self.drain_timeout.as_secs()
                ));
                return;
            }
            tokio::time::sleep(POLL).await;
            answers = self.ask(&server, FrontendAction::State, None).await;
        }
    }

    /// Waits until the client answers the health check, then makes it ready on every frontend.
    pub async fn ready(&self, client: &str, out: &OutputStream) -> Result<(), String> {
        let Some((_, address)) = self.clients.iter().find(|(name, _)| name == client) else { return Ok(()) };
        let took = wait_healthy(address, &self.method, &self.url, self.healthy_deadline).await.map_err(|last| {
            format!(
                "{client} did not pass its health check ({} {}) within healthy_deadline ({} s): {last}",
                self.method,
                self.url,
                self.healthy_deadline.as_secs()
            )
        })?;
        let answers = self.ask(&self.server(client), FrontendAction::Ready, Some(out)).await;
        let ready = answers.iter().filter(|a| a.state.error.is_none()).count();
        out.push(&format!("{client} is healthy after {:.1} s; ready on {ready} frontend(s)\n", took.as_secs_f64()));
        Ok(())
    }
}
