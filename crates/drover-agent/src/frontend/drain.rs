//! Restarts behind a frontend: once another server of the backend is up, each running client is
//! drained on every frontend (no new requests; in-flight ones finish, up to
//! `plone_instances.drain_timeout`), restarted, checked directly with the frontend's health
//! check, and made ready again only once healthy (within `plone_instances.healthy_deadline`, or
//! the restart fails).

use std::time::Duration;

use drover_core::frontend::{RUNTIME_PORT, server_name};
use serde_json::Value;
use tokio::time::Instant;

use drover_core::deploy::restart_plan::RestartPolicy;

use super::runtime;
use crate::health::wait_healthy;
use crate::output::OutputStream;

/// HAProxy's backend of ZEO clients.
const BACKEND: &str = "plone";

/// What a restart waits on.
pub struct Gate {
    /// Runtime API addresses of the online frontends.
    frontends: Vec<String>,
    /// This instance.
    hostname: String,
    /// Client name → its `address:port`.
    clients: Vec<(String, String)>,
    drain_timeout: Duration,
    healthy_deadline: Duration,
    method: String,
    url: String,
}

impl Gate {
    /// The gate for this instance's clients, from the stack configuration (the online
    /// frontends) and the restart policy the server sent; none without an online frontend.
    pub fn new(stack_config: &Value, clients: Vec<(String, String)>, policy: &RestartPolicy) -> Option<Self> {
        let opsworks = stack_config.get("opsworks")?;
        let mut frontends: Vec<String> = opsworks
            .get("layers")?
            .as_object()?
            .values()
            .filter(|l| l["type"] == "frontend")
            .filter_map(|l| l["instances"].as_object())
            .flat_map(|members| members.values())
            .filter_map(|i| i["private_ip"].as_str().map(|ip| format!("{ip}:{RUNTIME_PORT}")))
            .collect();
        frontends.sort();
        frontends.dedup();
        if frontends.is_empty() {
            return None;
        }
        Some(Self {
            frontends,
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

    async fn on_every_frontend(&self, command: &str, out: &OutputStream) {
        for frontend in &self.frontends {
            match runtime::tcp(frontend, command).await {
                Ok(answer) if answer.trim().is_empty() => {}
                Ok(answer) => out.push(&format!("{frontend}: {command}: {}\n", answer.trim())),
                Err(e) => out.push(&format!("warning: {e}\n")),
            }
        }
    }

    /// Waits (up to `healthy_deadline`) until, on every frontend, another server of the backend
    /// takes requests, so that draining `server` leaves the site answering: right after a first
    /// deploy, or after a crash, the other clients may still be starting.
    async fn wait_for_another_server(&self, server: &str, out: &OutputStream) {
        let began = Instant::now();
        let mut said = false;
        loop {
            let mut alone = Vec::new();
            for frontend in &self.frontends {
                let csv = runtime::tcp(frontend, "show stat").await.unwrap_or_default();
                match runtime::others(&csv, BACKEND, server) {
                    Some(o) if o.total > 0 && o.serving == 0 => alone.push(frontend.as_str()),
                    _ => {}
                }
            }
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
            tokio::time::sleep(Duration::from_millis(250)).await;
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
        self.on_every_frontend(&format!("set server {BACKEND}/{server} state drain"), out).await;
        loop {
            let mut in_flight = 0;
            for frontend in &self.frontends {
                if let Ok(csv) = runtime::tcp(frontend, "show stat").await {
                    in_flight += runtime::server_stat(&csv, BACKEND, &server).map_or(0, |(scur, _)| scur);
                }
            }
            if in_flight == 0 {
                out.push(&format!(
                    "drained {client} on {} frontend(s) in {:.1} s\n",
                    self.frontends.len(),
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
            tokio::time::sleep(Duration::from_millis(100)).await;
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
        let server = self.server(client);
        self.on_every_frontend(&format!("set server {BACKEND}/{server} health up"), out).await;
        self.on_every_frontend(&format!("set server {BACKEND}/{server} state ready"), out).await;
        out.push(&format!("{client} is healthy after {:.1} s; ready on the frontends\n", took.as_secs_f64()));
        Ok(())
    }
}
