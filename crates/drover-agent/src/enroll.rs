//! Enrollment: the join token buys the agent its own credential, saved (mode 0600) in
//! `<root>/var/lib/drover/agent.json` and used from then on.

use std::path::Path;

use drover_client::AgentClient;
use drover_proto::agent::{EnrollRequest, HostFacts};
use drover_proto::token::{Token, TokenKind};
use serde::{Deserialize, Serialize};

use crate::config::AgentConfig;
use crate::run::AgentError;

/// What the agent keeps after enrolling.
#[derive(Clone, Serialize, Deserialize)]
pub struct Enrollment {
    /// The server URL.
    pub server_url: String,
    /// The pinned CA fingerprint.
    pub ca_fingerprint: String,
    /// The agent's own credential.
    pub credential: String,
    /// The stack.
    pub stack: String,
    /// This instance's hostname.
    pub hostname: String,
}

/// The saved enrollment, or a new one made with the join token.
pub async fn load_or_enroll(config: &AgentConfig, facts: &HostFacts) -> Result<Enrollment, AgentError> {
    let path = config.state_dir().join("agent.json");
    if let Ok(raw) = std::fs::read(&path) {
        let mut saved: Enrollment = serde_json::from_slice(&raw).map_err(|e| {
            AgentError::Config(format!("{} is damaged ({e}); remove it and join again", path.display()))
        })?;
        if let Some(url) = &config.server_url {
            saved.server_url.clone_from(url);
        }
        return Ok(saved);
    }
    let raw = config.join_token.as_deref().ok_or_else(|| {
        AgentError::Config("this agent has not joined a server yet; pass --join TOKEN (from join.token)".into())
    })?;
    let token: Token = raw.parse().map_err(|e| AgentError::Config(format!("{e}")))?;
    if token.kind != TokenKind::Join {
        return Err(AgentError::Config("that is not a join token; use the one in join.token".into()));
    }
    let stack = config.stack.clone().ok_or_else(|| AgentError::Config("pass --stack NAME to join a stack".into()))?;
    let server_url = config.server_url.clone().unwrap_or(token.server_url.clone());
    let client = AgentClient::new(&server_url, &token.ca_fingerprint, &token.to_string())?;
    let req =
        EnrollRequest { instance: config.instance.clone(), stack, layers: config.layers.clone(), facts: facts.clone() };
    let resp = crate::backoff::retry_until_accepted("enroll", None, || client.enroll(&req)).await?;
    let enrollment = Enrollment {
        server_url,
        ca_fingerprint: token.ca_fingerprint,
        credential: resp.credential,
        stack: resp.stack,
        hostname: resp.hostname,
    };
    save(&path, &enrollment)?;
    tracing::info!(instance = %enrollment.hostname, "enrolled");
    Ok(enrollment)
}

fn save(path: &Path, enrollment: &Enrollment) -> Result<(), AgentError> {
    let io = |e: std::io::Error| AgentError::Io(format!("failed to save {}: {e}", path.display()));
    let bytes = serde_json::to_vec_pretty(enrollment).map_err(|e| io(std::io::Error::other(e)))?;
    crate::private_file::write_private(path, &bytes).map_err(io)
}
