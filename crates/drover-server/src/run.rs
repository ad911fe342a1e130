//! Start-up: data dir, store, certificates, tokens, listener; then the loops and the API.

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

use drover_proto::token::{Token, TokenKind};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use crate::config::ServerConfig;
use crate::error::ServerError;
use crate::orchestrator::{release_configures, watch_heartbeats};
use crate::provider::LocalProvider;
use crate::state::{AppState, AuthKeys, Wakeups};
use crate::store::Store;
use crate::{api, pki, secrets};

/// Runs the server until SIGINT or SIGTERM. Local agents keep running (the next start re-adopts them).
pub async fn run(config: ServerConfig) -> Result<(), ServerError> {
    let data = config.data_dir.clone();
    std::fs::create_dir_all(&data).map_err(ServerError::io("create", &data))?;
    // Local agents get paths under the data dir; make them absolute so they hold from any cwd.
    let data = std::fs::canonicalize(&data).map_err(ServerError::io("resolve", &data))?;
    let store = Store::open(&data.join("drover.db")).await?;

    let listener =
        TcpListener::bind(config.listen).await.map_err(|source| ServerError::Listen { addr: config.listen, source })?;
    let bound = listener.local_addr().map_err(|source| ServerError::Listen { addr: config.listen, source })?;
    let url = config.advertise_url.clone().unwrap_or_else(|| format!("https://{bound}"));

    let pki = pki::load_or_create(&data.join("pki"), &subject_names(&config, bound.ip(), &url))?;
    let admin = load_or_create_token(&data.join("admin.token"), TokenKind::Admin, &pki.fingerprint, &url)?;
    if admin.created {
        println!("Admin token (also in {}):\n  {}", data.join("admin.token").display(), admin.token);
    }
    retire_server_wide_join_token(&data.join("join.token"));
    println!("drover server listening on {url}");

    let local = LocalProvider::new(
        data.clone(),
        config.agent_binary.clone(),
        url.clone(),
        pki.fingerprint.clone(),
        store.clone(),
        config.agent_heartbeat_interval,
    );
    let state = AppState {
        store,
        config: Arc::new(config),
        auth: Arc::new(AuthKeys {
            admin_hash: secrets::hash(&admin.token.secret),
            ca_fingerprint: pki.fingerprint.clone(),
            server_url: url.clone(),
        }),
        wakeups: Arc::new(Wakeups::new()),
        local,
        deploy_gate: Arc::default(),
        configure_events: Arc::default(),
    };
    crate::provider::adopt_local_agents(&state).await?;
    // Before the API answers, so no agent's report races the follow-ups it re-runs.
    crate::orchestrator::sweep(&state).await?;
    tokio::spawn(watch_heartbeats(state.clone()));
    tokio::spawn(release_configures(state.clone()));

    let app = api::router(state);
    let acceptor = TlsAcceptor::from(pki.tls.clone());
    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    tracing::warn!("failed to accept a connection: {e}");
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let acceptor = acceptor.clone();
        let service = TowerToHyperService::new(app.clone());
        tokio::spawn(async move {
            let tls = match tokio::time::timeout(std::time::Duration::from_secs(10), acceptor.accept(tcp)).await {
                Ok(Ok(tls)) => tls,
                Ok(Err(e)) => return tracing::debug!(%peer, "TLS handshake failed: {e}"),
                Err(_) => return tracing::debug!(%peer, "TLS handshake timed out"),
            };
            if let Err(e) = auto::Builder::new(TokioExecutor::new()).serve_connection(TokioIo::new(tls), service).await
            {
                tracing::debug!(%peer, "connection ended: {e}");
            }
        });
    }
    println!("drover server stopped");
    Ok(())
}

fn subject_names(config: &ServerConfig, bound: IpAddr, url: &str) -> Vec<String> {
    let mut names = vec!["localhost".to_owned(), "127.0.0.1".to_owned(), "::1".to_owned()];
    if !bound.is_unspecified() {
        names.push(bound.to_string());
    }
    let host = url.trim_start_matches("https://").split('/').next().unwrap_or_default();
    let host = host.rsplit_once(':').map_or(host, |(h, _)| h).trim_start_matches('[').trim_end_matches(']');
    names.push(host.to_owned());
    names.extend(config.extra_sans.iter().cloned());
    names.sort();
    names.dedup();
    names.retain(|n| !n.is_empty());
    names
}

struct LoadedToken {
    token: Token,
    created: bool,
}

/// Reads a token file, refreshing its URL and fingerprint; makes a new secret if there is none
/// (deleting the file rotates the token).
fn load_or_create_token(
    path: &Path,
    kind: TokenKind,
    fingerprint: &str,
    url: &str,
) -> Result<LoadedToken, ServerError> {
    let existing = std::fs::read_to_string(path).ok().and_then(|raw| raw.trim().parse::<Token>().ok());
    let created = existing.is_none();
    let secret = existing.map(|t| t.secret).unwrap_or_else(secrets::generate);
    let token = Token { kind, ca_fingerprint: fingerprint.to_owned(), secret, server_url: url.to_owned() };
    secrets::write_private(path, &format!("{token}\n"))?;
    Ok(LoadedToken { token, created })
}

/// Servers before scoped join tokens kept one join token that enrolled into any stack and layer
/// (`join.token`). It opens nothing any more; the file goes, so nobody hands it out believing it
/// does.
fn retire_server_wide_join_token(path: &Path) {
    if path.exists() {
        match std::fs::remove_file(path) {
            Ok(()) => println!(
                "Removed {}: join tokens are now made per stack with `drover token create --join`",
                path.display()
            ),
            Err(e) => tracing::warn!("failed to remove the old {}: {e}", path.display()),
        }
    }
}

async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => {},
        _ = int.recv() => {},
    }
}
