//! Where the CLI finds its server and token: `DROVER_SERVER` and `DROVER_TOKEN`, or the file
//! `drover login` writes (`$XDG_CONFIG_HOME/drover/login.json` or `~/.config/drover/login.json`,
//! mode 0600). The token carries the CA fingerprint, so no certificate files are needed.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;

use drover_client::Client;
use drover_proto::token::{Token, TokenKind};
use serde::{Deserialize, Serialize};

use crate::cli::LoginArgs;
use crate::exit::{CliResult, Failure, UNREACHABLE};

#[derive(Serialize, Deserialize)]
struct Saved {
    server: String,
    token: String,
    /// The stack commands use when they get no `--stack` and DROVER_STACK is not set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    stack: Option<String>,
}

fn saved() -> Option<Saved> {
    login_file().and_then(|p| std::fs::read(p).ok()).and_then(|raw| serde_json::from_slice(&raw).ok())
}

/// The default stack saved by `drover login --stack`, if any.
pub fn saved_stack() -> Option<String> {
    saved().and_then(|s| s.stack)
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
    let saved = saved();
    let raw = env_token.or_else(|| saved.as_ref().map(|s| s.token.clone())).ok_or_else(|| {
        Failure::new(
            UNREACHABLE,
            "no credentials: set DROVER_TOKEN (the admin token from admin.token in the server's data dir) or run \
             `drover login --token-file FILE`",
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

/// `drover login`: checks the token against the server, then saves it (0600); `--stack` saves the
/// default stack (alone, it changes only that).
pub async fn login(args: LoginArgs) -> CliResult {
    let path = login_file().ok_or_else(|| Failure::usage("neither HOME nor XDG_CONFIG_HOME is set"))?;
    if let Some(stack) = &args.stack {
        drover_core::Shortname::parse(stack)
            .map_err(|e| Failure::usage(format!("--stack: {e}; `drover stack list` lists the stacks")))?;
    }
    let Some(token_file) = args.token_file else {
        let Some(mut saved) = saved() else {
            return Err(Failure::usage("not logged in yet: pass --token-file FILE (admin.token, or - for stdin)"));
        };
        if args.stack.is_none() && args.server.is_none() {
            return Err(Failure::usage("pass --token-file FILE (admin.token, or - for stdin), --stack or --server"));
        }
        saved.stack = args.stack.or(saved.stack);
        saved.server = args.server.unwrap_or(saved.server);
        write_saved(&path, &saved)?;
        println!("default stack: {}; saved in {}", saved.stack.as_deref().unwrap_or("none"), path.display());
        return Ok(crate::exit::OK);
    };
    let raw = if token_file == std::path::Path::new("-") {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
            .map_err(|e| Failure::usage(format!("failed to read the token from standard input: {e}")))?;
        text
    } else {
        std::fs::read_to_string(&token_file)
            .map_err(|e| Failure::usage(format!("failed to read {}: {e}", token_file.display())))?
    };
    let token = parse_admin(raw.trim())?;
    let server = args.server.unwrap_or_else(|| token.server_url.clone());
    let client = Client::new(&server, &token.ca_fingerprint, &token.to_string())?;
    client.stacks().await?;
    let stack = args.stack.or_else(|| saved().and_then(|s| s.stack));
    write_saved(&path, &Saved { server: server.clone(), token: token.to_string(), stack })?;
    println!("logged in to {server}; saved in {}", path.display());
    Ok(crate::exit::OK)
}

/// Writes the login file, readable by its owner only.
fn write_saved(path: &std::path::Path, saved: &Saved) -> CliResult<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)?;
    f.write_all(&serde_json::to_vec_pretty(saved).unwrap_or_default())?;
    Ok(())
}
