//! Per-credential request limits: one token bucket (core `rate_limit`) per bearer credential
//! (its SHA-256; an agent's credential is its instance's), per peer address for requests without
//! one. A credential the server has not accepted yet needs its address to have a token left, and
//! costs it one when it is refused (401), so guessing tokens from one address is limited too;
//! valid credentials never spend their address's bucket, so thousands of agents behind one
//! address (a NAT, a proxy) all get back in after a restart, when none is known yet. Over the
//! limit: 429 in the API's error shape, with
//! `Retry-After`; the first refusal of a token or address in [`AUDIT_EVERY`] goes to the audit
//! trail.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use drover_core::rate_limit::{Bucket, Decision, Limit, can_forget, retry_after_secs, take};
use drover_proto::{ApiError, ErrorCode};
use sha2::{Digest, Sha256};

use crate::api::Failure;
use crate::state::AppState;

/// How often buckets that are full again are dropped.
const PRUNE_EVERY: Duration = Duration::from_secs(60);
/// At most one audit entry per token or address in this time, however many requests it floods.
pub const AUDIT_EVERY: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Key {
    Credential([u8; 32]),
    Peer(IpAddr),
}

struct Entry {
    bucket: Bucket,
    /// The server answered a request with this credential with something other than 401.
    known: bool,
    /// When a refusal of this key was last recorded in the audit trail.
    audited: Option<f64>,
}

struct Buckets {
    entries: HashMap<Key, Entry>,
    pruned: f64,
}

/// The buckets of every credential and address seen recently.
struct Limits {
    limit: Limit,
    start: Instant,
    buckets: Mutex<Buckets>,
}

/// The limits, and the state refusals are recorded in.
pub struct RateLimiter {
    state: AppState,
    limits: Limits,
}

/// Applies `limit` to every request of `app` (a limit of 0 per second leaves it as it is).
pub fn limit_requests(app: Router, limit: Limit, state: AppState) -> Router {
    if !limit.is_on() {
        return app;
    }
    let limiter = Arc::new(RateLimiter { state, limits: Limits::new(limit) });
    app.layer(axum::middleware::from_fn_with_state(limiter, check))
}

async fn check(State(limiter): State<Arc<RateLimiter>>, req: Request, next: Next) -> Response {
    let credential =
        req.headers().get(header::AUTHORIZATION).map(|value| Key::Credential(Sha256::digest(value.as_bytes()).into()));
    let peer = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(addr)| Key::Peer(addr.ip()));
    let limits = &limiter.limits;
    if let Err(refused) = limits.take(credential, peer) {
        tracing::debug!(?peer, path = req.uri().path(), "refused a request over the rate limit");
        if refused.audit {
            let (parts, _) = req.into_parts();
            let outcome = format!(
                "over the rate limit; further refusals of this token or address within {} s are not recorded",
                AUDIT_EVERY.as_secs()
            );
            crate::api::audit::record_throttled(&limiter.state, &parts, outcome).await;
        }
        return too_many(limits.limit, refused.wait);
    }
    let response = next.run(req).await;
    match (credential, peer) {
        (Some(_), Some(peer)) if response.status() == StatusCode::UNAUTHORIZED => limits.refused_credential(peer),
        (Some(credential), _) if response.status() != StatusCode::UNAUTHORIZED => limits.known(credential),
        _ => {}
    }
    response
}

impl Limits {
    fn new(limit: Limit) -> Self {
        Self { limit, start: Instant::now(), buckets: Mutex::new(Buckets { entries: HashMap::new(), pruned: 0.0 }) }
    }

    fn now(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Buckets> {
        self.buckets.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes a token for the request from its credential's bucket, or from its address's when
    /// it has none. A credential not known to be good also needs a token left in its address's
    /// bucket (not taken: [`Self::refused_credential`] takes it if the credential is refused).
    fn take(&self, credential: Option<Key>, peer: Option<Key>) -> Result<(), Refused> {
        let now = self.now();
        let limit = self.limit;
        let mut buckets = self.lock();
        if now - buckets.pruned >= PRUNE_EVERY.as_secs_f64() {
            buckets.entries.retain(|_, e| !can_forget(e.bucket, limit, e.known, now));
            buckets.pruned = now;
        }
        // Whether the key's bucket has a token (taken when `spend`), and whether it is known.
        let mut charge = |key: Key, spend: bool| {
            let entry = buckets.entries.entry(key).or_insert_with(|| Entry {
                bucket: Bucket::full(limit, now),
                known: false,
                audited: None,
            });
            let known = entry.known;
            let mut bucket = entry.bucket;
            match take(&mut bucket, limit, now) {
                Decision::Allowed => {
                    if spend {
                        entry.bucket = bucket;
                    }
                    Ok(known)
                }
                Decision::Refused { retry_after } => {
                    let audit = entry.audited.is_none_or(|at| now - at >= AUDIT_EVERY.as_secs_f64());
                    if audit {
                        entry.audited = Some(now);
                    }
                    Err(Refused { wait: retry_after, audit })
                }
            }
        };
        match (credential, peer) {
            (Some(credential), peer) => {
                let known = charge(credential, true)?;
                match peer {
                    Some(peer) if !known => charge(peer, false).map(|_| ()),
                    _ => Ok(()),
                }
            }
            (None, Some(peer)) => charge(peer, true).map(|_| ()),
            (None, None) => Ok(()),
        }
    }

    /// A credential from this address was refused: the address pays a token for the guess.
    fn refused_credential(&self, peer: Key) {
        let now = self.now();
        if let Some(entry) = self.lock().entries.get_mut(&peer) {
            let _ = take(&mut entry.bucket, self.limit, now);
        }
    }

    fn known(&self, credential: Key) {
        if let Some(entry) = self.lock().entries.get_mut(&credential) {
            entry.known = true;
        }
    }
}

/// A refused request: when to retry, and whether to record it in the audit trail.
struct Refused {
    wait: Duration,
    audit: bool,
}

fn too_many(limit: Limit, wait: Duration) -> Response {
    let secs = retry_after_secs(wait);
    let message = format!(
        "too many requests with this token, or from this address without a valid one (the server allows {} \
         per second, in bursts of {}); retry in {secs} s",
        limit.per_second, limit.burst
    );
    let mut response = Failure(ApiError::new(ErrorCode::TooManyRequests, message)).into_response();
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
    response
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    const LIMIT: Limit = Limit { per_second: 0.001, burst: 10.0 };
    const NAT: Key = Key::Peer(IpAddr::V4(Ipv4Addr::new(203, 0, 113, 7)));

    fn credential(n: u8) -> Key {
        Key::Credential([n; 32])
    }

    /// After a restart no credential is known: the agents behind one address all get in, and
    /// their address keeps its tokens (they once spent them, and most were refused with 429).
    #[test]
    fn valid_unknown_credentials_from_one_address_do_not_spend_it() {
        let limits = Limits::new(LIMIT);
        for n in 0..100 {
            assert!(limits.take(Some(credential(n)), Some(NAT)).is_ok(), "agent {n} refused");
            limits.known(credential(n));
        }
        for _ in 0..10 {
            assert!(limits.take(None, Some(NAT)).is_ok(), "the address still has its burst");
        }
        assert!(limits.take(None, Some(NAT)).is_err(), "and then it is spent");
    }

    /// Guessing: each refused credential costs its address a token; once spent, another unknown
    /// credential from there is refused before it is looked at, and a known one still gets in.
    #[test]
    fn refused_credentials_spend_their_address() {
        let limits = Limits::new(LIMIT);
        assert!(limits.take(Some(credential(200)), Some(NAT)).is_ok());
        limits.known(credential(200));
        for n in 0..10 {
            assert!(limits.take(Some(credential(n)), Some(NAT)).is_ok(), "guess {n} is looked at");
            limits.refused_credential(NAT);
        }
        assert!(limits.take(Some(credential(50)), Some(NAT)).is_err(), "the address is spent");
        assert!(limits.take(Some(credential(200)), Some(NAT)).is_ok(), "a known credential is not limited by it");
    }

    /// A credential's own bucket limits it, known or not.
    #[test]
    fn a_credential_has_its_own_burst() {
        let limits = Limits::new(LIMIT);
        for _ in 0..10 {
            assert!(limits.take(Some(credential(1)), Some(NAT)).is_ok());
            limits.known(credential(1));
        }
        assert!(limits.take(Some(credential(1)), Some(NAT)).is_err());
        assert!(limits.take(Some(credential(2)), Some(NAT)).is_ok(), "another credential is unaffected");
    }
}
