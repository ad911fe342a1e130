//! Accepting and serving connections, hardened: a connection cap (new connections wait in the
//! kernel's backlog while it is reached), backoff when accepting fails (descriptors or memory ran
//! out), a TLS handshake timeout, header-read and idle timeouts ([`idle`]) and per-credential
//! request limits ([`rate_limit`]).

mod idle;
pub mod rate_limit;
mod unread;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use drover_core::rate_limit::accept_backoff;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use crate::config::ConnectionLimits;

/// How long a client gets to finish the TLS handshake.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// HTTP/2: a ping after this much silence, and the connection is dropped when it goes unanswered
/// for [`H2_PING_TIMEOUT`].
const H2_PING_INTERVAL: Duration = Duration::from_secs(30);
const H2_PING_TIMEOUT: Duration = Duration::from_secs(20);

/// Serves `app` on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    app: Router,
    limits: ConnectionLimits,
    shutdown: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    tracing::info!("serving at most {} connections at once (--max-connections)", limits.max_connections);
    let mut failing = AcceptFailures::default();
    let mut at_cap = false;
    loop {
        if permits.available_permits() == 0 && !at_cap {
            tracing::warn!(
                "{} connections open (--max-connections): new ones wait until one closes",
                limits.max_connections
            );
        }
        at_cap = permits.available_permits() == 0;
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        match accepted {
            Ok((tcp, peer)) => {
                failing.recovered();
                tokio::spawn(serve_connection(tcp, peer, permit, acceptor.clone(), app.clone(), limits));
            }
            Err(e) if is_per_connection(&e) => tracing::debug!("a connection went away before it was accepted: {e}"),
            Err(e) => {
                drop(permit);
                let pause = failing.failed(&e);
                tokio::select! {
                    () = tokio::time::sleep(pause) => {},
                    () = &mut shutdown => break,
                }
            }
        }
    }
}

/// A burst of failed accepts: logged once when it starts and once when it ends.
#[derive(Default)]
struct AcceptFailures {
    pause: Option<Duration>,
    count: u64,
}

impl AcceptFailures {
    fn failed(&mut self, e: &std::io::Error) -> Duration {
        if self.count == 0 {
            tracing::warn!(
                "failed to accept a connection ({e}); pausing between tries until it works again \
                 (out of file descriptors? raise the server's `ulimit -n` or lower --max-connections)"
            );
        }
        self.count += 1;
        let pause = accept_backoff(self.pause);
        self.pause = Some(pause);
        pause
    }

    fn recovered(&mut self) {
        if self.count > 0 {
            tracing::warn!("accepting connections again after {} failed tries", self.count);
        }
        *self = Self::default();
    }
}

/// Errors about one connection that left (the next accept is unaffected), as opposed to the
/// server lacking descriptors or memory, which call for a pause.
fn is_per_connection(e: &std::io::Error) -> bool {
    use std::io::ErrorKind as K;
    matches!(e.kind(), K::ConnectionAborted | K::ConnectionReset | K::Interrupted)
        || e.raw_os_error() == Some(libc::EPROTO)
}

async fn serve_connection(
    tcp: TcpStream,
    peer: SocketAddr,
    permit: OwnedSemaphorePermit,
    acceptor: TlsAcceptor,
    app: Router,
    limits: ConnectionLimits,
) {
    let _permit = permit;
    // Responses go out in several writes (TLS records, HTTP/2 frames): without this, Nagle's
    // algorithm holds the last one until the client's delayed ACK, 40 ms later.
    if let Err(e) = tcp.set_nodelay(true) {
        tracing::debug!(%peer, "failed to set TCP_NODELAY: {e}");
    }
    let tls = match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
        Ok(Ok(tls)) => tls,
        Ok(Err(e)) => return tracing::debug!(%peer, "TLS handshake failed: {e}"),
        Err(_) => return tracing::debug!(%peer, "TLS handshake timed out"),
    };
    let h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
    // HTTP/2 ends only the stream of a request whose body was not read; HTTP/1 the connection.
    let app = if h2 { app } else { app.layer(axum::middleware::from_fn(unread::close_when_unread)) };
    // Every request knows its peer (the request limits key on it when there is no credential).
    let app = app.map_request(move |mut req: axum::http::Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(peer));
        req
    });
    let service = TowerToHyperService::new(app);
    let (io, activity) = idle::Counted::new(tls);
    let served = if h2 {
        hyper::server::conn::http2::Builder::new(TokioExecutor::new())
            .timer(TokioTimer::new())
            .keep_alive_interval(H2_PING_INTERVAL)
            .keep_alive_timeout(H2_PING_TIMEOUT)
            .serve_connection(TokioIo::new(io), service)
            .await
    } else {
        hyper::server::conn::http1::Builder::new()
            .timer(idle::HeadTimer::new(activity, limits.idle_timeout))
            .header_read_timeout(limits.header_read_timeout)
            .serve_connection(TokioIo::new(io), service)
            .await
    };
    if let Err(e) = served {
        tracing::debug!(%peer, "connection ended: {e}");
    }
}

/// Descriptors kept back from connections: the store, logs, pid files, children's pipes.
const RESERVED_DESCRIPTORS: u64 = 256;

/// The connection cap when none is given: the open-files limit (raised to its hard limit
/// first) less [`RESERVED_DESCRIPTORS`], at least 64.
pub fn default_max_connections() -> usize {
    use nix::sys::resource::{Resource, getrlimit};
    raise_open_files_limit();
    let soft = getrlimit(Resource::RLIMIT_NOFILE).map(|(soft, _)| soft).unwrap_or(4096);
    usize::try_from(soft.saturating_sub(RESERVED_DESCRIPTORS).clamp(64, 1 << 20)).unwrap_or(4096)
}

/// Raises this process's soft limit on open files to its hard limit, so the connection cap and
/// not the descriptor limit decides how many clients are served.
pub fn raise_open_files_limit() {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    match getrlimit(Resource::RLIMIT_NOFILE) {
        Ok((soft, hard)) if soft < hard => match setrlimit(Resource::RLIMIT_NOFILE, hard, hard) {
            Ok(()) => tracing::debug!("raised the open files limit from {soft} to {hard}"),
            Err(e) => tracing::warn!("failed to raise the open files limit from {soft} to {hard}: {e}"),
        },
        Ok(_) => {}
        Err(e) => tracing::warn!("failed to read the open files limit: {e}"),
    }
}
