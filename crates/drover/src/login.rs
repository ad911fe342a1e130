//! Where the CLI finds its server and token: `DROVER_SERVER` and `DROVER_TOKEN`, or the file
//! `drover login` writes (`$XDG_CONFIG_HOME/drover/login.json` or `~/.config/drover/login.json`,
//! mode 0600). The token carries the CA fingerprint, so no certificate files are needed.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;

use drover_client::Client;
use drover_proto::token::{Token, TokenKind};
use serde::{Deserialize, Serialize};

use crate::exit::{CliResult, Failure, UNREACHABLE};

#[derive(Serialize, Deserialize)]
struct Saved {
    server: String,
    token: String,
}

fn login_file() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("drover/login.json"))
}

fn parse_admin(raw: &str) -> CliResult<Token> {
    let token: Token = raw.parse().map_err(|e| Failure::new(UNREACHABLE, format!("{e}")))?;
    if token.kind == TokenKind::Join {
        return Err(Failure::new(
            UNREACHABLE,
            "that is a join token, for agents; use the admin token (admin.token) or a personal token (`drover token create`)",
        ));
    }
    Ok(token)
}

/// A client from the environment or the saved login.
pub fn client() -> CliResult<Client> {
    let env_token = std::env::var("DROVER_TOKEN").ok().filter(|t| !t.trim().is_empty());
    let saved: Option<Saved> =
        login_file().and_then(|p| std::fs::read(p).ok()).and_then(|raw| serde_json::from_slice(&raw).ok());
    let raw = env_token.or_else(|| saved.as_ref().map(|s| s.token.clone())).ok_or_else(|| {
        Failure::new(
            UNREACHABLE,
            "no credentials: set DROVER_TOKEN (the admin token from admin.token in the server's data dir) or run \
             `drover login --server URL --token TOKEN`",
        )
    })?;
    let token = parse_admin(raw.trim())?;
    let server = std::env::var("DROVER_SERVER")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .or_else(|| saved.map(|s| s.server))
        .unwrap_or_else(|| token.server_url.clone());
    Ok(Client::new(&server, &token.ca_fingerprint, &token.to_string())?)
}

/// `drover login`: checks the token against the server, then saves it.
pub async fn login(server: Option<String>, token: Option<String>, token_file: Option<PathBuf>) -> CliResult {
    let raw = match (token, token_file) {
        (Some(t), _) => t,
        (None, Some(path)) => std::fs::read_to_string(&path)
            .map_err(|e| Failure::usage(format!("failed to read {}: {e}", path.display())))?,
        (None, None) => return Err(Failure::usage("pass --token TOKEN or --token-file PATH (admin.token)")),
    };
    let token = parse_admin(raw.trim())?;
    let server = server.unwrap_or_else(|| token.server_url.clone());
    let client = Client::new(&server, &token.ca_fingerprint, &token.to_string())?;
    client.stacks().await?;
    let path = login_file().ok_or_else(|| Failure::usage("neither HOME nor XDG_CONFIG_HOME is set"))?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&path)?;
    f.write_all(
        &serde_json::to_vec_pretty(&Saved { server: server.clone(), token: token.to_string() }).unwrap_or_default(),
    )?;
    println!("logged in to {server}; saved in {}", path.display());
    Ok(crate::exit::OK)
}
