//! Enrollment: a join token buys the agent its own credential, saved (mode 0600) in
//! `<root>/var/lib/drover/agent.json` and used from then on. The token comes from a file only
//! its owner can read, or from standard input (`--join-file -`); the file is removed once the
//! agent has enrolled.

use std::os::unix::fs::PermissionsExt;
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
    if std::env::var_os("DROVER_JOIN_TOKEN").is_some() {
        tracing::warn!(
            "DROVER_JOIN_TOKEN is ignored (and not passed on to commands): the environment is readable by other \
             processes; pass the token in a file with --join-file FILE"
        );
    }
    let path = config.state_dir().join("agent.json");
    if let Ok(raw) = std::fs::read(&path) {
        let mut saved: Enrollment = serde_json::from_slice(&raw).map_err(|e| {
            AgentError::Config(format!("{} is damaged ({e}); remove it and join again", path.display()))
        })?;
        if let Some(url) = &config.server_url {
            saved.server_url.clone_from(url);
        }
        if let Some(file) = &config.join_file {
            tracing::info!("already enrolled as {}; --join-file {} is not read", saved.hostname, file.display());
        }
        return Ok(saved);
    }
    let join_file = config.join_file.as_deref().ok_or_else(|| {
        AgentError::Config(
            "this agent has not joined a server yet; save a join token (`drover token create --join --stack STACK`) \
             in a file only you can read and pass --join-file FILE (or pipe it in with --join-file -)"
                .into(),
        )
    })?;
    let raw = read_join_token(join_file).await?;
    let token: Token =
        raw.parse().map_err(|e| AgentError::Config(format!("--join-file {}: {e}", join_file.display())))?;
    if token.kind != TokenKind::Join {
        return Err(AgentError::Config(format!(
            "--join-file {}: that is not a join token; make one with `drover token create --join --stack STACK`",
            join_file.display()
        )));
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
    if join_file != Path::new(STDIN) {
        // Spent (or no longer needed here): it must not linger where other processes look.
        if let Err(e) = std::fs::remove_file(join_file) {
            tracing::warn!("failed to remove the join token file {}: {e}", join_file.display());
        }
    }
    Ok(enrollment)
}

/// `--join-file -`: the token comes from standard input.
const STDIN: &str = "-";

/// The join token from its file (which only its owner may read) or from standard input.
async fn read_join_token(file: &Path) -> Result<String, AgentError> {
    let shown = file.display();
    let raw = if file == Path::new(STDIN) {
        tokio::task::spawn_blocking(|| {
            let mut line = String::new();
            std::io::stdin().read_line(&mut line).map(|_| line)
        })
        .await
        .map_err(|e| AgentError::Io(format!("failed to read the join token from standard input: {e}")))?
        .map_err(|e| AgentError::Io(format!("failed to read the join token from standard input: {e}")))?
    } else {
        let meta = std::fs::metadata(file)
            .map_err(|e| AgentError::Config(format!("--join-file {shown}: failed to read it: {e}")))?;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(AgentError::Config(format!(
                "--join-file {shown}: other users can read or change it (mode {mode:o}); run `chmod 600 {shown}` and start \
                 the agent again"
            )));
        }
        std::fs::read_to_string(file)
            .map_err(|e| AgentError::Config(format!("--join-file {shown}: failed to read it: {e}")))?
    };
    let token = raw.trim().to_owned();
    if token.is_empty() {
        return Err(AgentError::Config(format!("--join-file {shown}: it holds no join token")));
    }
    Ok(token)
}

fn save(path: &Path, enrollment: &Enrollment) -> Result<(), AgentError> {
    let io = |e: std::io::Error| AgentError::Io(format!("failed to save {}: {e}", path.display()));
    let bytes = serde_json::to_vec_pretty(enrollment).map_err(|e| io(std::io::Error::other(e)))?;
    crate::private_file::write_private(path, &bytes).map_err(io)
}
