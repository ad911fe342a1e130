//! Per-credential request limits: one token bucket (core `rate_limit`) per bearer credential
//! (its SHA-256; an agent's credential is its instance's), per peer address for requests without
//! one. A credential the server has not accepted yet also costs its address a token, so guessing
//! tokens from one address is limited too. Over the limit: 429 in the API's error shape, with
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
pub struct RateLimiter {
    state: AppState,
    limit: Limit,
    start: Instant,
    buckets: Mutex<Buckets>,
}

/// Applies `limit` to every request of `app` (a limit of 0 per second leaves it as it is).
pub fn limit_requests(app: Router, limit: Limit, state: AppState) -> Router {
    if !limit.is_on() {
        return app;
    }
    let limiter = Arc::new(RateLimiter {
        state,
        limit,
        start: Instant::now(),
        buckets: Mutex::new(Buckets { entries: HashMap::new(), pruned: 0.0 }),
    });
    app.layer(axum::middleware::from_fn_with_state(limiter, check))
}

async fn check(State(limiter): State<Arc<RateLimiter>>, req: Request, next: Next) -> Response {
    let credential =
        req.headers().get(header::AUTHORIZATION).map(|value| Key::Credential(Sha256::digest(value.as_bytes()).into()));
    let peer = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(addr)| Key::Peer(addr.ip()));
    if let Err(refused) = limiter.take(credential, peer) {
        tracing::debug!(?peer, path = req.uri().path(), "refused a request over the rate limit");
        if refused.audit {
            let (parts, _) = req.into_parts();
            let outcome = format!(
                "over the rate limit; further refusals of this token or address within {} s are not recorded",
                AUDIT_EVERY.as_secs()
            );
            crate::api::audit::record_throttled(&limiter.state, &parts, outcome).await;
        }
        return too_many(limiter.limit, refused.wait);
    }
    let response = next.run(req).await;
    if let Some(credential) = credential
        && response.status() != StatusCode::UNAUTHORIZED
    {
        limiter.known(credential);
    }
    response
}

impl RateLimiter {
    fn now(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Buckets> {
        self.buckets.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes a token for the request: from its credential's bucket, and from its address's
    /// when the credential is not known to be good (or there is none).
    fn take(&self, credential: Option<Key>, peer: Option<Key>) -> Result<(), Refused> {
        let now = self.now();
        let limit = self.limit;
        let mut buckets = self.lock();
        if now - buckets.pruned >= PRUNE_EVERY.as_secs_f64() {
            buckets.entries.retain(|_, e| !can_forget(e.bucket, limit, e.known, now));
            buckets.pruned = now;
        }
        let mut charge = |key: Key| {
            let entry = buckets.entries.entry(key).or_insert_with(|| Entry {
                bucket: Bucket::full(limit, now),
                known: false,
                audited: None,
            });
            let known = entry.known;
            match take(&mut entry.bucket, limit, now) {
                Decision::Allowed => Ok(known),
                Decision::Refused { retry_after } => {
                    let audit = entry.audited.is_none_or(|at| now - at >= AUDIT_EVERY.as_secs_f64());
                    if audit {
                        entry.audited = Some(now);
                    }
                    Err(Refused { wait: retry_after, audit })
                }
            }
        };
        let known = match credential {
            Some(key) => charge(key)?,
            None => false,
        };
        match peer {
            Some(peer) if !known => charge(peer).map(|_| ()),
            _ => Ok(()),
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
