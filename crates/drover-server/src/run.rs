//! Start-up: data dir, store, certificates, tokens, listener; then the loops and the API.

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

use drover_proto::token::{Token, TokenKind};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use crate::cluster::Cluster;
use crate::cluster::bus::Outbox;
use crate::config::ServerConfig;
use crate::error::ServerError;
use crate::orchestrator::watch_agents;
use crate::provider::{Ec2Provider, LocalProvider};
use crate::relay::FrontendRelay;
use crate::state::{AppState, AuthKeys, Wakeups};
use crate::store::Store;
use crate::{api, cluster, pki, secrets};

/// Runs the server until SIGINT or SIGTERM. Local agents keep running (the next start re-adopts them).
pub async fn run(config: ServerConfig) -> Result<(), ServerError> {
    crate::serve::raise_open_files_limit();
    let data = config.data_dir.clone();
    // Everything the server and its local agents create is private to this user: the store,
    // its -wal and -shm, keys, tokens, the instances' files (app secrets, deploy.cfg, haproxy.cfg).
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o077));
    std::fs::create_dir_all(&data).map_err(ServerError::io("create", &data))?;
    make_private(&data, 0o700)?;
    // Local agents get paths under the data dir; make them absolute so they hold from any cwd.
    let data = std::fs::canonicalize(&data).map_err(ServerError::io("resolve", &data))?;
    let store = match &config.database {
        None => {
            let path = data.join("drover.db");
            println!("store: SQLite at {}", path.display());
            Store::open(&path).await?
        }
        Some(drover_core::database_url::Database::Postgres(url)) => {
            println!("store: PostgreSQL at {url}");
            Store::connect_postgres(url).await?
        }
    };
    // Files an older server left readable by others (created before the umask above).
    for name in ["drover.db", "drover.db-wal", "drover.db-shm", "admin.token", "join.token", "pki/ca.key"] {
        let path = data.join(name);
        if path.exists() {
            make_private(&path, 0o600)?;
        }
    }

    let listener =
        TcpListener::bind(config.listen).await.map_err(|source| ServerError::Listen { addr: config.listen, source })?;
    let bound = listener.local_addr().map_err(|source| ServerError::Listen { addr: config.listen, source })?;
    let url = config.advertise_url.clone().unwrap_or_else(|| format!("https://{bound}"));

    let database_url = config.database.as_ref().map(|drover_core::database_url::Database::Postgres(url)| url.clone());
    if database_url.is_some() {
        cluster::keys::share_ca(&store, &data.join("pki")).await?;
    }
    let pki = pki::load_or_create(&data.join("pki"), &subject_names(&config, bound.ip(), &url))?;
    let admin = load_or_create_token(&data.join("admin.token"), TokenKind::Admin, &pki.fingerprint, &url)?;
    let admin_hash = match database_url {
        Some(_) => shared_admin_hash(&store, &admin, &data.join("admin.token")).await?,
        None => secrets::hash(&admin.token.secret),
    };
    if admin.created && admin_hash == secrets::hash(&admin.token.secret) {
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
    let ec2 = Ec2Provider::new(store.clone(), url.clone(), pki.fingerprint.clone());
    let config_served_binary = config.served_binary.clone();
    let (outbox, outgoing) = match database_url {
        Some(_) => {
            let (outbox, outgoing) = cluster::bus::outbox();
            (outbox, Some(outgoing))
        }
        None => (Outbox::default(), None),
    };
    let cluster = Arc::new(Cluster::new(url.clone(), outbox.clone(), database_url));
    println!("server id: {}", cluster.id);
    let state = AppState {
        store,
        config: Arc::new(config),
        auth: Arc::new(AuthKeys { admin_hash, ca_fingerprint: pki.fingerprint.clone(), server_url: url.clone() }),
        wakeups: Arc::new(Wakeups::new(outbox.clone())),
        local,
        ec2,
        deploy_gate: Arc::default(),
        configure_events: Arc::default(),
        frontend_relay: Arc::new(FrontendRelay::new(outbox.clone())),
        cancelled: Arc::default(),
        presence: Arc::default(),
        metrics: Arc::default(),
        agent_binary: crate::served_binary::AgentBinary::new(config_served_binary),
        wrong_passwords: Arc::default(),
        cluster,
    };
    state.agent_binary.measure_in_background();
    crate::provider::adopt_local_agents(&state).await?;
    crate::provider::adopt_ec2_machines(&state);
    if let (Some(outgoing), Some(database_url)) = (outgoing, state.cluster.database_url.clone()) {
        let key = cluster::keys::share_bus_key(&state.store).await?;
        tokio::spawn(cluster::bus::publish(state.store.clone(), state.cluster.id.clone(), key.clone(), outgoing));
        tokio::spawn(cluster::bus::listen(state.clone(), database_url, key));
    }
    // The leader's work; a server that leads from the start sweeps before the API answers.
    cluster::leader::start(&state).await?;
    // Each server watches the long-polls it holds and the local agents in its data dir.
    tokio::spawn(watch_agents(state.clone()));
    tokio::spawn(cluster::members::report(state.clone()));

    let limits = state.config.limits;
    let leaving = state.clone();
    let app = crate::console::router(api::router(state.clone()));
    let app = crate::serve::rate_limit::limit_requests(app, limits.rate, state);
    crate::serve::serve(listener, TlsAcceptor::from(pki.tls.clone()), app, limits, shutdown_signal()).await;
    cluster::members::leave(&leaving).await;
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

/// Sets `path`'s mode (the data dir 0700, secret files 0600) unless it is that already.
fn make_private(path: &Path, mode: u32) -> Result<(), ServerError> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(path).map_err(ServerError::io("read", path))?;
    if meta.permissions().mode() & 0o777 != mode {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
            .map_err(ServerError::io("chmod", path))?;
    }
    Ok(())
}

/// The admin token hash the servers on one PostgreSQL store share. This server's own token
/// becomes it when this is the first server; otherwise its file, which no server would accept,
/// goes, and the first server's token works here.
async fn shared_admin_hash(store: &Store, own: &LoadedToken, path: &Path) -> Result<String, ServerError> {
    let shared = cluster::keys::share_admin_hash(store, &own.token.secret).await?;
    if shared != secrets::hash(&own.token.secret) {
        std::fs::remove_file(path).map_err(ServerError::io("remove", path))?;
        println!(
            "Admin token: the one the first server on this database made (its data dir's admin.token) works \
             here too, with DROVER_SERVER set to this server's URL"
        );
    }
    Ok(shared)
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
