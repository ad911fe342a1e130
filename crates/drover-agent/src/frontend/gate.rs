//! Restarts behind a frontend: once another server of the backend is up, each running client is
//! drained on every frontend (no new requests; in-flight ones finish, up to
//! `plone_instances.drain_timeout`), restarted, checked directly with the frontend's health
//! check, and made ready again only once healthy (within `plone_instances.healthy_deadline`, or
//! the restart fails).

use std::time::Duration;

use drover_core::frontend::{RUNTIME_PORT, server_name};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;

use super::runtime;
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

fn seconds(v: &Value, default: f64) -> Duration {
    Duration::from_secs_f64(v.as_f64().filter(|n| n.is_finite() && *n >= 0.0).unwrap_or(default))
}

impl Gate {
    /// The gate for this instance's clients, from the stack configuration; none without an
    /// online frontend.
    pub fn new(stack_config: &Value, clients: Vec<(String, String)>) -> Option<Self> {
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
        let pi = &stack_config["plone_instances"];
        let haproxy = &stack_config["haproxy"];
        Some(Self {
            frontends,
            hostname: opsworks["instance"]["hostname"].as_str()?.to_owned(),
            clients,
            drain_timeout: seconds(&pi["drain_timeout"], 30.0),
            healthy_deadline: seconds(&pi["healthy_deadline"], 120.0),
            method: haproxy["health_check_method"].as_str().unwrap_or("HEAD").to_owned(),
            url: haproxy["health_check_url"].as_str().unwrap_or("/").to_owned(),
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
        let began = Instant::now();
        let mut last;
        loop {
            match probe(address, &self.method, &self.url).await {
                Ok(status) if (200..400).contains(&status) => break,
                Ok(status) => last = format!("HTTP {status}"),
                Err(e) => last = e,
            }
            if began.elapsed() >= self.healthy_deadline {
                return Err(format!(
                    "{client} did not pass its health check ({} {}) within healthy_deadline ({} s): {last}",
                    self.method,
                    self.url,
                    self.healthy_deadline.as_secs()
                ));
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        let server = self.server(client);
        self.on_every_frontend(&format!("set server {BACKEND}/{server} health up"), out).await;
        self.on_every_frontend(&format!("set server {BACKEND}/{server} state ready"), out).await;
        out.push(&format!(
            "{client} is healthy after {:.1} s; ready on the frontends\n",
            began.elapsed().as_secs_f64()
        ));
        Ok(())
    }
}

/// One health-check request straight to the client; its HTTP status.
async fn probe(address: &str, method: &str, url: &str) -> Result<u16, String> {
    let call = async {
        let mut stream = tokio::net::TcpStream::connect(address).await?;
        let request = format!("{method} {url} HTTP/1.0\r\nHost: {address}\r\nUser-Agent: drover-health\r\n\r\n");
        stream.write_all(request.as_bytes()).await?;
        let mut head = vec![0u8; 64];
        let n = stream.read(&mut head).await?;
        Ok::<_, std::io::Error>(String::from_utf8_lossy(&head[..n]).into_owned())
    };
    let head = match tokio::time::timeout(Duration::from_secs(5), call).await {
        Ok(Ok(head)) => head,
        Ok(Err(e)) => return Err(e.to_string()),
        Err(_) => return Err("no answer within 5 s".into()),
    };
    head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).ok_or_else(|| format!("not HTTP: {head:?}"))
}
